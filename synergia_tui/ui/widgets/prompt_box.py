"""The multi-line prompt: enter sends, ctrl+j / alt+enter insert a newline, pastes are inserted."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

LARGE_PASTE_CHARS = 100_000


class PromptBox(TextArea):
    """A TextArea that posts ``Submitted`` on enter instead of inserting a newline.

    A paste is always inserted (a pasted newline never sends). A paste larger than
    ``LARGE_PASTE_CHARS`` is held back and announced with ``LargePaste`` so the screen can ask
    first; the screen then calls ``insert_paste``.

    Note: most terminals send alt+enter as ESC + CR, which Textual reports as a plain enter; only
    terminals with the kitty keyboard protocol deliver alt+enter. ctrl+j works everywhere.
    """

    BINDINGS = [
        Binding("enter", "submit", "Send", id="prompt.send"),
        Binding("ctrl+j,alt+enter", "newline", "Newline", id="prompt.newline"),
        # The messages above are what one pages through while typing (the box's own text is
        # a few lines; its cursor keys still move through it).
        Binding("pageup", "page_messages(-1)", "Page up", show=False, id="prompt.page_up"),
        Binding("pagedown", "page_messages(1)", "Page down", show=False, id="prompt.page_down"),
    ]

    @dataclass
    class PageMessages(Message):
        """Scroll the messages a page up (-1) or down (1)."""

        direction: int

    @dataclass
    class Submitted(Message):
        """The user asked to send ``text`` (not yet checked for emptiness)."""

        prompt_box: PromptBox
        text: str

        @property
        def control(self) -> PromptBox:
            return self.prompt_box

    @dataclass
    class LargePaste(Message):
        """A paste of ``len(text)`` characters waits for the user's go-ahead."""

        prompt_box: PromptBox
        text: str

        @property
        def control(self) -> PromptBox:
            return self.prompt_box

    def __init__(
        self, *, id: str | None = None, large_paste_chars: int = LARGE_PASTE_CHARS
    ) -> None:
        super().__init__(id=id, soft_wrap=True, show_line_numbers=False, tab_behavior="focus")
        self.large_paste_chars = large_paste_chars

    async def _on_key(self, event: events.Key) -> None:
        # Textual runs a focused widget's (non-priority) bindings only once the key has bubbled up
        # to the app, while TextArea inserts printable keys here, at once. A burst of keys (a fast
        # typist over SSH, tmux send-keys) would then be applied out of order: "Fran⌫⌫⌫ly" typed
        # in one packet edits the text after the letters. So this box runs its own bindings here,
        # in keystroke order (enter too: TextArea would insert a newline first).
        for binding in self._bindings.key_to_bindings.get(event.key, []):
            if not binding.priority and await self.app.run_action(binding.action, self):
                event.stop()
                event.prevent_default()
                return
        await super()._on_key(event)

    def action_page_messages(self, direction: int) -> None:
        self.post_message(self.PageMessages(direction))

    async def _on_paste(self, event: events.Paste) -> None:
        if self.read_only:
            return
        event.stop()
        event.prevent_default()
        if len(event.text) > self.large_paste_chars:
            self.post_message(self.LargePaste(self, event.text))
            return
        self.insert_paste(event.text)

    def insert_paste(self, text: str) -> None:
        """Insert pasted text at the cursor, replacing the selection."""
        result = self.replace(text, *self.selection)
        self.move_cursor(result.end_location)
        self.focus()

    def action_submit(self) -> None:
        self.post_message(self.Submitted(self, self.text))

    def action_newline(self) -> None:
        self.insert("\n")
