"""The provider layer, driven through the real SDKs against a local fake provider server."""

# Tests take the imported ``fake_provider`` fixture as a parameter, which ruff reads as a
# redefinition of the import.
# ruff: noqa: F811

from __future__ import annotations

import asyncio
import logging
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence

import pytest

from synergia_tui.core.errors import (
    ProviderAuthError,
    ProviderBadResponseError,
    ProviderError,
    ProviderRateLimitedError,
    ProviderUnavailableError,
)
from synergia_tui.providers.base import (
    DEFAULT_MAX_OUTPUT_TOKENS,
    PROVIDERS,
    ChatTurn,
    Provider,
    ProviderTarget,
    StreamEvent,
    TextDelta,
    Usage,
    create_provider,
    normalize_finish_reason,
    parse_retry_after,
    resolve_api_key,
)
from tests.fake_provider_server import FakeProviderServer, Script, fake_provider  # noqa: F401

SECRET = "sk-test-5f3a9c1e7b2d4468a0e1c9b7d3f2a6e8"
ENV = {"SYNERGIA_TEST_KEY": SECRET}
TURNS = [ChatTurn("user", "Say hello"), ChatTurn("assistant", "Hello?"), ChatTurn("user", "Again")]
REPLY = "Hello from the fake provider."  # five word chunks
PARTIAL = "Hello from "  # what arrives before a fault scripted after two chunks


def base_url(server: FakeProviderServer, provider: str) -> str:
    return {
        "openai": server.openai_base_url,
        "anthropic": server.anthropic_base_url,
        "ollama": server.ollama_base_url,
    }[provider]


@pytest.fixture
async def connect(fake_provider: FakeProviderServer) -> AsyncIterator:
    """Factory for providers pointed at the fake server; all are closed after the test."""
    made: list[Provider] = []

    def make(
        provider: str,
        *,
        api_model: str = "fake-model-a",
        timeout: float = 5.0,
        max_output_tokens: int | None = None,
    ) -> Provider:
        target = ProviderTarget(
            provider=provider,
            api_model=api_model,
            base_url=base_url(fake_provider, provider),
            api_key_env=None if provider == "ollama" else "SYNERGIA_TEST_KEY",
            max_output_tokens=max_output_tokens,
        )
        made.append(create_provider(target, timeout=timeout, environ=ENV))
        return made[-1]

    yield make
    for provider in made:
        await provider.aclose()


async def run(
    provider: Provider, turns: Sequence[ChatTurn] = TURNS, **kwargs: object
) -> tuple[list[StreamEvent], ProviderError | None]:
    """All events up to the end or the first error, and that error."""
    events: list[StreamEvent] = []
    try:
        async for event in provider.stream_chat(turns, **kwargs):  # type: ignore[arg-type]
            events.append(event)
    except ProviderError as err:
        return events, err
    return events, None


def text_of(events: Sequence[StreamEvent]) -> str:
    return "".join(event.text for event in events if isinstance(event, TextDelta))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- start-up ---------------------------------------------------------------------------------


def test_importing_base_loads_no_sdk_or_http_library() -> None:
    code = (
        "import sys, synergia_tui.providers.base\n"
        "loaded = [m for m in ('openai', 'anthropic', 'httpx', 'httpx2') if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    assert result.stdout.strip() == ""


# -- happy path -------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_answer_streams_as_deltas_and_ends_with_usage_and_finish_reason(
    connect, fake_provider, provider
) -> None:
    fake_provider.script = Script(reply=REPLY, prompt_tokens=42, completion_tokens=7)

    events, error = await run(connect(provider))

    assert error is None
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert deltas == ["Hello ", "from ", "the ", "fake ", "provider."]
    assert events[-1] == Usage(prompt_tokens=42, completion_tokens=7, finish_reason="stop")
    assert [e for e in events if isinstance(e, Usage) and e.finish_reason] == [events[-1]]


@pytest.mark.parametrize("provider", ["openai", "ollama"])
async def test_openai_usage_comes_once_at_the_end(connect, fake_provider, provider) -> None:
    events, _ = await run(connect(provider))

    assert [isinstance(e, Usage) for e in events].count(True) == 1
    assert isinstance(events[-1], Usage)


async def test_anthropic_reports_input_tokens_before_any_text(connect, fake_provider) -> None:
    fake_provider.script = Script(reply=REPLY, prompt_tokens=42, completion_tokens=7)

    events, _ = await run(connect("anthropic"))

    # message_start carries the input tokens and the first output token.
    assert events[0] == Usage(prompt_tokens=42, completion_tokens=None)  # output not known yet
    assert isinstance(events[1], TextDelta)
    assert events[-1] == Usage(prompt_tokens=42, completion_tokens=7, finish_reason="stop")


