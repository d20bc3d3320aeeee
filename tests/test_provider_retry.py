"""Retrying a busy or unreachable provider before the first token, through the real SDKs."""

# Tests take the imported ``fake_provider`` fixture as a parameter, which ruff reads as a
# redefinition of the import.
# ruff: noqa: F811

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable

import pytest

from synergia_tui.core.errors import (
    ProviderAuthError,
    ProviderBadResponseError,
    ProviderError,
    ProviderRateLimitedError,
    ProviderUnavailableError,
)
from synergia_tui.providers.base import ChatTurn, ProviderTarget, StreamEvent, TextDelta, Usage
from synergia_tui.providers.pool import ProviderPool
from synergia_tui.providers.retry import RetryNotice, RetryPolicy, stream_with_retries
from tests.fake_provider_server import FakeProviderServer, Script, fake_provider  # noqa: F401

SECRET = "sk-test-retry-0f9e8d7c6b5a4938"
TURNS = [ChatTurn("user", "Say hello")]
REPLY = "Hello from the fake provider."


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def target_at(url: str, provider: str = "openai") -> ProviderTarget:
    base = url if provider == "anthropic" else f"{url}/v1"
    return ProviderTarget(provider, "fake-model-a", base, "SYNERGIA_TEST_KEY")


class Clock:
    """The injected ``sleep``: records each wait instead of waiting, and may act on it."""

    def __init__(self, on_wait: Callable[[float], None] | None = None) -> None:
        self.waits: list[float] = []
        self._on_wait = on_wait

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self._on_wait is not None:
            self._on_wait(seconds)


@pytest.fixture
async def pool(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ProviderPool]:
    monkeypatch.setenv("SYNERGIA_TEST_KEY", SECRET)
    made = ProviderPool()
    yield made
    await made.aclose()


async def collect(
    pool: ProviderPool,
    target: ProviderTarget,
    *,
    clock: Clock,
    policy: RetryPolicy = RetryPolicy(),  # noqa: B008
    rng: Callable[[], float] = lambda: 0.5,
) -> tuple[list[StreamEvent], list[RetryNotice], ProviderError | None]:
    events: list[StreamEvent] = []
    notices: list[RetryNotice] = []
    try:
        async for event in stream_with_retries(
            pool,
            target,
            TURNS,
            system=None,
            policy=policy,
            on_retry=notices.append,
            sleep=clock.sleep,
            rng=rng,
        ):
            events.append(event)
    except ProviderError as err:
        return events, notices, err
    return events, notices, None


def text_of(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


# -- retried, then answered -------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_503_before_the_first_token_is_retried_then_answered(
    pool, fake_provider, provider
) -> None:
    fake_provider.enqueue(Script(status=503))
    clock = Clock()

    events, notices, error = await collect(
        pool, target_at(fake_provider.url, provider), clock=clock
    )

    assert error is None
    assert text_of(events) == REPLY
    assert isinstance(events[-1], Usage) and events[-1].finish_reason == "stop"
    assert len(fake_provider.requests) == 2
    assert clock.waits == [0.25]  # half (rng 0.5) of base_delay * 2**0
    assert notices == [
        RetryNotice(
            attempt=2,
            wait_s=0.25,
            reason=f"{provider}: the service is unavailable (HTTP 503): "
            + (
                "The engine is currently overloaded, please try again later"
                if provider == "openai"
                else "Service unavailable"
            ),
        )
    ]


async def test_anthropic_529_overloaded_is_retried(pool, fake_provider) -> None:
    fake_provider.enqueue(Script(status=529), Script(status=529))
    clock = Clock()

    events, notices, error = await collect(
        pool, target_at(fake_provider.url, "anthropic"), clock=clock
    )

    assert error is None
    assert text_of(events) == REPLY
    assert clock.waits == [0.25, 0.5]
    assert [n.attempt for n in notices] == [2, 3]
    assert notices[0].reason == "anthropic: the service is overloaded (HTTP 529): Overloaded"


async def test_anthropic_overloaded_event_before_text_is_retried(pool, fake_provider) -> None:
    fake_provider.enqueue(Script(error_event_after=0, prompt_tokens=5))
    fake_provider.script = Script(prompt_tokens=9)
    clock = Clock()

    events, notices, error = await collect(
        pool, target_at(fake_provider.url, "anthropic"), clock=clock
    )

    assert error is None
    assert text_of(events) == REPLY
    assert len(notices) == 1
    # The failed attempt's usage is passed on; the answer's own usage comes last.
    usages = [e for e in events if isinstance(e, Usage)]
    assert usages[0] == Usage(prompt_tokens=5, completion_tokens=None)
    assert usages[-1].prompt_tokens == 9 and usages[-1].finish_reason == "stop"


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_429_waits_as_long_as_retry_after_says(pool, fake_provider, provider) -> None:
    fake_provider.enqueue(Script(status=429, retry_after="3"))
    clock = Clock()

    events, notices, error = await collect(
        pool, target_at(fake_provider.url, provider), clock=clock
    )

    assert error is None
    assert text_of(events) == REPLY
    assert clock.waits == [3.0]
    assert notices[0].reason.startswith(f"{provider}: rate limited (HTTP 429); retry after 3 s")


