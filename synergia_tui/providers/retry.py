"""Asking a busy or unreachable provider again, but only before any of the answer has arrived.

Once text has flowed, a retry would repeat or contradict what the user has already read, so a
failure from then on is the consumer's to report.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass

from synergia_tui.core.errors import ProviderError, ProviderRateLimitedError
from synergia_tui.providers.base import ChatTurn, ProviderTarget, StreamEvent, TextDelta
from synergia_tui.providers.pool import ProviderPool


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry: exponential backoff with full jitter, within a budget."""

    max_attempts: int = 4
    """Attempts in all, the first included."""
    base_delay: float = 0.5
    """Seconds; the n-th retry waits a random time up to ``base_delay * 2**n`` (n from 0)."""
    max_delay: float = 8.0
    """No backoff wait is longer than this (a provider's ``retry_after`` may be)."""
    max_total_wait: float = 20.0
    """Give up rather than let the waits add up past this many seconds."""

    def backoff(self, retry: int, rng: Callable[[], float] = random.random) -> float:
        """The wait before retry number ``retry`` (0 for the first), with full jitter."""
        return rng() * min(self.max_delay, self.base_delay * 2**retry)


@dataclass(frozen=True, slots=True)
class RetryNotice:
    """Told to the consumer before each wait: "provider busy, retrying in 2.1 s (2/4)"."""

    attempt: int
    """The attempt about to be made after the wait: 2 for the first retry."""
    wait_s: float
    reason: str
    """The failure's user-facing message."""
    rate_limited: bool = False
    """The provider asked us to slow down (else it was unreachable or failing)."""


async def stream_with_retries(
    pool: ProviderPool,
    target: ProviderTarget,
    turns: Sequence[ChatTurn],
    *,
    system: str | None,
    policy: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, so one shared default is safe
    on_retry: Callable[[RetryNotice], None] | None = None,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    rng: Callable[[], float] = random.random,
) -> AsyncIterator[StreamEvent]:
    """``target``'s answer to ``turns``, retrying rate limits and outages before the first text.

    Events are those of ``Provider.stream_chat``. A retryable error (``error.retryable``: HTTP
    429, 5xx, Anthropic's 529 and ``overloaded_error``, refused or timed-out connections) is
    retried only while no text has been yielded; the wait is the provider's ``retry_after`` when
    it gave one, else the policy's backoff. The last error is raised when attempts run out or
    the next wait would pass ``policy.max_total_wait``; any other error is raised at once.
    ``Usage`` events of a failed attempt are passed on too (Anthropic may bill it); the last
    ``Usage`` is the one that counts. The pool's client is discarded after every failure, since
    its connection may be half-read. ``sleep`` and ``rng`` are the clock and the dice.
    """
    waited = 0.0
    attempt = 1
    while True:
        # A client made already (while the prompt was typed) is taken at once: a hop to a thread
        # would let the screen's work run first, before the request is on the wire.
        provider = pool.peek(target)
        if provider is None:
            provider = await asyncio.to_thread(pool.get, target)
        text_flowed = False
        try:
            # aclosing: when our consumer stops early, the provider's stream (and its
            # connection) is closed now, not whenever the generator is collected.
            async with aclosing(provider.stream_chat(turns, system=system)) as stream:  # type: ignore[type-var]
                async for event in stream:
                    if isinstance(event, TextDelta) and event.text:
                        text_flowed = True
                    yield event
            return
        except ProviderError as err:
            await pool.discard(target)
            if text_flowed or not err.retryable or attempt >= policy.max_attempts:
                raise
            retry_after = getattr(err, "retry_after", None)
            wait = retry_after if retry_after is not None else policy.backoff(attempt - 1, rng)
            if waited + wait > policy.max_total_wait:
                raise
            attempt += 1
            if on_retry is not None:
                on_retry(
                    RetryNotice(
                        attempt=attempt,
                        wait_s=wait,
                        reason=err.message,
                        rate_limited=isinstance(err, ProviderRateLimitedError),
                    )
                )
            await sleep(wait)
            waited += wait