async def test_anthropic_stream_cut_later_still_knows_its_input_tokens(
    connect, fake_provider
) -> None:
    fake_provider.script = Script(reply=REPLY, prompt_tokens=42, cut_after=2)

    events, error = await run(connect("anthropic"))

    assert type(error) is ProviderUnavailableError
    usages = [e for e in events if isinstance(e, Usage)]
    assert usages == [Usage(prompt_tokens=42, completion_tokens=None)]


@pytest.mark.parametrize(
    ("provider", "script"),
    [
        ("openai", Script(finish_reason="length")),
        ("ollama", Script(finish_reason="length")),
        ("anthropic", Script(stop_reason="max_tokens")),
    ],
)
async def test_answer_cut_at_the_token_limit_ends_with_length(
    connect, fake_provider, provider, script
) -> None:
    fake_provider.script = script

    events, error = await run(connect(provider))

    assert error is None
    assert text_of(events) == script.reply
    assert isinstance(events[-1], Usage)
    assert events[-1].finish_reason == "length"


@pytest.mark.parametrize(
    ("provider", "script", "expected"),
    [
        ("openai", Script(finish_reason="content_filter"), "content_filter"),
        ("openai", Script(finish_reason="tool_calls"), "tool_calls"),
        ("anthropic", Script(stop_reason="stop_sequence"), "stop"),
        ("anthropic", Script(stop_reason="tool_use"), "tool_calls"),
        ("anthropic", Script(stop_reason="refusal"), "refusal"),
    ],
)
async def test_finish_reasons_are_normalized(
    connect, fake_provider, provider, script, expected
) -> None:
    fake_provider.script = script

    events, error = await run(connect(provider))

    assert error is None
    assert events[-1].finish_reason == expected


def test_unknown_finish_reasons_pass_through_short_and_plain() -> None:
    assert normalize_finish_reason("pause_turn") == "pause_turn"
    assert normalize_finish_reason("\x1b[31mevil reason\n") == "__31mevil_reason_"
    assert normalize_finish_reason("x" * 100) == "x" * 32
    assert normalize_finish_reason("") == "unknown"


@pytest.mark.parametrize(
    ("provider", "field"),
    [("openai", "max_completion_tokens"), ("ollama", "max_tokens"), ("anthropic", "max_tokens")],
)
async def test_the_models_output_cap_reaches_the_server(
    connect, fake_provider, provider, field
) -> None:
    await run(connect(provider, max_output_tokens=321))
    await run(connect(provider, max_output_tokens=321), max_tokens=12)

    first, second = fake_provider.requests
    assert first.body[field] == 321
    assert second.body[field] == 12  # an explicit max_tokens wins


def test_default_output_caps() -> None:
    assert DEFAULT_MAX_OUTPUT_TOKENS == {"anthropic": 16384, "openai": None, "ollama": None}
    assert ProviderTarget("anthropic", "m").effective_max_output_tokens == 16384
    assert ProviderTarget("openai", "m").effective_max_output_tokens is None
    assert ProviderTarget("ollama", "m", max_output_tokens=7).effective_max_output_tokens == 7


async def test_openai_request_carries_system_first_key_and_usage_option(
    connect, fake_provider
) -> None:
    await run(connect("openai", api_model="gpt-4o-mini"), system="Be brief.", max_tokens=64)

    request = fake_provider.last_request
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {SECRET}"
    assert request.body["model"] == "gpt-4o-mini"
    assert request.body["stream"] is True
    assert request.body["stream_options"] == {"include_usage": True}
    assert request.body["max_completion_tokens"] == 64
    assert request.body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say hello"},
        {"role": "assistant", "content": "Hello?"},
        {"role": "user", "content": "Again"},
    ]


async def test_openai_request_without_system_prompt_has_no_system_message(
    connect, fake_provider
) -> None:
    await run(connect("openai"))

    body = fake_provider.last_request.body
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert "max_completion_tokens" not in body and "max_tokens" not in body


async def test_ollama_sends_no_cap_by_default(connect, fake_provider) -> None:
    await run(connect("ollama"))

    body = fake_provider.last_request.body
    assert "max_completion_tokens" not in body and "max_tokens" not in body


