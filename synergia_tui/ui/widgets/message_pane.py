"""The message pane: the open chat's messages, newest mounted first, older ones on demand.

It loads them itself (through the async facade, in workers): ``open_chat`` mounts a chat's
newest page, and scrolling near the top mounts the page just older. Each message is a
``MessageView`` (see ``message_view`` for how a streaming reply grows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from synergia_tui.core.errors import SynergiaError
from synergia_tui.ui.messages import Activity
from synergia_tui.ui.widgets.message_view import MessageView

if TYPE_CHECKING:
    import uuid

    from synergia_tui.models import ChatRead, MessageRead
    from synergia_tui.services.facade import AsyncServices

MESSAGE_PAGE = 8  # a few screens of replies: opening a chat of 10,000 messages mounts only these
# Ask for older messages when the view is this many lines from the top.
OLDER_AHEAD = 3


class MessagePane(VerticalScroll):
    """The open chat. Its parent sets ``services``, then asks it to ``open_chat``; the pane
    posts ``ChatOpened`` once the chat is shown, or ``Failed``."""

    @dataclass
    class ChatOpened(Message):
        """``chat``'s newest messages are shown."""

        chat: ChatRead
        focus_prompt: bool = True

    @dataclass
    class Failed(Message):
        """Loading messages failed; the parent tells the user."""

        error: SynergiaError

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.services: AsyncServices | None = None
        self.chat_id: uuid.UUID | None = None  # the chat whose pages are loaded, if any
        self.has_older = False
        self.loading_older = False
        self._older_cursor: Any = None
        self._streaming: dict[uuid.UUID, MessageView] = {}  # message id -> its growing view

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
        self._forget_chat()

    def _forget_chat(self) -> None:
        self._streaming.clear()
        self.chat_id = None
        self._older_cursor = None
        self.has_older = False

    @work(group="open-chat", exclusive=True)
    async def open_chat(self, chat: ChatRead, *, focus_prompt: bool = True) -> None:
        """Show ``chat`` with only its newest messages mounted, then post ``ChatOpened``."""
        self.post_message(Activity())
        services = self.services
        if services is None:
            return
        try:
            page = await services.messages.list_messages(chat.id, limit=MESSAGE_PAGE)
        except SynergiaError as err:
            self.post_message(self.Failed(err))
            return
        await self.show_messages(page.messages, has_older=page.older_cursor is not None)
        self.chat_id = chat.id
        self._older_cursor = page.older_cursor
        self.post_message(self.ChatOpened(chat, focus_prompt=focus_prompt))

    @work(group="older-messages", exclusive=True)
    async def load_older_messages(self) -> None:
        """Mount the page of messages just older than the oldest one shown."""
        self.post_message(Activity())
        services = self.services
        chat_id = self.chat_id
        try:
            if services is None or chat_id is None or self._older_cursor is None:
                return
            page = await services.messages.list_messages(
                chat_id, limit=MESSAGE_PAGE, before=self._older_cursor
            )
            if self.chat_id != chat_id:
                return  # another chat was opened meanwhile
            self._older_cursor = page.older_cursor
            await self.prepend_older(page.messages, has_older=page.older_cursor is not None)
        except SynergiaError as err:
            self.post_message(self.Failed(err))
        finally:
            self.loading_older = False

    async def show_messages(self, messages: list[MessageRead], *, has_older: bool) -> None:
        """Show a freshly opened chat, scrolled to its newest message."""
        self._forget_chat()
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
        # A pane that does not fill up yet (short messages, a tall terminal) keeps showing the
        # newest message while older pages arrive to fill it.
        at_end = self.max_scroll_y == 0
        first = self.views[0] if self.views else None
        views = [MessageView(m) for m in messages]
        if first is not None:
            await self.mount_all(views, before=first)
        else:
            await self.mount_all(views)

        def keep_place() -> None:
            if at_end:
                self.scroll_end(animate=False, immediate=True)
            else:
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

    async def append_message(self, message: MessageRead) -> MessageView:
        """``add_message``, returning once the view is mounted (ready to be streamed into)."""
        self.query_one("#pane-placeholder", Static).display = False
        view = MessageView(message)
        await self.mount(view)
        self.anchor()
        return view

    # -- a reply streaming into the chat on screen (the screen routes the engine's messages) --

    async def start_reply(self, message: MessageRead) -> None:
        """A reply of the chat on screen begins: show it, empty, at the bottom."""
        self._streaming[message.id] = await self.append_message(message)

    async def grow_reply(self, message_id: uuid.UUID, text: str) -> None:
        view = self._streaming.get(message_id)
        if text and view is not None and view.is_attached:
            await view.append_stream(text)

    async def end_reply(self, message: MessageRead) -> None:
        """The reply ended: show it as it ends (complete, cut, cancelled, failed)."""
        view = self._streaming.pop(message.id, None)
        if view is not None and view.is_attached:
            await view.set_final(message)

    async def resume_reply(self, message_id: uuid.UUID, text: str) -> None:
        """After a chat is opened, its reply still streaming shows everything so far and grows."""
        for view in self.views:
            if view.message.id == message_id:
                self._streaming[message_id] = view
                await view.resume_stream(text)

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
        if (
            self.has_older
            and not self.loading_older
            and self._older_cursor is not None
            and self.scroll_y <= OLDER_AHEAD
        ):
            self.loading_older = True
            self.load_older_messages()
