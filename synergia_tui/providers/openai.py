"""OpenAI and every OpenAI-compatible server, through the official ``openai`` SDK."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx2  # the SDK's own HTTP library: what it lets escape mid-stream
import openai

from synergia_tui.core.errors import (
    ProviderError,
    ProviderUnavailableError,
)
from synergia_tui.providers._errors import sdk_error, status_error
from synergia_tui.providers.base import (
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


class OpenAIProvider:
    """Chat Completions streaming and ``/models`` listing for one target."""

    name = "openai"
    # OpenAI's current name for the cap; older compatible servers only know ``max_tokens``.
    max_tokens_param = "max_completion_tokens"

    def __init__(self, target: ProviderTarget, *, api_key: str, timeout: float = 60.0) -> None:
        self.target = target
        self.base_url = target.effective_base_url
        self.timeout = timeout
        self._api_key = api_key
        self._client = openai.AsyncOpenAI(
            api_key=api_key,
            base_url=self.base_url,
            timeout=timeout,
            max_retries=0,
        )
        # Resolved now, not on the first reply: its first access imports the SDK's chat types.
        self._completions = self._client.chat.completions

    async def stream_chat(
        self,
        turns: Sequence[ChatTurn],
        *,
        system: str | None = None,
        max_tokens: int | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """Stream the answer: ``TextDelta``s, then one ``Usage``; see ``Provider.stream_chat``.

        The usage comes only with the last chunk (``include_usage``), so it is yielded once.
        """
        messages: list[dict[str, str]] = []
        if system:
            messages.append({"role": "system", "content": system})
        messages.extend({"role": turn.role, "content": turn.content} for turn in turns)
        extra: dict[str, Any] = {}
        cap = max_tokens if max_tokens is not None else self.target.effective_max_output_tokens
        if cap is not None:
            extra[self.max_tokens_param] = cap

        started = False
        finish_reason: str | None = None
        prompt_tokens: int | None = None
        completion_tokens: int | None = None
        try:
            # Plain dicts for messages and a cap whose name depends on the server: the SDK's
            # overloads cannot see through them.
            stream = await self._completions.create(  # type: ignore[call-overload]
                model=self.target.api_model,
                messages=messages,
                stream=True,
                stream_options={"include_usage": True},
                **extra,
            )
            started = True
            async with stream:
                async for chunk in stream:
                    if chunk.usage is not None:
                        prompt_tokens = chunk.usage.prompt_tokens
                        completion_tokens = chunk.usage.completion_tokens
                    for choice in chunk.choices or ():
                        if choice.finish_reason:
                            finish_reason = normalize_finish_reason(choice.finish_reason)
                        text = choice.delta.content if choice.delta is not None else None
                        if text:
                            yield TextDelta(text)
        except (openai.OpenAIError, httpx2.HTTPError, json.JSONDecodeError) as err:
            raise self._error(err, started=started) from err
        if finish_reason is None:
            raise ProviderUnavailableError(f"{self.name}: the stream ended early")
        yield Usage(prompt_tokens, completion_tokens, finish_reason)

    async def list_models(self) -> list[DiscoveredModel]:
        """The model ids ``GET {base_url}/models`` reports."""
        try:
            page = await self._client.models.list()
            ids = [model.id async for model in page]
        except (openai.OpenAIError, httpx2.HTTPError, json.JSONDecodeError) as err:
            raise self._error(err, started=False, listing=True) from err
        return [
            DiscoveredModel(api_model=model_id, provider=self.name, base_url=self.target.base_url)
            for model_id in ids
        ]

    async def aclose(self) -> None:
        """Close the SDK's connection pool."""
        await self._client.close()

    def _not_found_message(self) -> str:
        return f"{self.name}: model '{self.target.api_model}' not found (HTTP 404)"

    def _error(self, err: BaseException, *, started: bool, listing: bool = False) -> ProviderError:
        """Translate an SDK or transport failure into the typed error a user sees."""
        mapped = self._map(err, started=started, listing=listing)
        log.warning("%s", mapped)
        return mapped

    def _map(self, err: BaseException, *, started: bool, listing: bool) -> ProviderError:
        return sdk_error(
            err,
            sdk=openai,
            name=self.name,
            base_url=self.base_url,
            timeout=self.timeout,
            started=started,
            api_key=self._api_key,
            on_status=lambda status: self._map_status(status, listing=listing),
            # The SDK raises a bare APIError for an ``error`` object inside the stream.
            api_error_message=lambda api: _body_message(api.body) or api.message,
        )

    def _map_status(self, err: openai.APIStatusError, *, listing: bool) -> ProviderError:
        if listing:
            not_found = f"{self.name}: {self.base_url}/models not found (HTTP 404)"
        else:
            not_found = self._not_found_message()
        return status_error(
            err.status_code,
            name=self.name,
            detail=clean_detail(_body_message(err.body) or "", self._api_key),
            headers=err.response.headers,
            not_found=not_found,
        )


def _body_message(body: object) -> str | None:
    """The ``message`` of an OpenAI error body (the SDK hands over the inner ``error`` object)."""
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            message = inner.get("message")
            if isinstance(message, str) and message:
                return message
        elif isinstance(inner, str) and inner:
            return inner
    elif isinstance(body, str) and body:
        return body
    return None