async def test_anthropic_request_puts_system_in_its_own_field(connect, fake_provider) -> None:
    await run(connect("anthropic", api_model="claude-x"), system="Be brief.")

    request = fake_provider.last_request
    assert request.path == "/v1/messages"
    # anthropic 2.x sends the API key as a bearer token (1.x used ``x-api-key``).
    assert request.headers["authorization"] == f"Bearer {SECRET}"
    assert "anthropic-version" in request.headers
    assert request.body["model"] == "claude-x"
    assert request.body["stream"] is True
    assert request.body["system"] == "Be brief."
    assert request.body["max_tokens"] == 16384  # Anthropic requires a cap
    assert request.body["messages"] == [
        {"role": "user", "content": "Say hello"},
        {"role": "assistant", "content": "Hello?"},
        {"role": "user", "content": "Again"},
    ]


async def test_anthropic_request_honours_max_tokens_and_omits_empty_system(
    connect, fake_provider
) -> None:
    await run(connect("anthropic"), max_tokens=100)

    body = fake_provider.last_request.body
    assert body["max_tokens"] == 100
    assert "system" not in body


async def test_ollama_request_uses_placeholder_key_and_max_tokens(connect, fake_provider) -> None:
    events, error = await run(connect("ollama", api_model="llama3.2:latest"), max_tokens=50)

    assert error is None
    request = fake_provider.last_request
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer ollama"
    assert request.body["model"] == "llama3.2:latest"
    assert request.body["max_tokens"] == 50


async def test_key_comes_from_the_variable_the_model_names(fake_provider) -> None:
    target = ProviderTarget("openai", "m", fake_provider.openai_base_url, "MY_OWN_KEY")
    environ = {"MY_OWN_KEY": "sk-own-key-0001", "OPENAI_API_KEY": "sk-default-key-0002"}
    provider = create_provider(target, environ=environ)
    try:
        await run(provider)
    finally:
        await provider.aclose()

    assert fake_provider.last_request.headers["authorization"] == "Bearer sk-own-key-0001"


# -- failures answered with an HTTP status ----------------------------------------------------

STATUS_CASES = [
    (401, ProviderAuthError, "{p}: the API key was refused (HTTP 401)"),
    (403, ProviderAuthError, "{p}: access denied (HTTP 403)"),
    (404, ProviderBadResponseError, "{p}: model 'no-such-model' not found (HTTP 404)"),
    (500, ProviderUnavailableError, "{p}: the service failed (HTTP 500)"),
    (503, ProviderUnavailableError, "{p}: the service is unavailable (HTTP 503)"),
]


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
@pytest.mark.parametrize(("status", "error_class", "message"), STATUS_CASES)
async def test_http_error_status_becomes_typed_error(
    connect,
    fake_provider,
    provider,
    status,
    error_class,
    message,
) -> None:
    fake_provider.script = Script(status=status)

    events, error = await run(connect(provider, api_model="no-such-model"))

    assert events == []
    assert type(error) is error_class
    assert str(error).startswith(message.format(p=provider))
    assert "\n" not in str(error)


async def test_ollama_missing_model_suggests_pulling_it(connect, fake_provider) -> None:
    fake_provider.script = Script(status=404)

    _, error = await run(connect("ollama", api_model="qwen9:7b"))

    assert isinstance(error, ProviderBadResponseError)
    assert str(error) == (
        "ollama: model 'qwen9:7b' not found (HTTP 404); pull it with `ollama pull qwen9:7b`"
    )


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_rate_limit_carries_retry_after_seconds(connect, fake_provider, provider) -> None:
    fake_provider.script = Script(status=429, retry_after="7")

    _, error = await run(connect(provider))

    assert isinstance(error, ProviderRateLimitedError)
    assert error.retry_after == 7.0
    assert str(error).startswith(f"{provider}: rate limited (HTTP 429); retry after 7 s")


async def test_rate_limit_without_header_has_no_retry_after(connect, fake_provider) -> None:
    fake_provider.script = Script(status=429)

    _, error = await run(connect("openai"))

    assert isinstance(error, ProviderRateLimitedError)
    assert error.retry_after is None
    assert "retry after" not in str(error)


async def test_anthropic_overloaded_status_is_unavailable(connect, fake_provider) -> None:
    fake_provider.script = Script(status=529)

    _, error = await run(connect("anthropic"))

    assert type(error) is ProviderUnavailableError
    assert str(error) == "anthropic: the service is overloaded (HTTP 529): Overloaded"


def test_retry_after_accepts_milliseconds_and_http_dates() -> None:
    assert parse_retry_after({"retry-after-ms": "1500"}) == 1.5
    assert parse_retry_after({"retry-after": "12"}) == 12.0
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


