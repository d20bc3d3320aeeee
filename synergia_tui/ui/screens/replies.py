"""Streaming replies for the main screen: start, show as they grow, stop, retry.

A reply runs in a worker of the ``reply`` group (escape cancels the group). It keeps streaming
when the user opens another chat: what arrives is collected here and shown again, in full, as
soon as the user comes back to that chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual import work

from synergia_tui.core.errors import SynergiaError

if TYPE_CHECKING:
    from synergia_tui.models import MessageRead
    from synergia_tui.providers.pool import ProviderPool
    from synergia_tui.services.facade import AsyncServices
    from synergia_tui.ui.screens.main import MainScreen
    from synergia_tui.ui.widgets.message_pane import MessageView


@dataclass
class LiveReply:
    """A reply being streamed, and the view showing it (None while its chat is not open)."""

    chat_id: uuid.UUID
    message: MessageRead
    parts: list[str] = field(default_factory=list)
    view: MessageView | None = None

    @property
    def text(self) -> str:
        return "".join(self.parts)


class ReplyWorkers:
    """Mixed into ``MainScreen``: everything about replies in flight."""

    live_replies: dict[uuid.UUID, LiveReply]
    warmed_models: set[uuid.UUID]
    providers: ProviderPool | None

    def warm_up_model(self: MainScreen, model_id: uuid.UUID | None) -> None:
        """Load what a reply from ``model_id`` needs while the prompt is being typed (once)."""
        if model_id is None or model_id in self.warmed_models:
            return
        services = self._services_or_none(quiet=True)
        if services is None or services.replies is None:
            return
        self.warmed_models.add(model_id)
        self._warm_up(services, model_id)

    @work(group="warm-up", exit_on_error=False)
    async def _warm_up(self: MainScreen, services: AsyncServices, model_id: uuid.UUID) -> None:
        pool = self.provider_pool()
        # A failure here changes nothing: the reply itself makes the client and reports it.
        with contextlib.suppress(SynergiaError, ImportError):
            target = await services.replies.target_of(model_id)
            if target is not None:
                await asyncio.to_thread(pool.get, target)
                self.synergia_app.set_aside_loaded_objects()  # the SDK stays loaded too

    def provider_pool(self: MainScreen) -> ProviderPool:
        """The session's provider clients (made on first use; closed when the screen goes)."""
        if self.providers is None:
            # Deferred like every database-side import of the UI: it loads after first paint.
            from synergia_tui.providers.pool import ProviderPool

            self.providers = ProviderPool()
        return self.providers

    def request_reply(
        self: MainScreen, chat_id: uuid.UUID, user_message: MessageRead | None = None
    ) -> None:
        """Ask the chat's model to answer the newest prompt (again, when it was answered)."""
        if any(live.chat_id == chat_id for live in self.live_replies.values()):
            self.notify(
                "A reply is already streaming in this chat; escape stops it.", severity="warning"
            )
            return
        self.stream_reply(chat_id)

    def action_retry_reply(self: MainScreen) -> None:
        """Answer the newest prompt of the open chat again (after an error, or to regenerate)."""
        if self.current_chat is None:
            self.notify("No chat open.", severity="warning")
            return
        self.request_reply(self.current_chat.id)

    def check_action(self: MainScreen, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The stop key is offered (and shown in the footer) only while a reply streams."""
        if action == "stop_reply":
            return bool(self.live_replies)
        return True

    def action_stop_reply(self: MainScreen) -> None:
        """Stop the streaming replies: what arrived is kept, marked cancelled."""
        if not self.live_replies:
            return
        self.workers.cancel_group(self, "reply")

    @work(group="reply")
    async def stream_reply(self: MainScreen, chat_id: uuid.UUID) -> None:
        """Stream one reply into the database and, while its chat is open, onto the screen."""
        # Deferred like every database-side import of the UI: it loads after first paint.
        from synergia_tui.services.replies import ReplyStreamer

        services = self._services_or_none()
        if services is None:
            return
        try:
            plan = await services.replies.prepare(chat_id)
        except SynergiaError as err:
            self._report(err)
            return
        live = LiveReply(chat_id=chat_id, message=plan.message)
        self.live_replies[plan.message.id] = live
        if self.current_chat is not None and self.current_chat.id == chat_id:
            live.view = self.pane.add_message(plan.message)
        self._set_streaming_state()

        async def on_text(chunk: str) -> None:
            live.parts.append(chunk)
            if live.view is not None and live.view.is_attached:
                await live.view.append_stream(chunk)

        try:
            streamer = ReplyStreamer(services, providers=self.provider_pool())
            final = await streamer.stream(plan, on_text)
        except asyncio.CancelledError:
            # The streamer stored the reply as cancelled; show it so, then let the worker end.
            final = plan.message.model_copy(update={"status": "cancelled", "content": live.text})
            await self._show_final(live, final)
            raise
        finally:
            self.live_replies.pop(plan.message.id, None)
            self._set_streaming_state()
        await self._show_final(live, final)
        if final.status == "error":
            self.notify(
                f"The reply failed: {final.error}. Press ctrl+r to try again.",
                title="Reply",
                severity="error",
            )

    def _set_streaming_state(self: MainScreen) -> None:
        if not self.is_attached:
            return  # the app is closing: nothing left to show
        self.status_bar.streaming = bool(self.live_replies)
        self.refresh_bindings()

    async def _show_final(self: MainScreen, live: LiveReply, final: MessageRead) -> None:
        if live.view is not None and live.view.is_attached:
            await live.view.set_final(final)
        if (
            self.is_attached
            and self.current_chat is not None
            and self.current_chat.id == live.chat_id
        ):
            self.refresh_usage()

    async def resume_live_views(self: MainScreen, chat_id: uuid.UUID) -> None:
        """After a chat is (re)opened, reconnect its streaming reply to the new view."""
        for live in self.live_replies.values():
            live.view = None
            if live.chat_id != chat_id:
                continue
            for view in self.pane.views:
                if view.message.id == live.message.id:
                    live.view = view
                    await view.resume_stream(live.text)
