"""Replies from AI models: what is sent, how the stream is kept, and how it ends.

A reply is stored before the first token arrives (``streaming``), saved as it grows (in batches,
not per token), and always closed with a status: ``complete`` with its tokens and cost,
``cancelled`` with what arrived, or ``error`` with the provider's message and what arrived.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from synergia_tui.core.errors import ProviderError, ProviderRateLimitedError, ValidationError
from synergia_tui.core.logging import redaction_filter
from synergia_tui.models import AIModel, Message, MessageRead
from synergia_tui.providers.base import (
    ChatTurn,
    ProviderTarget,
    TextDelta,
    Usage,
    resolve_api_key,
)
from synergia_tui.providers.pool import ProviderPool
from synergia_tui.services.chats import find_chat, read_message
from synergia_tui.services.messages import _usable_model
from synergia_tui.services.unit_of_work import Database

log = logging.getLogger(__name__)

CONTEXT_MESSAGES = 100
"""At most this many earlier messages go to the model (fewer when the context window is known)."""
CHARS_PER_TOKEN = 4
INTERRUPTED = "Interrupted: Synergia stopped before the reply finished"


@dataclass(frozen=True, slots=True)
class ReplyPlan:
    """Everything needed to stream one reply: the stored message and what to send."""

    message: MessageRead
    target: ProviderTarget
    turns: tuple[ChatTurn, ...]
    system: str | None


def build_turns(history: list[Message], context_window: int | None) -> list[ChatTurn]:
    """The conversation as the model should see it.

    Failed or empty replies are left out; when a prompt was answered more than once (regenerate),
    only the newest answer counts. With a known context window, the oldest turns are dropped so
    that the rest fits (estimated at four characters a token, keeping a quarter for the answer).
    """
    turns: list[ChatTurn] = []
    for message in history:
        if message.role == "user":
            turns.append(ChatTurn("user", message.content))
        elif message.role == "assistant" and message.content and message.status != "error":
            if turns and turns[-1].role == "assistant":
                turns[-1] = ChatTurn("assistant", message.content)
            else:
                turns.append(ChatTurn("assistant", message.content))
    while turns and turns[0].role == "assistant":
        turns.pop(0)
    if context_window:
        budget = context_window * CHARS_PER_TOKEN * 3 // 4
        kept: list[ChatTurn] = []
        used = 0
        for turn in reversed(turns):
            used += len(turn.content)
            if kept and used > budget:
                break
            kept.append(turn)
        turns = list(reversed(kept))
        while len(turns) > 1 and turns[0].role == "assistant":
            turns.pop(0)
    return turns


def _target(model: AIModel) -> ProviderTarget:
    return ProviderTarget(
        provider=model.provider,
        api_model=model.api_model,
        base_url=model.base_url,
        api_key_env=model.api_key_env,
    )


class ReplyService:
    """Prepares replies and recovers the ones a crash left behind; scoped to one user."""

    def __init__(self, db: Database, user_id: str) -> None:
        self.db = db
        self.user_id = user_id

    def prepare(self, chat_id: uuid.UUID, *, model_id: uuid.UUID | None = None) -> ReplyPlan:
        """Store an empty ``streaming`` reply and gather the context to send for it."""
        with self.db.unit_of_work(write=True) as uow:
            chat = find_chat(uow, self.user_id, chat_id)
            model = _usable_model(uow, model_id or chat.model_id)
            history = list(reversed(uow.messages.newest_first(chat.id, limit=CONTEXT_MESSAGES)))
            turns = build_turns(history, model.context_window)
            # After a reply, asking again regenerates it: the old reply stays stored but is not
            # sent, so the model answers the same prompt afresh.
            while turns and turns[-1].role == "assistant":
                turns.pop()
            if not turns:
                raise ValidationError("Nothing to answer: send a prompt first")
            message = uow.messages.add(
                Message(chat_id=chat.id, model_id=model.id, role="assistant", status="streaming")
            )
            chat.updated_at = message.created_at
            uow.commit()
            return ReplyPlan(
                message=read_message(message, model.name),
                target=_target(model),
                turns=tuple(turns),
                system=chat.system_prompt,
            )

    def target_of(self, model_id: uuid.UUID) -> ProviderTarget | None:
        """Where replies from ``model_id`` go (None for an unknown model)."""
        with self.db.unit_of_work() as uow:
            model = uow.models.get(model_id)
            return _target(model) if model is not None else None

    def recover_interrupted(self) -> int:
        """Mark this user's replies still ``streaming`` from an earlier run as interrupted.

        If another process is in fact still streaming one of them, its next save puts the row
        back to ``streaming`` and its end sets the final status, so nothing is lost either way.
        """
        with self.db.unit_of_work(write=True) as uow:
            count = 0
            for message in uow.messages.streaming():
                if uow.chats.get_live(self.user_id, message.chat_id) is None:
                    continue
                message.status = "error"
                message.error = INTERRUPTED
                count += 1
            uow.commit()
            return count


TextCallback = Callable[[str], Awaitable[None] | None]


class ReplyStreamer:
    """Streams a planned reply from its provider and keeps the stored message up to date."""

    def __init__(
        self,
        services: Any,
        *,
        providers: ProviderPool | None = None,
        save_interval: float = 0.5,
        max_retry_wait: float = 10.0,
        max_retries: int = 2,
    ) -> None:
        self.services = services  # an AsyncServices: every call runs off the event loop
        # The session's clients; without one (a one-off reply: ``synergia ask``) the reply gets
        # a pool of its own, closed when it ends.
        self.providers = providers
        self.save_interval = save_interval
        self.max_retry_wait = max_retry_wait
        self.max_retries = max_retries

    async def stream(self, plan: ReplyPlan, on_text: TextCallback | None = None) -> MessageRead:
        """Run the reply to its end and return the stored message in its final state.

        Cancelling the task stores what arrived as ``cancelled`` before the cancellation goes on.
        Provider failures are stored as ``error`` on the message (and not raised).
        """
        redaction_filter().add_secret(resolve_api_key(plan.target))
        message_id = plan.message.id
        parts: list[str] = []
        usage = Usage(None, None)
        last_save = time.monotonic()
        attempt = 0
        pool = self.providers if self.providers is not None else ProviderPool()
        try:
            while True:
                try:
                    # On a thread: the first call imports the SDK (most of a second), which
                    # would otherwise freeze the UI's event loop.
                    provider = await asyncio.to_thread(pool.get, plan.target)
                    failed = True
                    try:
                        async for event in provider.stream_chat(plan.turns, system=plan.system):
                            if isinstance(event, TextDelta):
                                if not event.text:
                                    continue
                                parts.append(event.text)
                                if on_text is not None:
                                    result = on_text(event.text)
                                    if result is not None:
                                        await result
                                now = time.monotonic()
                                if now - last_save >= self.save_interval:
                                    text = "".join(parts)
                                    await self.services.messages.save_partial(message_id, text)
                                    last_save = now
                            elif isinstance(event, Usage):
                                usage = event
                        failed = False
                    finally:
                        if failed:  # its connection may be half-read: start afresh next time
                            await pool.discard(plan.target)
                    break
                except ProviderRateLimitedError as exc:
                    wait = exc.retry_after if exc.retry_after is not None else 1.0
                    if parts or attempt >= self.max_retries or wait > self.max_retry_wait:
                        raise
                    attempt += 1
                    log.info("rate limited; retrying in %.1f s", wait)
                    await asyncio.sleep(wait)
        except asyncio.CancelledError:
            await asyncio.shield(self._finish(message_id, parts, "cancelled", None, usage))
            raise
        except ProviderError as exc:
            log.warning("reply %s failed: %s", message_id, exc)
            return await self._finish(message_id, parts, "error", str(exc), usage)
        finally:
            if pool is not self.providers:
                await asyncio.shield(pool.aclose())
        return await self._finish(message_id, parts, "complete", None, usage)

    async def _finish(
        self, message_id: uuid.UUID, parts: list[str], status: str, error: str | None, usage: Usage
    ) -> MessageRead:
        return await self.services.messages.finish_reply(
            message_id,
            content="".join(parts),
            status=status,
            error=error,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
        )
