"""The reply engine: owns every live reply of the app, at most one per chat.

It has no look of its own. The screen asks it to ``send`` a prompt or ``answer_again``, to
``stop(chat)`` or ``stop_all()``; it runs each reply in a worker of its own and posts what
happens (``Sent``, ``Started``, ``Progressed``, ``Finished``, ``Failed``, ``StorageChanged``,
``Retrying``, ``Retried``) for the screen to route to the pane, the sidebar and the status bar. The text is
written durably by the services' ``ReplyStore``: the stream never waits for the database.

A chat is claimed synchronously, before anything is awaited, so a second ``enter`` or a double
``ctrl+r`` finds it taken and is refused once, with a message.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual.message import Message
from textual.widget import Widget
from textual.worker import Worker

from synergia_tui.core.errors import SynergiaError
from synergia_tui.ui.messages import SetAsideLoadedObjects

if TYPE_CHECKING:
    # Type names only: the services import SQLAlchemy, which loads after first paint.
    from synergia_tui.models import MessageRead
    from synergia_tui.providers.pool import ProviderPool
    from synergia_tui.services.conversation import Sent
    from synergia_tui.services.facade import (
        AsyncConversationService,
        AsyncReplyService,
        AsyncServices,
    )
    from synergia_tui.services.replies import ReplyPlan
    from synergia_tui.services.streaming import (
        ProviderRetrying,
        ReplyStore,
        ReplyStreamer,
        ReplyWriter,
        StorageChanged,
    )

NEW_CHAT = uuid.UUID(int=0)
"""The claim of a prompt sent without a chat (its chat does not exist yet)."""
SHUTDOWN_SAVE_S = 2.0


@dataclass
class LiveReply:
    """A chat's reply in flight: planned (``message`` None) or streaming."""

    chat_id: uuid.UUID
    message: MessageRead | None = None
    writer: ReplyWriter | None = None
    worker: Worker[None] | None = None
    pending: list[str] = field(default_factory=list)
    ended: bool = False  # the stream is over; its final state may still be on its way to storage
    announced: bool = False  # a Progressed message is on its way and will take ``pending``
    retrying: ProviderRetrying | None = None  # the provider failed; no text since

    @property
    def text(self) -> str:
        return self.writer.text if self.writer is not None else ""