# -- failures of the connection ---------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_slow_headers_time_out(connect, fake_provider, provider) -> None:
    fake_provider.script = Script(headers_delay=2.0)

    events, error = await run(connect(provider, timeout=0.3))

    assert events == []
    assert type(error) is ProviderUnavailableError
    assert str(error) == (
        f"{provider}: no answer from {base_url(fake_provider, provider)} within 0.3 s (timed out)"
    )


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_stalled_stream_times_out(connect, fake_provider, provider) -> None:
    fake_provider.script = Script(tokens_per_second=1.0)  # a second between chunks

    _, error = await run(connect(provider, timeout=0.3))

    assert type(error) is ProviderUnavailableError
    assert str(error).endswith("within 0.3 s (timed out)")


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_closed_port_cannot_connect(provider) -> None:
    url = f"http://127.0.0.1:{closed_port()}" + ("" if provider == "anthropic" else "/v1")
    target = ProviderTarget(provider, "m", url, "SYNERGIA_TEST_KEY")
    client = create_provider(target, timeout=2.0, environ=ENV)
    try:
        events, error = await run(client)
        with pytest.raises(ProviderUnavailableError) as listing:
            await client.list_models()
    finally:
        await client.aclose()

    assert events == []
    assert type(error) is ProviderUnavailableError
    assert str(error) == f"{provider}: cannot connect to {url}"
    assert str(listing.value) == f"{provider}: cannot connect to {url}"


# -- failures in the middle of a stream -------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_cut_stream_keeps_earlier_deltas_and_fails(connect, fake_provider, provider) -> None:
    fake_provider.script = Script(reply=REPLY, cut_after=2)

    events, error = await run(connect(provider))

    assert text_of(events) == PARTIAL
    assert not any(isinstance(e, Usage) and e.finish_reason for e in events)
    assert type(error) is ProviderUnavailableError
    assert str(error) == f"{provider}: the connection was lost in the middle of the answer"


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_stream_ending_without_finish_is_not_success(
    connect, fake_provider, provider
) -> None:
    fake_provider.script = Script(reply=REPLY, end_early_after=2)

    events, error = await run(connect(provider))

    assert text_of(events) == PARTIAL
    assert not any(isinstance(e, Usage) and e.finish_reason for e in events)
    assert type(error) is ProviderUnavailableError
    assert str(error) == f"{provider}: the stream ended early"


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_malformed_data_is_a_bad_response(connect, fake_provider, provider) -> None:
    fake_provider.script = Script(reply=REPLY, malformed_after=2)

    events, error = await run(connect(provider))

    assert text_of(events) == PARTIAL
    assert type(error) is ProviderBadResponseError
    assert str(error) == f"{provider}: the answer was not valid JSON (malformed data)"


@pytest.mark.parametrize("provider", ["openai", "ollama"])
async def test_openai_error_chunk_is_a_bad_response(connect, fake_provider, provider) -> None:
    fake_provider.script = Script(
        reply=REPLY, error_event_after=2, error_message="Model crashed while generating."
    )

    events, error = await run(connect(provider))

    assert text_of(events) == PARTIAL
    assert type(error) is ProviderBadResponseError
    assert str(error) == (
        f"{provider}: the provider reported an error: Model crashed while generating."
    )


async def test_anthropic_overloaded_event_is_unavailable(connect, fake_provider) -> None:
    fake_provider.script = Script(reply=REPLY, error_event_after=3)

    events, error = await run(connect("anthropic"))

    assert text_of(events) == "Hello from the "
    assert type(error) is ProviderUnavailableError
    assert str(error) == "anthropic: the service is overloaded: Overloaded"


async def test_anthropic_other_error_event_is_a_bad_response(connect, fake_provider) -> None:
    fake_provider.script = Script(
        reply=REPLY, error_event_after=1, error_event_type="api_error", error_message="Boom."
    )

    events, error = await run(connect("anthropic"))

    assert text_of(events) == "Hello "
    assert type(error) is ProviderBadResponseError
    assert str(error) == "anthropic: the provider reported an error: Boom."


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_stopping_early_closes_the_stream_quietly(
    connect, fake_provider, provider, caplog
) -> None:
    # Two seconds of answer: the server is still writing when the client stops reading, and
    # what is left (kilobytes) would fit in the socket buffers if the stream stayed open.
    fake_provider.script = Script(chunks=[f"w{i} " for i in range(200)], tokens_per_second=100)
    caplog.set_level(logging.DEBUG, logger="synergia_tui")
    client = connect(provider)
    stream = client.stream_chat(TURNS)

    first = None
    async for event in stream:
        if isinstance(event, TextDelta):
            first = event
            break
    await stream.aclose()
    outcomes = await asyncio.to_thread(fake_provider.wait_for_outcomes, 1)

    assert first == TextDelta("w0 ")
    assert outcomes == ["abandoned"]  # the server saw the client hang up mid-answer
    assert [r.getMessage() for r in caplog.records if r.name.startswith("synergia_tui")] == []
    fake_provider.script = Script(reply=REPLY)
    events, error = await run(client)
    assert error is None
    assert text_of(events) == REPLY


