"""The multi-line prompt: enter sends, ctrl+j / alt+enter insert a newline, pastes are inserted,
up / down walk the chat's earlier prompts, f4 (the screen's key) writes it in an editor."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events, work
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

from synergia_tui.core.errors import SynergiaError
from synergia_tui.ui.external_editor import EditorFailed, edit_externally
from synergia_tui.ui.widgets.prompt_history import PromptHistory

LARGE_PASTE_CHARS = 100_000


class PromptBox(TextArea):
    """A TextArea that posts ``Submitted`` on enter instead of inserting a newline.

    A paste is always inserted (a pasted newline never sends). A paste larger than
    ``LARGE_PASTE_CHARS`` is held back and announced with ``LargePaste`` so the screen can ask
    first; the screen then calls ``insert_paste``.

    ``up`` walks the open chat's earlier prompts (``prompt_history``, set by the room) where it
    cannot clash with moving through the text: in an empty box, on a recalled prompt not
    changed since (cursor on its first row), or with the cursor already at the very start of a
    draft (where ``up`` has nowhere to go; the draft comes back at the end of the walk).
    ``down`` walks back from the last row of a recalled prompt. Elsewhere the arrows move the
    cursor.

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
        Binding("up", "older_prompt", "Earlier prompt", show=False, id="prompt.older_prompt"),
        Binding("down", "newer_prompt", "Later prompt", show=False, id="prompt.newer_prompt"),
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
        self.prompt_history = PromptHistory()
        """The open chat's earlier prompts (the room sets a new one for each chat)."""
        self._recalled: str | None = None  # the recalled prompt shown, as it was recalled
        self._recall_wanted = False  # up was pressed while the next page was being read

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

    # -- earlier prompts -----------------------------------------------------------------------

    def _showing_recalled(self) -> bool:
        return self.prompt_history.walking and self.text == self._recalled

    def _may_walk_older(self) -> bool:
        if not self.text:
            return True
        navigator = self.navigator
        if self._showing_recalled():
            return navigator.is_first_wrapped_line(self.cursor_location)
        return self.cursor_location == (0, 0) and not self.selected_text

    def action_older_prompt(self) -> None:
        if self._may_walk_older():
            self._walk_older()
        else:
            self.action_cursor_up()

    def action_newer_prompt(self) -> None:
        if not (
            self._showing_recalled() and self.navigator.is_last_wrapped_line(self.cursor_location)
        ):
            self.action_cursor_down()
            return
        entry = self.prompt_history.newer()
        if entry is not None:
            self._show_recalled(entry, at_start=False)

    def _walk_older(self) -> None:
        history = self.prompt_history
        entry = history.older(self.text)
        if entry is not None:
            self._recall_wanted = False
            self._show_recalled(entry, at_start=True)
        elif history.has_more:
            self._recall_wanted = True  # shown once the page is read
        if history.wants_page() and not history.loading:
            history.loading = True
            self._read_page(history)

    @work(group="prompt-history")
    async def _read_page(self, history: PromptHistory) -> None:
        try:
            added = await history.read_page()
        except SynergiaError as err:
            self._recall_wanted = False
            self.notify(str(err), severity="error")
            return
        finally:
            history.loading = False
        if history is not self.prompt_history or not added:
            return  # another chat's by now, or nothing more to read
        if self._recall_wanted and self._may_walk_older():
            self._walk_older()

    def _show_recalled(self, entry: str, *, at_start: bool) -> None:
        """Show a step of the walk. The cursor goes where the next step in the same direction
        is still a step of the walk: the first row going older, the end going newer."""
        self._recalled = entry if self.prompt_history.walking else None
        self.text = entry
        end = self.document.end
        if at_start and not self.navigator.is_first_wrapped_line(end):
            self.move_cursor((0, 0))
        else:
            self.move_cursor(end)

    def _on_text_area_changed(self, event: TextArea.Changed) -> None:
        # Typing into a recalled prompt makes it a draft of its own: the walk is over. (The
        # event goes on to the room.)
        if self._recalled is not None and self.text != self._recalled:
            self._recalled = None
            self.prompt_history.stop()

    def set_history(self, history: PromptHistory) -> None:
        """Walk ``history`` from now on (another chat's prompts)."""
        self.prompt_history = history
        self._recalled = None
        self._recall_wanted = False

    # -- an external editor --------------------------------------------------------------------

    @work(group="prompt-editor", exclusive=True)
    async def open_in_editor(self) -> None:
        """Write the prompt in ``$VISUAL`` / ``$EDITOR``; its text comes back into the box (the
        text stays as it was when the editor cannot be used)."""
        try:
            edited = await edit_externally(self.app, self.text)
        except EditorFailed as err:
            self.notify(str(err), severity="warning")
            return
        self.text = edited
        self.move_cursor(self.document.end)
        self.focus()

    def action_submit(self) -> None:
        self.post_message(self.Submitted(self, self.text))

    def action_newline(self) -> None:
        self.insert("\n")