class ReplyEngine(Widget):
    """Starts, streams, stops and stores replies; see the module docstring."""

    DEFAULT_CSS = "ReplyEngine { display: none; }"

    class Sent(Message):
        """A prompt is stored (with its chat, new or not) and its reply planned."""

        def __init__(self, sent: Sent, claim: uuid.UUID) -> None:
            super().__init__()
            self.sent = sent
            self.claim = claim

    class Started(Message):
        """A reply's row exists and its stream begins."""

        def __init__(self, chat_id: uuid.UUID, message: MessageRead) -> None:
            super().__init__()
            self.chat_id = chat_id
            self.message = message

    class Progressed(Message):
        """Text arrived for a chat's reply; ``ReplyEngine.take`` hands it over."""

        def __init__(self, chat_id: uuid.UUID) -> None:
            super().__init__()
            self.chat_id = chat_id

    class Finished(Message):
        """A reply ended (complete, cut, cancelled or error); ``message`` is its final state."""

        def __init__(self, chat_id: uuid.UUID, message: MessageRead) -> None:
            super().__init__()
            self.chat_id = chat_id
            self.message = message

    class Settled(Message):
        """A chat's reply is stored (or journalled): the chat takes new replies again."""

        def __init__(self, chat_id: uuid.UUID) -> None:
            super().__init__()
            self.chat_id = chat_id

    class Failed(Message):
        """A prompt or a reply could not even start (``text`` is the prompt to give back)."""

        def __init__(self, chat_id: uuid.UUID | None, error: SynergiaError, text: str) -> None:
            super().__init__()
            self.chat_id = chat_id
            self.error = error
            self.text = text

    class StorageChanged(Message):
        """Saving replies paused (``reason``) or resumed (``reason`` None)."""

        def __init__(self, reason: str | None) -> None:
            super().__init__()
            self.reason = reason

    class Retrying(Message):
        """The provider failed before the first token; the reply tries again shortly."""

        def __init__(self, chat_id: uuid.UUID, notice: ProviderRetrying) -> None:
            super().__init__()
            self.chat_id = chat_id
            self.notice = notice

    class Retried(Message):
        """Text arrives again after ``Retrying``: the retry worked."""

        def __init__(self, chat_id: uuid.UUID) -> None:
            super().__init__()
            self.chat_id = chat_id

    def __init__(self) -> None:
        super().__init__()
        self.live: dict[uuid.UUID, LiveReply] = {}
        self.services: AsyncServices | None = None
        self.store: ReplyStore | None = None
        self.providers: ProviderPool | None = None
        self._streamer: ReplyStreamer | None = None
        self._conversation: AsyncConversationService | None = None
        self._replies: AsyncReplyService | None = None
        self._warmed: set[uuid.UUID] = set()

    def configure(self, services: AsyncServices, store: ReplyStore) -> None:
        """The database is open: replies can be sent from now on."""
        # Deferred like every database-side import of the UI: it loads after first paint.
        from synergia_tui.providers.pool import ProviderPool
        from synergia_tui.services.streaming import ReplyStreamer

        if services.conversation is None or services.replies is None:
            raise ValueError("the reply engine needs the conversation and reply services")
        self.services = services
        self._conversation = services.conversation
        self._replies = services.replies
        self.store = store
        if self.providers is None:
            self.providers = ProviderPool()
        self._streamer = ReplyStreamer(store, providers=self.providers)

    def warm_up(self, model_id: uuid.UUID | None) -> None:
        """Make the client for ``model_id`` while the prompt is being typed (once a model):
        the first reply then skips the SDK import and the TLS set-up."""
        if model_id is None or model_id in self._warmed or self._replies is None:
            return
        self._warmed.add(model_id)
        self.run_worker(self._warm_up(model_id), group="warm-up", exit_on_error=False)

    async def _warm_up(self, model_id: uuid.UUID) -> None:
        # A failure here changes nothing: the reply itself makes the client and reports it.
        with contextlib.suppress(SynergiaError, ImportError):
            assert self._replies is not None and self.providers is not None
            target = await self._replies.target_of(model_id)
            if target is not None:
                await asyncio.to_thread(self.providers.get, target)
                self.post_message(SetAsideLoadedObjects())  # the SDK stays loaded too

    # -- questions -------------------------------------------------------------------------------

    def is_live(self, chat_id: uuid.UUID | None) -> bool:
        """The chat's reply is streaming (or about to): ``stop`` has something to stop."""
        live = self.live.get(chat_id) if chat_id is not None else None
        return live is not None and not live.ended

    def is_busy(self, chat_id: uuid.UUID | None) -> bool:
        """The chat has a reply in flight or not yet stored: it takes no new one."""
        return (chat_id or NEW_CHAT) in self.live

    @property
    def live_chats(self) -> set[uuid.UUID]:
        """Chats whose reply is streaming now."""
        return {c for c, live in self.live.items() if c != NEW_CHAT and not live.ended}

    def text_of(self, chat_id: uuid.UUID) -> str:
        live = self.live.get(chat_id)
        return live.text if live is not None else ""

    def retrying_of(self, chat_id: uuid.UUID) -> ProviderRetrying | None:
        """Why chat ``chat_id``'s reply is waiting to ask the provider again (None: it is not)."""
        live = self.live.get(chat_id)
        return live.retrying if live is not None and not live.ended else None

    def message_of(self, chat_id: uuid.UUID) -> MessageRead | None:
        live = self.live.get(chat_id)
        return live.message if live is not None else None

    def take(self, chat_id: uuid.UUID) -> str:
        """The text that arrived since the last ``take`` (for the view showing the reply)."""
        live = self.live.get(chat_id)
        if live is None:
            return ""
        live.announced = False
        text = "".join(live.pending)
        live.pending.clear()
        return text

    # -- commands --------------------------------------------------------------------------------

    def send(
        self,
        text: str,
        chat_id: uuid.UUID | None,
        model_id: uuid.UUID | None,
        *,
        edit_of: uuid.UUID | None = None,
        system_prompt: str | None = None,
    ) -> bool:
        """Store ``text`` in the chat (a new one without ``chat_id``) and stream its reply;
        with ``edit_of``, as a new version of that prompt; with ``system_prompt``, that is the
        chat's system prompt from now on (see ``ConversationService.send``).

        Returns False (and does nothing) when the chat already has a reply in flight.
        """
        claim = chat_id or NEW_CHAT
        if not self._claim(claim):
            return False
        self.live[claim].worker = self.run_worker(
            self._send(text, chat_id, model_id, claim, edit_of, system_prompt),
            group="reply",
            exit_on_error=False,
        )
        return True

    def answer_again(
        self,
        chat_id: uuid.UUID,
        model_id: uuid.UUID | None = None,
        *,
        replacing: uuid.UUID | None = None,
    ) -> bool:
        """Answer the chat's newest prompt again (retry or regenerate), or the prompt of the
        reply ``replacing``; False when busy."""
        if not self._claim(chat_id):
            return False
        self.live[chat_id].worker = self.run_worker(
            self._answer_again(chat_id, model_id, replacing), group="reply", exit_on_error=False
        )
        return True

    def stop(self, chat_id: uuid.UUID) -> bool:
        """Stop the chat's reply; what arrived is kept, marked cancelled. False if none."""
        live = self.live.get(chat_id)
        if live is None or live.worker is None or live.ended:
            return False
        live.worker.cancel()
        return True

    def stop_all(self) -> None:
        for live in list(self.live.values()):
            if live.worker is not None:
                live.worker.cancel()

    async def shutdown(self, timeout: float = SHUTDOWN_SAVE_S) -> bool:
        """The app is ending: stop every reply and give the database ``timeout`` seconds to
        take what arrived; the rest goes to the journal. Returns whether all was stored."""
        workers = [live.worker for live in self.live.values() if live.worker is not None]
        self.stop_all()
        for worker in workers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(worker.wait(), timeout)
        stored = True
        if self.store is not None:
            stored = await self.store.drain(timeout)
        if self.providers is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.providers.aclose(), timeout)
        return stored

    def journal_everything(self) -> None:
        """Last act of a process that is going down: every unsaved reply to the journal."""
        if self.store is not None:
            self.store.journal_all()

    def storage_changed(self, change: StorageChanged) -> None:
        """The store says saving paused or resumed: tell the user, and the screen."""
        if change.reason is not None:
            self.notify(
                f"Saving paused: {change.reason}. Replies keep streaming and are written "
                "as soon as the database is back.",
                title="Database",
                severity="error",
            )
        else:
            self.notify("Saving resumed: every reply is stored.", title="Database")
        self.post_message(self.StorageChanged(change.reason))

    def _tell_how_it_ended(self, final: MessageRead) -> None:
        if final.status == "error":
            self.notify(
                f"The reply failed: {final.error}. Press ctrl+r to try again.",
                title="Reply",
                severity="error",
            )
        elif final.status == "cut":
            self.notify(
                "The reply stopped at the token limit. “Continue reply” (ctrl+p) has the model "
                "go on; or raise the model's max output tokens (ctrl+o, ctrl+g, ctrl+e).",
                title="Reply",
                severity="warning",
            )

    # -- workers ---------------------------------------------------------------------------------

    def _claim(self, chat_id: uuid.UUID) -> bool:
        if chat_id in self.live or self.services is None:
            return False
        self.live[chat_id] = LiveReply(chat_id)
        return True

    async def _send(
        self,
        text: str,
        chat_id: uuid.UUID | None,
        model_id: uuid.UUID | None,
        claim: uuid.UUID,
        edit_of: uuid.UUID | None,
        system_prompt: str | None = None,
    ) -> None:
        try:
            assert self._conversation is not None
            sent = await self._conversation.send(
                text,
                chat_id=chat_id,
                model_id=model_id,
                edit_of=edit_of,
                system_prompt=system_prompt,
            )
        except SynergiaError as err:
            self.live.pop(claim, None)
            self.post_message(self.Failed(chat_id, err, text))
            return
        live = self.live.pop(claim)
        live.chat_id = sent.chat.id
        self.live[sent.chat.id] = live
        self.post_message(self.Sent(sent, claim))
        await self._stream(live, sent.plan)

    async def _answer_again(
        self, chat_id: uuid.UUID, model_id: uuid.UUID | None, replacing: uuid.UUID | None
    ) -> None:
        try:
            assert self._replies is not None
            plan = await self._replies.prepare(chat_id, model_id=model_id, replacing=replacing)
        except SynergiaError as err:
            self.live.pop(chat_id, None)
            self.post_message(self.Failed(chat_id, err, ""))
            return
        await self._stream(self.live[chat_id], plan)

    async def _stream(self, live: LiveReply, plan: ReplyPlan) -> None:
        assert self._streamer is not None
        live.message = plan.message
        self.post_message(self.Started(live.chat_id, plan.message))

        def arrived(chunk: str) -> None:
            live.pending.append(chunk)
            if live.retrying is not None:
                live.retrying = None
                self.post_message(self.Retried(live.chat_id))
            if not live.announced:
                live.announced = True
                self.post_message(self.Progressed(live.chat_id))

        def event(happened: ProviderRetrying) -> None:
            self.notify(
                f"{happened.reason} Trying again in {happened.wait_s:.1f} s "
                f"(attempt {happened.attempt}).",
                title="Reply",
                severity="warning",
            )
            live.retrying = happened
            self.post_message(self.Retrying(live.chat_id, happened))

        live.writer = self._streamer.open(plan)
        cancelled = False
        try:
            await self._streamer.run(plan, live.writer, arrived, event)  # type: ignore[arg-type]
        except asyncio.CancelledError:
            cancelled = True
        live.ended = True
        final = live.writer.in_memory()
        self._tell_how_it_ended(final)
        self.post_message(self.Finished(live.chat_id, final))
        try:
            # The chat stays claimed until its reply is stored: nothing new starts in it while
            # the database is away (the writer retries meanwhile, and journals what it holds).
            await live.writer.wait()
        except asyncio.CancelledError:
            cancelled = True
        finally:
            self.live.pop(live.chat_id, None)
            self.post_message(self.Settled(live.chat_id))
        if cancelled:
            raise asyncio.CancelledError
