"""The conversation room: the open chat's messages, the prompt box, and the reply engine.

The screen binds the open chat and its model down (``current_chat``, ``model_id``) and tells
the room whether it can send (``unavailable``). The room sends what is typed through the engine,
and routes the engine's messages to the pane: a prompt stored, a reply started, grown, ended.
Those messages then go on up, for the screen to update the chat list and the status bar.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on, work
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive

from synergia_tui.core.errors import SynergiaError
from synergia_tui.core.safe_text import neutralize
from synergia_tui.ui.clipboard import copy_text
from synergia_tui.ui.widgets.message_pane import MessagePane
from synergia_tui.ui.widgets.prompt_box import PromptBox
from synergia_tui.ui.widgets.prompt_history import PromptHistory
from synergia_tui.ui.widgets.reply_engine import NEW_CHAT, ReplyEngine

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from synergia_tui.models import ChatRead, MessageRead
    from synergia_tui.repositories import MessageCursor
    from synergia_tui.services.reads import PromptPage

NOT_READY = "The database is still opening; try again in a moment."
BUSY = "A reply is streaming in this chat; escape stops it."
CONTINUE = "Continue exactly where your last answer stopped."


class ChatColumn(Vertical):
    """Messages above, the prompt below, the engine unseen; see the module docstring."""

    current_chat: reactive[ChatRead | None] = reactive(None, repaint=False)
    model_id: reactive[uuid.UUID | None] = reactive(None, repaint=False)
    pending_system_prompt: reactive[str | None] = reactive(None, repaint=False)
    """The system prompt a chat started by the next prompt gets (bound down by the screen)."""

    @dataclass
    class Forked(Message):
        """A fork of the open chat was made: the screen lists and opens it."""

        chat: ChatRead

    @dataclass
    class MenuWanted(Message):
        """``enter`` on a message: the screen shows its menu, then calls ``act`` with the
        choice."""

        message: MessageRead

    @dataclass
    class Failed(Message):
        """A message action failed; the screen tells the user."""

        error: SynergiaError

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.unavailable: str | None = None
        """Why the database cannot be used, once start-up said so (None: fine, or opening)."""
        self.editing: MessageRead | None = None
        """The prompt being edited (``e`` on it): the next send makes a new version of it."""

    def watch_current_chat(self, old: ChatRead | None, chat: ChatRead | None) -> None:
        if self.editing is not None and (chat is None or chat.id != self.editing.chat_id):
            self.editing = None  # another chat: the edit is off (its text stays in the box)
        if (old.id if old else None) != (chat.id if chat else None):
            self.prompt.set_history(PromptHistory(self._prompts_of(chat.id) if chat else None))

    def _prompts_of(
        self, chat_id: uuid.UUID
    ) -> Callable[[MessageCursor | None], Awaitable[PromptPage | None]]:
        async def load(before: MessageCursor | None) -> PromptPage | None:
            services = self.pane.services
            if services is None:
                return None
            return await services.messages.recent_prompts(chat_id, before=before)

        return load

    def compose(self) -> ComposeResult:
        yield MessagePane(id="message-pane")
        yield PromptBox(id="prompt")
        yield ReplyEngine()

    @property
    def pane(self) -> MessagePane:
        return self.query_one(MessagePane)

    @property
    def prompt(self) -> PromptBox:
        return self.query_one(PromptBox)

    @property
    def engine(self) -> ReplyEngine:
        return self.query_one(ReplyEngine)

    # -- what the user asks for ----------------------------------------------------------------

    def ready(self) -> bool:
        """Replies can be sent; if not, the user is told why."""
        if self.engine.services is not None:
            return True
        reason = f"Synergia cannot use the database: {self.unavailable}"
        self.notify(reason if self.unavailable else NOT_READY, severity="warning")
        return False

    @on(PromptBox.Submitted)
    def _submitted(self, event: PromptBox.Submitted) -> None:
        event.stop()
        if not event.text.strip() or not self.ready():
            return  # empty prompts are not sent
        if self.model_id is None:
            self.notify("No model to send to: press ctrl+o to pick or add one.", severity="warning")
            return
        chat = self.current_chat
        edit_of = self.editing.id if self.editing is not None and chat is not None else None
        system = self.pending_system_prompt if chat is None else None
        if not self.engine.send(
            event.text,
            chat.id if chat else None,
            self.model_id,
            edit_of=edit_of,
            system_prompt=system,
        ):
            # The prompt stays in the box, to send once the reply in flight has ended.
            self.notify(BUSY, severity="warning")
            return
        self.editing = None
        self.prompt.prompt_history.remember(event.text)
        self.prompt.clear()

    @on(PromptBox.PageMessages)
    def _page(self, event: PromptBox.PageMessages) -> None:
        event.stop()
        self.pane.page(event.direction)

    @on(PromptBox.Changed)
    def _typing(self, event: PromptBox.Changed) -> None:
        event.stop()
        if self.prompt.text:
            self.engine.warm_up(self.model_id)
        self.post_message(self.Typed(len(self.prompt.text)))

    @dataclass
    class Typed(Message):
        """The prompt box holds ``chars`` characters now (the screen counts the budget)."""

        chars: int

    def answer_again(self) -> None:
        """Answer the open chat's newest prompt again (after an error, or to regenerate)."""
        chat = self.current_chat
        if chat is None:
            self.notify("No chat open.", severity="warning")
        elif self.ready() and not self.engine.answer_again(chat.id):
            self.notify(BUSY, severity="warning")

    def continue_reply(self) -> None:
        """Have the model go on from where the open chat's last reply was cut (a new turn)."""
        chat = self.current_chat
        reply = self.pane.last_reply()
        if chat is None or reply is None or not reply.cut_at_limit:
            self.notify("The last reply did not stop at the token limit.", severity="warning")
        elif self.ready() and not self.engine.send(CONTINUE, chat.id, self.model_id):
            self.notify(BUSY, severity="warning")

    # -- the message cursor: the pane selects, the room acts ----------------------------------

    def move_cursor(self, step: int) -> None:
        """alt+up / alt+down: the cursor moves over the messages, and the keys go to the pane."""
        self.pane.focus()
        self.pane.move_cursor(step)

    @on(MessagePane.CursorLeft)
    def _cursor_left(self, event: MessagePane.CursorLeft) -> None:
        event.stop()
        self.prompt.focus()

    def cancel_edit(self) -> bool:
        """Stop editing a prompt (escape): the box is emptied. False when not editing."""
        if self.editing is None:
            return False
        self.editing = None
        self.prompt.clear()
        self.notify("Edit cancelled: the prompt is as it was.")
        return True

    @on(MessagePane.Act)
    def _act(self, event: MessagePane.Act) -> None:
        event.stop()
        self.act(event.action, event.message)

    def act(self, action: str, message: MessageRead) -> None:
        """Carry out ``action`` on ``message`` (the pane's cursor keys and its menu)."""
        chat = self.current_chat
        if chat is None or chat.id != message.chat_id:
            return
        if action == "menu":
            self.post_message(self.MenuWanted(message))
        elif action == "copy":
            copy_text(self.app, neutralize(message.content), "the message")
        elif action == "quote":
            quoted = "".join(f"> {line}\n" for line in message.content.splitlines()) + "\n"
            self._put_in_prompt(self.prompt.text + quoted if self.prompt.text else quoted)
        elif action == "edit" and message.role == "user":
            self.editing = message
            self._put_in_prompt(message.content)
            self.notify(
                "Editing this prompt: enter sends it as a new version (the old one is kept; "
                "←/→ on it switch), escape cancels.",
                title="Edit",
            )
        elif action == "regenerate" and message.role == "assistant":
            if self.ready() and not self.engine.answer_again(
                chat.id, self.model_id, replacing=message.id
            ):
                self.notify(BUSY, severity="warning")
        elif action == "fork":
            self._fork(chat.id, message.id)
        elif action in ("previous_version", "next_version"):
            self._switch(chat.id, message.id, -1 if action == "previous_version" else 1)

    def _put_in_prompt(self, text: str) -> None:
        self.pane.select(None)
        self.prompt.text = text
        self.prompt.move_cursor(self.prompt.document.end)
        self.prompt.focus()

    @work(group="message-action")
    async def _fork(self, chat_id: uuid.UUID, message_id: uuid.UUID) -> None:
        services = self.engine.services
        if services is None:
            return
        try:
            fork = await services.messages.fork_chat(chat_id, message_id)
        except SynergiaError as err:
            self.post_message(self.Failed(err))
            return
        self.notify("Forked: the new chat holds the conversation up to that message.")
        self.post_message(self.Forked(fork))

    @work(group="message-action", exclusive=True)
    async def _switch(self, chat_id: uuid.UUID, message_id: uuid.UUID, step: int) -> None:
        services = self.engine.services
        if services is None:
            return
        if self.engine.is_live(chat_id):
            self.notify(BUSY, severity="warning")
            return
        try:
            shown = await services.messages.switch_sibling(chat_id, message_id, step)
        except SynergiaError as err:
            self.post_message(self.Failed(err))
            return
        if shown is None:
            self.notify("No other version that way.", severity="warning")
        elif self._here(chat_id):
            self.pane.show_message(shown.id, select=True)

    def can_stop(self) -> bool:
        return self.current_chat is not None and self.engine.is_live(self.current_chat.id)

    def stop(self) -> None:
        """Stop the open chat's streaming reply: what arrived is kept, marked cancelled."""
        if self.current_chat is not None:
            self.engine.stop(self.current_chat.id)

    def restore_prompt(self, text: str) -> None:
        if not self.prompt.text:
            self.prompt.text = text
            self.prompt.move_cursor(self.prompt.document.end)

    # -- the engine's messages, shown in the pane (then on up) ---------------------------------

    def _here(self, chat_id: uuid.UUID) -> bool:
        return self.current_chat is not None and self.current_chat.id == chat_id

    @on(ReplyEngine.Sent)
    async def _sent(self, event: ReplyEngine.Sent) -> None:
        sent = event.sent
        if self.current_chat is None and event.claim == NEW_CHAT:
            # Taken now, not when the screen's binding catches up: the reply's Started is next.
            self.current_chat = sent.chat
            await self.pane.show_messages([sent.prompt], has_older=False, chat_id=sent.chat.id)
        elif self._here(sent.chat.id):
            self.current_chat = sent.chat
            await self.pane.append_message(sent.prompt)

    @on(MessagePane.StreamingShown)
    async def _streaming_shown(self, event: MessagePane.StreamingShown) -> None:
        """A page brought a streaming reply back on screen: if it is this chat's live reply,
        show all it has so far and let it grow."""
        event.stop()
        chat = self.current_chat
        message = self.engine.message_of(chat.id) if chat is not None else None
        if chat is not None and message is not None and message.id == event.message_id:
            await self.resume(chat.id)

    @on(ReplyEngine.Started)
    async def _started(self, event: ReplyEngine.Started) -> None:
        if self._here(event.chat_id):
            await self.pane.start_reply(event.message)

    @on(ReplyEngine.Progressed)
    async def _progressed(self, event: ReplyEngine.Progressed) -> None:
        event.stop()
        text = self.engine.take(event.chat_id)
        message = self.engine.message_of(event.chat_id)
        if message is not None and self._here(event.chat_id):
            await self.pane.grow_reply(message.id, text)

    @on(ReplyEngine.Finished)
    async def _finished(self, event: ReplyEngine.Finished) -> None:
        await self.pane.end_reply(event.message)

    @on(ReplyEngine.Failed)
    def _failed(self, event: ReplyEngine.Failed) -> None:
        if event.text:
            self.restore_prompt(event.text)

    async def resume(self, chat_id: uuid.UUID) -> None:
        """After a chat is (re)opened, reconnect its streaming reply to the new view."""
        message = self.engine.message_of(chat_id)
        if message is not None:
            self.engine.take(chat_id)  # all of it is shown by resume_reply
            await self.pane.resume_reply(message.id, self.engine.text_of(chat_id))