async def test_refused_connection_is_retried_until_the_server_is_up() -> None:
    port = closed_port()
    server = FakeProviderServer(port=port)
    # The server comes up during the first wait: the clock, not luck, decides when.
    clock = Clock(on_wait=lambda _: server.start() if len(clock.waits) == 1 else None)
    pool = ProviderPool()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("SYNERGIA_TEST_KEY", SECRET)
            events, notices, error = await collect(
                pool, target_at(f"http://127.0.0.1:{port}"), clock=clock
            )
    finally:
        await pool.aclose()
        server.stop()

    assert error is None
    assert text_of(events) == REPLY
    assert [n.reason for n in notices] == [f"openai: cannot connect to http://127.0.0.1:{port}/v1"]


# -- given up on ------------------------------------------------------------------------------


async def test_refused_connection_gives_up_after_the_last_attempt(pool) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    clock = Clock()

    events, notices, error = await collect(pool, target_at(url), clock=clock, rng=lambda: 1.0)

    assert events == []
    assert type(error) is ProviderUnavailableError
    assert str(error) == f"openai: cannot connect to {url}/v1"
    assert [n.attempt for n in notices] == [2, 3, 4]
    assert clock.waits == [0.5, 1.0, 2.0]


async def test_gives_up_rather_than_wait_past_the_total_budget(pool, fake_provider) -> None:
    fake_provider.script = Script(status=503)
    policy = RetryPolicy(max_attempts=10, base_delay=4.0, max_delay=8.0, max_total_wait=10.0)
    clock = Clock()

    _, notices, error = await collect(
        pool, target_at(fake_provider.url), clock=clock, policy=policy, rng=lambda: 1.0
    )

    assert type(error) is ProviderUnavailableError
    assert clock.waits == [4.0]  # 4 + 8 would pass 10
    assert len(fake_provider.requests) == 2
    assert len(notices) == 1


async def test_retry_after_past_the_budget_is_not_waited_for(pool, fake_provider) -> None:
    fake_provider.script = Script(status=429, retry_after="30")
    clock = Clock()

    _, notices, error = await collect(pool, target_at(fake_provider.url), clock=clock)

    assert type(error) is ProviderRateLimitedError
    assert error.retry_after == 30.0
    assert clock.waits == [] and notices == []
    assert len(fake_provider.requests) == 1


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_refused_key_is_never_retried(pool, fake_provider, provider) -> None:
    fake_provider.script = Script(status=401)
    clock = Clock()

    _, notices, error = await collect(pool, target_at(fake_provider.url, provider), clock=clock)

    assert type(error) is ProviderAuthError
    assert clock.waits == [] and notices == []
    assert len(fake_provider.requests) == 1


@pytest.mark.parametrize("provider", ["openai", "anthropic", "ollama"])
async def test_lost_connection_after_text_has_flowed_is_not_retried(
    pool, fake_provider, provider
) -> None:
    fake_provider.script = Script(reply=REPLY, cut_after=2)
    clock = Clock()

    events, notices, error = await collect(
        pool, target_at(fake_provider.url, provider), clock=clock
    )

    assert type(error) is ProviderUnavailableError
    assert text_of(events) == "Hello from "
    assert clock.waits == [] and notices == []
    assert len(fake_provider.requests) == 1


async def test_overloaded_event_after_text_has_flowed_is_not_retried(pool, fake_provider) -> None:
    fake_provider.script = Script(reply=REPLY, error_event_after=2)
    clock = Clock()

    events, _, error = await collect(pool, target_at(fake_provider.url, "anthropic"), clock=clock)

    assert type(error) is ProviderUnavailableError and error.retryable
    assert text_of(events) == "Hello from "
    assert clock.waits == []
    assert len(fake_provider.requests) == 1


async def test_bad_response_is_not_retried(pool, fake_provider) -> None:
    fake_provider.script = Script(status=404)
    clock = Clock()

    _, _, error = await collect(pool, target_at(fake_provider.url), clock=clock)

    assert type(error) is ProviderBadResponseError
    assert clock.waits == []


# -- the client after a failure and after an early stop ---------------------------------------


async def test_a_failed_attempt_discards_the_pooled_client(pool, fake_provider) -> None:
    fake_provider.enqueue(Script(status=503))
    target = target_at(fake_provider.url)

    _, _, error = await collect(pool, target, clock=Clock())

    assert error is None
    # The 503 left a kept-alive connection; a kept client would have reused it.
    assert fake_provider.connections_opened == 2
    assert target in pool


async def test_stopping_early_closes_the_provider_stream(pool, fake_provider) -> None:
    fake_provider.script = Script(chunks=[f"w{i} " for i in range(200)], tokens_per_second=100)
    stream = stream_with_retries(pool, target_at(fake_provider.url), TURNS, system=None)

    async for event in stream:
        if isinstance(event, TextDelta):
            break
    await stream.aclose()

    outcomes = await asyncio.to_thread(fake_provider.wait_for_outcomes, 1)
    assert outcomes == ["abandoned"]


def test_backoff_is_exponential_with_full_jitter_and_capped() -> None:
    policy = RetryPolicy()

    assert [policy.backoff(n, lambda: 1.0) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert policy.backoff(3, lambda: 0.25) == 1.0
    assert policy.backoff(5, lambda: 0.0) == 0.0


def test_only_busy_and_unreachable_are_retryable() -> None:
    assert ProviderRateLimitedError("x").retryable
    assert ProviderUnavailableError("x").retryable
    assert not ProviderAuthError("x").retryable
    assert not ProviderBadResponseError("x").retryable
    assert not ProviderError("x").retryable