# -- the key never leaks ----------------------------------------------------------------------

LEAK_SCRIPTS = [
    Script(status=401),
    Script(status=403, error_message=f"key {SECRET} is not allowed"),
    Script(status=429, error_message=f"slow down, {SECRET}"),
    Script(status=500, error_message=f"crash near {SECRET}"),
    Script(error_event_after=1, error_message=f"stream failed for {SECRET}"),
]


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_api_key_never_appears_in_error_messages(connect, fake_provider, provider) -> None:
    client = connect(provider)
    messages = []
    for script in LEAK_SCRIPTS:
        fake_provider.script = script
        _, error = await run(client)
        assert error is not None
        messages.append(str(error))

    assert all(SECRET not in message for message in messages), messages
    assert sum("***" in message for message in messages) == 4


def test_missing_key_names_the_variable_to_set() -> None:
    target = ProviderTarget("anthropic", "claude-x", None, None)

    with pytest.raises(ProviderAuthError) as raised:
        create_provider(target, environ={})

    assert str(raised.value) == (
        "anthropic: no API key; set the environment variable ANTHROPIC_API_KEY"
    )


def test_unknown_provider_is_refused() -> None:
    with pytest.raises(ProviderError) as raised:
        create_provider(ProviderTarget("gemini", "g", None, None), environ=ENV)

    assert str(raised.value) == (
        "unknown provider 'gemini' (expected one of openai, anthropic, ollama)"
    )


def test_resolve_api_key_prefers_the_named_variable_then_the_default() -> None:
    environ = {"OPENAI_API_KEY": "sk-a", "ANTHROPIC_API_KEY": "sk-b", "MINE": "sk-c"}

    assert resolve_api_key(ProviderTarget("openai", "m", None, None), environ) == "sk-a"
    assert resolve_api_key(ProviderTarget("anthropic", "m", None, None), environ) == "sk-b"
    assert resolve_api_key(ProviderTarget("openai", "m", None, "MINE"), environ) == "sk-c"
    assert resolve_api_key(ProviderTarget("openai", "m", None, "UNSET"), environ) is None
    assert (
        resolve_api_key(ProviderTarget("openai", "m", None, None), {"OPENAI_API_KEY": " "}) is None
    )
    assert resolve_api_key(ProviderTarget("ollama", "m", None, None), {}) == "ollama"


# -- model discovery --------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_list_models_reports_the_served_ids(connect, fake_provider, provider) -> None:
    fake_provider.script = Script(models=("alpha-1", "beta-2"))

    models = await connect(provider).list_models()

    assert [(m.api_model, m.provider) for m in models] == [
        ("alpha-1", provider),
        ("beta-2", provider),
    ]
    assert {m.base_url for m in models} == {base_url(fake_provider, provider)}
    assert fake_provider.last_request.path == "/v1/models"


async def test_ollama_lists_models_from_its_native_tags(connect, fake_provider) -> None:
    fake_provider.script = Script(models=("llama3.2:latest", "qwen2.5:7b"))

    models = await connect("ollama").list_models()

    assert [m.api_model for m in models] == ["llama3.2:latest", "qwen2.5:7b"]
    assert {m.provider for m in models} == {"ollama"}
    assert fake_provider.last_request.path == "/api/tags"


async def test_list_models_refused_key_is_an_auth_error(connect, fake_provider) -> None:
    fake_provider.script = Script(status=401)

    with pytest.raises(ProviderAuthError) as raised:
        await connect("openai").list_models()

    assert str(raised.value) == "openai: the API key was refused (HTTP 401)"


async def test_ollama_tags_server_error_is_unavailable(connect, fake_provider) -> None:
    fake_provider.script = Script(status=500)

    with pytest.raises(ProviderUnavailableError) as raised:
        await connect("ollama").list_models()

    assert str(raised.value) == "ollama: the server failed (HTTP 500)"
