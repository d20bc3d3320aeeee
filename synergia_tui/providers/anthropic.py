"""Anthropic's Messages API, through the official ``anthropic`` SDK."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import anthropic
import httpx2  # the SDK's own HTTP library: its errors escape a stream unwrapped

from synergia_tui.core.errors import (
    ProviderBadResponseError,
    ProviderError,
    ProviderRateLimitedError,
    ProviderUnavailableError,
)
from synergia_tui.providers._errors import sdk_error, status_error
from synergia_tui.providers.base import (
    DEFAULT_MAX_OUTPUT_TOKENS,
    ChatTurn,
    DiscoveredModel,
    ProviderTarget,
    StreamEvent,
    TextDelta,
    Usage,
    clean_detail,
    normalize_finish_reason,
)

log = logging.getLogger(__name__)

_FAILURES = (anthropic.AnthropicError, httpx2.HTTPError, json.JSONDecodeError)


class AnthropicProvider:
    """Messages streaming and model listing for one target."""

    name = "anthropic"

    def __init__(self, target: ProviderTarget, *, api_key: str, timeout: float = 60.0) -> None:
        self.target = target
        self.base_url = target.effective_base_url
        self.timeout = timeout
        self._api_key = api_key
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key,
            base_url=self.base_url,
            timeout=timeout,
            max_retries=0,
        )
        # Resolved now, not on the first reply: its first access imports the SDK's message types.
        self._messages = self._client.messages

    async def stream_chat(
        self,
        turns: Sequence[ChatTurn],
        *,
        system: str | None = None,
        max_tokens: int | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """Stream the answer; see ``Provider.stream_chat``.

        A first ``Usage`` (input tokens, output so far) comes with ``message_start``, before any
        text; the last, with the final output count and the stop reason, after ``message_stop``.
        """
        extra: dict[str, Any] = {}
        if system:
            extra["system"] = system
        # Anthropic refuses a request without a cap, so there is always one.
        cap = max_tokens if max_tokens is not None else self.target.effective_max_output_tokens
        started = False
        stopped = False
        stop_reason: str | None = None
        prompt_tokens: int | None = None
        completion_tokens: int | None = None
        try:
            messages: Any = [{"role": turn.role, "content": turn.content} for turn in turns]
            # Anthropic requires a cap: the model's own, else Synergia's default for it.
            max_tokens = cap if cap is not None else DEFAULT_MAX_OUTPUT_TOKENS[self.name] or 4096
            stream = await self._messages.create(
                model=self.target.api_model,
                max_tokens=max_tokens,
                messages=messages,
                stream=True,
                **extra,
            )
            started = True
            async with stream:
                async for raw in stream:
                    # Narrowed by its ``type`` string, which the SDK's union does not express.
                    event: Any = raw
                    if event.type == "message_start":
                        prompt_tokens = event.message.usage.input_tokens
                        completion_tokens = event.message.usage.output_tokens
                        # Input tokens are known now; the output count here is a placeholder
                        # (1): a reply that stops early has its output estimated instead.
                        yield Usage(prompt_tokens, None)
                    elif event.type == "content_block_delta":
                        if event.delta.type == "text_delta" and event.delta.text:
                            yield TextDelta(event.delta.text)
                    elif event.type == "message_delta":
                        if event.delta.stop_reason:
                            stop_reason = event.delta.stop_reason
                        if event.usage.output_tokens is not None:
                            completion_tokens = event.usage.output_tokens
                        if getattr(event.usage, "input_tokens", None) is not None:
                            prompt_tokens = event.usage.input_tokens
                    elif event.type == "message_stop":
                        stopped = True
        except _FAILURES as err:
            raise self._error(err, started=started) from err
        if not stopped:
            raise ProviderUnavailableError(f"{self.name}: the stream ended early")
        # ``message_stop`` itself says the model finished; a missing reason is a plain stop.
        finish_reason = normalize_finish_reason(stop_reason) if stop_reason else "stop"
        yield Usage(prompt_tokens, completion_tokens, finish_reason)

    async def list_models(self) -> list[DiscoveredModel]:
        """The model ids the Models API reports, every page of them."""
        try:
            ids = [model.id async for model in self._client.models.list(limit=100)]
        except _FAILURES as err:
            raise self._error(err, started=False, listing=True) from err
        return [
            DiscoveredModel(api_model=model_id, provider=self.name, base_url=self.target.base_url)
            for model_id in ids
        ]

    async def aclose(self) -> None:
        """Close the SDK's connection pool."""
        await self._client.close()

    def _error(self, err: BaseException, *, started: bool, listing: bool = False) -> ProviderError:
        """Translate an SDK or transport failure into the typed error a user sees."""
        mapped = self._map(err, started=started, listing=listing)
        log.warning("%s", mapped)
        return mapped

    def _map(self, err: BaseException, *, started: bool, listing: bool) -> ProviderError:
        return sdk_error(
            err,
            sdk=anthropic,
            name=self.name,
            base_url=self.base_url,
            timeout=self.timeout,
            started=started,
            api_key=self._api_key,
            on_status=lambda status: self._map_any_status(status, listing=listing),
            api_error_message=lambda api: api.message,
        )

    def _map_any_status(self, err: anthropic.APIStatusError, *, listing: bool) -> ProviderError:
        if err.status_code < 400:
            # The SDK turns an ``error`` event inside a 200 stream into a status error.
            return self._map_stream_error(err)
        return self._map_status(err, listing=listing)

    def _map_stream_error(self, err: anthropic.APIStatusError) -> ProviderError:
        error_type, message = _error_fields(err.body)
        detail = clean_detail(message or error_type or "unknown error", self._api_key)
        if error_type == "overloaded_error":
            return ProviderUnavailableError(f"{self.name}: the service is overloaded: {detail}")
        if error_type == "rate_limit_error":
            return ProviderRateLimitedError(f"{self.name}: rate limited: {detail}")
        return ProviderBadResponseError(f"{self.name}: the provider reported an error: {detail}")

    def _map_status(self, err: anthropic.APIStatusError, *, listing: bool) -> ProviderError:
        if listing:
            not_found = f"{self.name}: {self.base_url}/v1/models not found (HTTP 404)"
        else:
            not_found = f"{self.name}: model '{self.target.api_model}' not found (HTTP 404)"
        _, message = _error_fields(err.body)
        return status_error(
            err.status_code,
            name=self.name,
            detail=clean_detail(message or "", self._api_key),
            headers=err.response.headers,
            not_found=not_found,
            overloaded_statuses=(529,),
        )


def _error_fields(body: object) -> tuple[str | None, str | None]:
    """``(error.type, error.message)`` of an Anthropic error body, where present."""
    if not isinstance(body, dict):
        return None, body if isinstance(body, str) and body else None
    inner = body.get("error")
    if not isinstance(inner, dict):
        return None, None
    error_type = inner.get("type")
    message = inner.get("message")
    return (
        error_type if isinstance(error_type, str) else None,
        message if isinstance(message, str) and message else None,
    )
