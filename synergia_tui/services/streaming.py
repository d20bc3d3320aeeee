"""Streaming a planned reply from its provider into a ``ReplyStore``.

The stream reads the provider and hands text to the screen (or stdout) as it arrives; it never
waits for the database: the reply's writer (``services.reply_store``) saves on its own task.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from synergia_tui.core.errors import ProviderError
from synergia_tui.core.logging import redaction_filter
from synergia_tui.providers.base import TextDelta, Usage, resolve_api_key
from synergia_tui.providers.pool import ProviderPool
from synergia_tui.providers.retry import RetryNotice, RetryPolicy, stream_with_retries
from synergia_tui.services.replies import CHARS_PER_TOKEN, ReplyPlan
from synergia_tui.services.reply_store import (
    FinalState,
    ReplyStore,
    ReplyWriter,
    Runner,
    StorageChanged,
    run_off_loop,
)

log = logging.getLogger(__name__)

__all__ = [
    "FinalState",
    "ProviderRetrying",
    "ReplyEvent",
    "ReplyStore",
    "ReplyStreamer",
    "ReplyWriter",
    "Runner",
    "StorageChanged",
    "run_off_loop",
]


@dataclass(frozen=True, slots=True)
class ProviderRetrying:
    """The provider failed before the first token; attempt ``attempt`` follows in ``wait_s``."""

    attempt: int
    wait_s: float
    reason: str
    rate_limited: bool = False
    """The provider asked us to slow down (else it was unreachable or failing)."""


ReplyEvent = StorageChanged | ProviderRetrying
TextCallback = Callable[[str], Awaitable[None] | None]
EventCallback = Callable[[ReplyEvent], None]


# -- the stream --------------------------------------------------------------------------------


def estimate_tokens(chars: int) -> int:
    return max(1, -(-chars // CHARS_PER_TOKEN)) if chars else 0


def final_usage(plan: ReplyPlan, text: str, usage: Usage) -> dict[str, Any]:
    """Tokens to record: what the provider reported, else an estimate (marked as such)."""
    prompt, completion = usage.prompt_tokens, usage.completion_tokens
    estimated = False
    if prompt is None:
        prompt, estimated = estimate_tokens(plan.prompt_chars), True
    if completion is None:
        completion, estimated = estimate_tokens(len(text)), True
    return {"prompt_tokens": prompt, "completion_tokens": completion, "tokens_estimated": estimated}


def status_for(finish_reason: str | None) -> str:
    return "cut" if finish_reason == "length" else "complete"


class ReplyStreamer:
    """Streams planned replies from their providers into a ``ReplyStore``."""

    def __init__(
        self,
        store: ReplyStore,
        *,
        providers: ProviderPool | None = None,
        retry_policy: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, one shared default
    ) -> None:
        self.store = store
        # The session's clients; without one (a one-off reply: ``synergia ask``) each reply
        # gets a pool of its own, closed when it ends.
        self.providers = providers
        self.retry_policy = retry_policy

    async def stream(
        self,
        plan: ReplyPlan,
        on_text: TextCallback | None = None,
        on_event: EventCallback | None = None,
    ) -> ReplyWriter:
        """Run the reply to its end; returns its writer (its final state set, being stored).

        Cancelling stores what arrived as ``cancelled`` (through the writer, which outlives the
        cancellation) before the cancellation goes on. Provider failures end the reply as
        ``error`` (not raised). Await ``writer.wait()`` for the stored row.
        """
        writer = self.open(plan)
        await self.run(plan, writer, on_text, on_event)
        return writer

    def open(self, plan: ReplyPlan) -> ReplyWriter:
        """Start writing ``plan``'s reply (its saves begin now); ``run`` streams into it."""
        redaction_filter().add_secret(resolve_api_key(plan.target))
        return self.store.open(plan)

    async def run(
        self,
        plan: ReplyPlan,
        writer: ReplyWriter,
        on_text: TextCallback | None = None,
        on_event: EventCallback | None = None,
    ) -> None:
        """Stream ``plan`` from its provider into ``writer`` and set its final state."""
        pool = self.providers if self.providers is not None else ProviderPool()
        final: FinalState
        try:
            usage = await self._read(plan, pool, writer, on_text, on_event)
            finish_reason = usage.finish_reason
            final = FinalState(
                status=status_for(finish_reason),
                finish_reason=finish_reason,
                **final_usage(plan, writer.text, usage),
            )
        except asyncio.CancelledError:
            writer.finish(
                FinalState(status="cancelled", **final_usage(plan, writer.text, writer.usage))
            )
            raise
        except ProviderError as exc:
            log.warning("reply %s failed: %s", plan.message.id, exc)
            final = FinalState(
                status="error", error=str(exc), **final_usage(plan, writer.text, writer.usage)
            )
        finally:
            if pool is not self.providers:
                await asyncio.shield(pool.aclose())
        writer.finish(final)

    async def _read(
        self,
        plan: ReplyPlan,
        pool: ProviderPool,
        writer: ReplyWriter,
        on_text: TextCallback | None,
        on_event: EventCallback | None,
    ) -> Usage:
        def retrying(notice: RetryNotice) -> None:
            log.info("provider failed before the first token; retry in %.1f s", notice.wait_s)
            if on_event is not None:
                on_event(
                    ProviderRetrying(
                        notice.attempt, notice.wait_s, notice.reason, notice.rate_limited
                    )
                )

        usage = Usage(None, None)
        events = stream_with_retries(
            pool,
            plan.target,
            plan.turns,
            system=plan.system,
            policy=self.retry_policy,
            on_retry=retrying,
        )
        async with aclosing(events):  # type: ignore[type-var]  # an async generator: it has aclose
            async for event in events:
                if isinstance(event, TextDelta):
                    if not event.text:
                        continue
                    writer.append(event.text)
                    if on_text is not None:
                        result = on_text(event.text)
                        if result is not None:
                            await result
                elif isinstance(event, Usage):
                    usage = writer.usage = event
        return usage
