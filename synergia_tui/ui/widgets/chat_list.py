"""The sidebar's two parts: the filter box and the list of chats (one line each)."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input, OptionList

# Ask for the next page when the highlight or the scroll position is this close to the end.
PAGE_AHEAD = 8


class ChatFilter(Input):
    """The filter box; escape leaves it (for the prompt) rather than stopping anything."""

    BINDINGS = [
        Binding("escape", "leave", "Back to the prompt", show=False, id="sidebar.leave_filter"),
    ]

    class Left(Message):
        """The user pressed escape in the filter."""

    def action_leave(self) -> None:
        self.post_message(self.Left())


class ChatList(OptionList):
    """The chats as options (one line each); asks for more as the user nears the end."""

    BINDINGS = [
        Binding("delete", "screen.delete_chat", "Delete chat", show=False, id="sidebar.delete"),
        Binding("r", "screen.restore_chat", "Restore chat", show=False, id="sidebar.restore"),
    ]

    class NearEnd(Message):
        """The user scrolled or moved close to the last loaded chat."""

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self.max_scroll_y and new_value >= self.max_scroll_y - PAGE_AHEAD:
            self.post_message(self.NearEnd())

    def _on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_index >= self.option_count - PAGE_AHEAD:
            self.post_message(self.NearEnd())
