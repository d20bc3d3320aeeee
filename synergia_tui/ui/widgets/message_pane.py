"""The message pane: the open chat's messages, newest mounted first, older ones on demand.

Streaming hook (for the reply engineer)::

    view = pane.add_message(assistant_message)   # a MessageRead with status "streaming"
    await view.append_stream(chunk)              # as many times as chunks arrive
    await view.set_final(finished_message)       # the MessageRead from finish_reply()

``append_stream`` feeds a ``Markdown.get_stream`` (which batches fast updates) and the pane
stays scrolled to the bottom while the user has not scrolled away (``anchor``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from markdown_it import MarkdownIt
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Label, Markdown, Static
from textual.widgets.markdown import MarkdownStream

from synergia_tui.core.safe_text import neutralize, one_line

if TYPE_CHECKING:
    from synergia_tui.models import MessageRead

# Ask for older messages when the view is this many lines from the top.
OLDER_AHEAD = 3
ROLE_LABELS = {"user": "You", "assistant": "Assistant", "system": "System"}


def header_text(message: MessageRead) -> str:
    """``You → gpt-4o`` / ``Assistant · gpt-4o · cancelled``: who wrote it, and its state."""
    model = one_line(message.model_name) if message.model_name else None
    role = ROLE_LABELS.get(message.role, one_line(message.role))
    if message.role == "user":
        text = f"{role} → {model}" if model else role
    else:
        text = f"{role} · {model}" if model else role
    if message.status != "complete":
        text += f" · {message.status}"
    return text


def _prompt_parser() -> MarkdownIt:
    return MarkdownIt("gfm-like", {"breaks": True})


class MessageView(Vertical):
    """One message: a header line and its Markdown body (control characters made visible)."""

    def __init__(self, message: MessageRead) -> None:
        super().__init__(classes=f"message -{message.role}")
        self.message = message
        self._stream: MarkdownStream | None = None
        self._streamed = ""

    def compose(self) -> ComposeResult:
        yield Label(header_text(self.message), classes="message-header", markup=False)
        # open_links=False: a link in a message is never opened by itself (see LinkClicked).
        yield Markdown(
            neutralize(self.message.content),
            open_links=False,
            # A prompt's line breaks are the user's own: keep them (models write real Markdown).
            parser_factory=_prompt_parser if self.message.role == "user" else None,
        )
        yield Static(self._error_text(), classes="message-error", markup=False)

    def on_mount(self) -> None:
        self._show_state()

    @property
    def markdown(self) -> Markdown:
        return self.query_one(Markdown)

    async def append_stream(self, text: str) -> None:
        """Add a chunk of a streaming reply."""
        if self._stream is None:
            self._stream = Markdown.get_stream(self.markdown)
        self._streamed += text
        await self._stream.write(neutralize(text))

    async def resume_stream(self, text: str) -> None:
        """Show everything a reply streamed so far, then keep growing it with ``append_stream``."""
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        self._streamed = text
        await self.markdown.update(neutralize(text))

    async def set_final(self, message: MessageRead) -> None:
        """Show the finished (or cancelled, or failed) reply as stored."""
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        self.message = message
        self.query_one(".message-header", Label).update(header_text(message))
        if message.content != self._streamed:
            await self.markdown.update(neutralize(message.content))
        self.query_one(".message-error", Static).update(self._error_text())
        self._show_state()

    def _error_text(self) -> str:
        return f"⚠ {neutralize(self.message.error)}" if self.message.error else ""

    def _show_state(self) -> None:
        self.set_class(self.message.status == "streaming", "-streaming")
        self.set_class(self.message.status in ("error", "cancelled"), "-failed")
        self.query_one(".message-error", Static).display = bool(self.message.error)


class MessagePane(VerticalScroll):
    """The open chat. The parent sets the messages; the pane posts ``OlderWanted`` near the top."""

    class OlderWanted(Message):
        """The user scrolled near the oldest mounted message and older ones exist."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.has_older = False
        self.loading_older = False

    def compose(self) -> ComposeResult:
        yield Static("", id="pane-placeholder", markup=False)

    @property
    def views(self) -> list[MessageView]:
        return list(self.query_children(MessageView))

    @property
    def messages(self) -> list[MessageRead]:
        return [view.message for view in self.views]

    async def show_placeholder(self, text: str) -> None:
        """Empty the pane and show ``text`` (no chat open, a start-up error, ...)."""
        await self.remove_children(MessageView)
        placeholder = self.query_one("#pane-placeholder", Static)
        placeholder.update(text)
        placeholder.display = bool(text)
        self.has_older = False

    async def show_messages(self, messages: list[MessageRead], *, has_older: bool) -> None:
        """Show a freshly opened chat, scrolled to its newest message."""
        with self.app.batch_update():
            await self.remove_children(MessageView)
            self.query_one("#pane-placeholder", Static).display = False
            await self.mount_all([MessageView(m) for m in messages])
        self.has_older = has_older
        self.anchor()
        self.call_after_refresh(self._maybe_want_older)

    async def prepend_older(self, messages: list[MessageRead], *, has_older: bool) -> None:
        """Mount older messages above the current ones, keeping the view where it was."""
        self.has_older = has_older
        if not messages:
            return
        before_height = self.virtual_size.height
        before_y = self.scroll_y
        first = self.views[0] if self.views else None
        views = [MessageView(m) for m in messages]
        if first is not None:
            await self.mount_all(views, before=first)
        else:
            await self.mount_all(views)

        def keep_place() -> None:
            grown = self.virtual_size.height - before_height
            self.scroll_to(y=before_y + grown, animate=False, immediate=True)
            self._maybe_want_older()

        self.call_after_refresh(keep_place)

    def add_message(self, message: MessageRead) -> MessageView:
        """Append a message at the bottom and return its view (grow it with ``append_stream``)."""
        self.query_one("#pane-placeholder", Static).display = False
        view = MessageView(message)
        self.mount(view)
        self.anchor()
        return view

    def last_reply(self) -> MessageRead | None:
        """The newest assistant message with any text."""
        for view in reversed(self.views):
            if view.message.role == "assistant" and view.message.content:
                return view.message
        return None

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if new_value <= OLDER_AHEAD and new_value < old_value:
            self._maybe_want_older()

    def _maybe_want_older(self) -> None:
        if self.has_older and not self.loading_older and self.scroll_y <= OLDER_AHEAD:
            self.post_message(self.OlderWanted())
