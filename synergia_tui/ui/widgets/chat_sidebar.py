"""The chat sidebar: a filter box over a lazily paged list of the user's chats."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from synergia_tui.core.safe_text import one_line
from synergia_tui.ui.format import relative_time

if TYPE_CHECKING:
    from synergia_tui.models import ChatRead

# Ask for the next page when the highlight or the scroll position is this close to the end.
PAGE_AHEAD = 8


LIVE_MARK = "●"
"""Shown beside a chat whose reply is streaming."""


class ChatList(OptionList):
    """The chats as options (one line each); asks for more as the user nears the end."""

    BINDINGS = [
        Binding("delete", "screen.delete_chat", "Delete chat", show=False, id="sidebar.delete"),
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


class ChatSidebar(Vertical):
    """Shows chats its parent hands it; posts what the user does.

    The parent calls ``show_chats`` (a fresh first page), ``append_chats`` (the next page),
    ``upsert_chat`` and ``remove_chat``; it hears ``FilterChanged``, ``MoreWanted`` and
    ``ChatChosen``. ``now`` is the clock used for the relative times.
    """

    @dataclass
    class FilterChanged(Message):
        """The filter text changed; the parent reloads from the database."""

        query: str

    class MoreWanted(Message):
        """The user is near the end of the loaded chats and more exist."""

    @dataclass
    class ChatChosen(Message):
        """The user picked a chat to open."""

        chat: ChatRead

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.chats: list[ChatRead] = []
        self.has_more = False
        self.now: datetime | None = None
        self._live_chats: frozenset[uuid.UUID] = frozenset()

    @property
    def live_chats(self) -> frozenset[uuid.UUID]:
        """Chats with a reply streaming now; they are marked in the list."""
        return self._live_chats

    @live_chats.setter
    def live_chats(self, chats: set[uuid.UUID] | frozenset[uuid.UUID]) -> None:
        changed = frozenset(chats) ^ self._live_chats
        self._live_chats = frozenset(chats)
        for index, chat in enumerate(self.chats):
            if chat.id in changed:
                self.chat_list.replace_option_prompt_at_index(index, self._prompt(chat))

    def compose(self) -> ComposeResult:
        yield Input(placeholder="Filter chats…", id="chat-filter", compact=True)
        yield ChatList(id="chat-list", markup=False, compact=True)
        yield Static("", id="chat-list-empty", markup=False)

    @property
    def chat_list(self) -> ChatList:
        return self.query_one(ChatList)

    @property
    def highlighted_chat(self) -> ChatRead | None:
        index = self.chat_list.highlighted
        return self.chats[index] if index is not None and index < len(self.chats) else None

    def set_loading(self, loading: bool) -> None:
        self.chat_list.loading = loading

    def show_chats(self, chats: list[ChatRead], *, has_more: bool, query: str = "") -> None:
        """Replace the list with a fresh first page."""
        self.chats = list(chats)
        self.has_more = has_more
        chat_list = self.chat_list
        chat_list.clear_options()
        chat_list.add_options([self._option(chat) for chat in self.chats])
        empty = self.query_one("#chat-list-empty", Static)
        if self.chats:
            empty.update("")
        elif query:
            empty.update(f"No chat titles contain “{one_line(query)}”.")
        else:
            empty.update("No chats yet. Type a prompt, or ctrl+n for a new chat.")
        empty.display = not self.chats
        chat_list.display = bool(self.chats)

    def append_chats(self, chats: list[ChatRead], *, has_more: bool) -> None:
        """Add the next page below the loaded chats."""
        known = {chat.id for chat in self.chats}
        fresh = [chat for chat in chats if chat.id not in known]
        self.chats.extend(fresh)
        self.has_more = has_more
        self.chat_list.add_options([self._option(chat) for chat in fresh])

    def upsert_chat(self, chat: ChatRead, *, to_top: bool = True) -> None:
        """Show ``chat`` as it is now; with ``to_top`` it moves to the top (newest activity)."""
        index = next((i for i, c in enumerate(self.chats) if c.id == chat.id), None)
        if index is not None and not to_top:
            self.chats[index] = chat
            self.chat_list.replace_option_prompt_at_index(index, self._prompt(chat))
            return
        if index is not None:
            self.chats.pop(index)
        self.chats.insert(0, chat)
        self._rebuild(select=chat.id)

    def remove_chat(self, chat_id: uuid.UUID) -> None:
        self.chats = [chat for chat in self.chats if chat.id != chat_id]
        self._rebuild()

    def select_chat(self, chat_id: uuid.UUID | None) -> None:
        """Highlight ``chat_id`` if it is loaded."""
        index = next((i for i, c in enumerate(self.chats) if c.id == chat_id), None)
        if index is not None:
            self.chat_list.highlighted = index

    def refresh_times(self) -> None:
        """Re-render the relative times (the clock moved on)."""
        for index, chat in enumerate(self.chats):
            self.chat_list.replace_option_prompt_at_index(index, self._prompt(chat))

    def _rebuild(self, select: uuid.UUID | None = None) -> None:
        chat_list = self.chat_list
        chat_list.clear_options()
        chat_list.add_options([self._option(chat) for chat in self.chats])
        self.query_one("#chat-list-empty", Static).display = not self.chats
        chat_list.display = bool(self.chats)
        if select is not None:
            self.select_chat(select)

    def _option(self, chat: ChatRead) -> Option:
        return Option(self._prompt(chat), id=str(chat.id))

    def _prompt(self, chat: ChatRead) -> Table:
        # Text objects, not strings: a title is shown as typed, never parsed as markup.
        grid = Table.grid(expand=True)
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        grid.add_column(justify="right", no_wrap=True, style="dim")
        age = relative_time(chat.updated_at, self.now) if self.now else ""
        if chat.id in self._live_chats:
            age = f"{LIVE_MARK} {age}".rstrip()
        grid.add_row(Text(one_line(chat.title)), Text(f" {age}"))
        return grid

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.FilterChanged(event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.chat_list.focus()

    def on_chat_list_near_end(self, event: ChatList.NearEnd) -> None:
        event.stop()
        if self.has_more:
            self.post_message(self.MoreWanted())

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_index < len(self.chats):
            self.post_message(self.ChatChosen(self.chats[event.option_index]))
