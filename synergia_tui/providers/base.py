"""The one protocol every AI provider speaks, the plain data it exchanges, and the factory.

This module is imported at start-up, so it must stay light: it never imports an SDK or httpx.
"""

from __future__ import annotations

import importlib
import os
import re
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Literal, Protocol
from urllib.parse import urlsplit

from synergia_tui.core.errors import ProviderAuthError, ProviderError

PROVIDERS: tuple[str, ...] = ("openai", "anthropic", "ollama")
"""Provider names a model row may carry; ``openai`` also covers OpenAI-compatible servers."""

DEFAULT_BASE_URLS: Mapping[str, str] = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
    "ollama": "http://localhost:11434/v1",
}
"""Where each provider is reached when a model has no ``base_url`` of its own."""

CREDENTIALS_IN_URL = (
    "Base URL must not contain credentials: put the key in an environment variable "
    "and name it with --api-key-env"
)
"""Why a base URL with ``user:password@`` is refused (the message never repeats the URL)."""


def has_credentials(url: str) -> bool:
    """True when ``url`` carries a user name or password before its host."""
    return "@" in urlsplit(url.strip()).netloc


DEFAULT_API_KEY_ENVS: Mapping[str, str] = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
}
"""The variable read for the key when a model names none; Ollama needs no key."""

OLLAMA_PLACEHOLDER_KEY = "ollama"
"""Ollama ignores the key, but the OpenAI SDK refuses to run without one."""

DEFAULT_MAX_OUTPUT_TOKENS: Mapping[str, int | None] = {
    "anthropic": 16384,
    "openai": None,
    "ollama": None,
}
"""The answer length cap sent when a model sets none; ``None`` sends no cap (the server decides).

Anthropic requires a cap on every request; the others default to the model's own limit.
"""


@dataclass(frozen=True, slots=True)
class ChatTurn:
    """One earlier message of the conversation, as the provider sees it."""

    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True, slots=True)
class ProviderTarget:
    """Everything needed to reach one model; the service layer builds it from an AIModel row."""

    provider: str
    api_model: str
    base_url: str | None = None
    api_key_env: str | None = None
    max_output_tokens: int | None = None

    @property
    def effective_base_url(self) -> str:
        """The base URL actually used: the model's own, else the provider's default."""
        return self.base_url or DEFAULT_BASE_URLS.get(self.provider, "")

    @property
    def effective_max_output_tokens(self) -> int | None:
        """The answer length cap actually sent: the model's own, else the provider's default."""
        if self.max_output_tokens is not None:
            return self.max_output_tokens
        return DEFAULT_MAX_OUTPUT_TOKENS.get(self.provider)


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the answer, to append to what came before."""

    text: str


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of one answer; ``None`` when the provider did not report them.

    ``finish_reason`` is set only on the ``Usage`` that ends a stream which ended normally; it is
    normalized by ``normalize_finish_reason``.
    """

    prompt_tokens: int | None
    completion_tokens: int | None
    finish_reason: str | None = None


StreamEvent = TextDelta | Usage


@dataclass(frozen=True, slots=True)
class DiscoveredModel:
    """A model a provider says it serves."""

    api_model: str
    provider: str
    base_url: str | None


class Provider(Protocol):
    """A connection to one model. Every method raises only ``ProviderError`` subclasses."""

    def stream_chat(
        self,
        turns: Sequence[ChatTurn],
        *,
        system: str | None = None,
        max_tokens: int | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """Stream the answer to ``turns`` as ``TextDelta``s and ``Usage``s.

        A provider yields a ``Usage`` as soon as it knows counts, possibly more than once (the
        last one wins): Anthropic reports the input tokens when the message starts, so a reply
        cancelled or failed later still knows them; OpenAI and Ollama report only at the end.
        A stream that ends normally ends with a ``Usage`` whose ``finish_reason`` is set
        ("stop", "length", "content_filter", "tool_calls", or the provider's own word); no
        other ``Usage`` carries one. A stream that breaks off raises after yielding what did
        arrive. ``max_tokens`` overrides the target's ``effective_max_output_tokens``.
        """
        ...

    async def list_models(self) -> list[DiscoveredModel]:
        """The models the provider offers at this target's base URL."""
        ...

    async def aclose(self) -> None:
        """Release the HTTP connections."""
        ...


def resolve_api_key(target: ProviderTarget, environ: Mapping[str, str] = os.environ) -> str | None:
    """The API key for ``target``, or ``None`` when the variable it needs is unset or empty.

    The model's own ``api_key_env`` wins; otherwise the provider's usual variable. Ollama needs
    no key, so it gets a placeholder.
    """
    env_name = target.api_key_env or DEFAULT_API_KEY_ENVS.get(target.provider)
    if env_name:
        value = environ.get(env_name, "").strip()
        if value:
            return value
    if target.provider == "ollama":
        return OLLAMA_PLACEHOLDER_KEY
    return None


# provider name -> (module, class); the class takes (target, *, api_key, timeout).
_IMPLEMENTATIONS: Mapping[str, tuple[str, str]] = {
    "openai": ("synergia_tui.providers.openai", "OpenAIProvider"),
    "anthropic": ("synergia_tui.providers.anthropic", "AnthropicProvider"),
    "ollama": ("synergia_tui.providers.ollama", "OllamaProvider"),
}


def create_provider(
    target: ProviderTarget,
    *,
    timeout: float = 60.0,
    environ: Mapping[str, str] = os.environ,
) -> Provider:
    """A provider client for ``target``.

    Raises ``ProviderError`` for an unknown provider and ``ProviderAuthError`` when no key is set.
    """
    if target.provider not in _IMPLEMENTATIONS:
        raise ProviderError(
            f"unknown provider {target.provider!r} (expected one of {', '.join(PROVIDERS)})"
        )
    # Sent as Basic auth and echoed by every "cannot connect to URL" message: never used, even
    # from a row stored before base URLs with credentials were refused.
    if target.base_url and has_credentials(target.base_url):
        raise ProviderError(CREDENTIALS_IN_URL)
    api_key = resolve_api_key(target, environ)
    if api_key is None:
        env_name = target.api_key_env or DEFAULT_API_KEY_ENVS[target.provider]
        raise ProviderAuthError(
            f"{target.provider}: no API key; set the environment variable {env_name}"
        )
    module_name, class_name = _IMPLEMENTATIONS[target.provider]
    # Imported here, not at the top: the SDKs take a noticeable time to import, and the app
    # should start (and run commands that never talk to a model) without paying for them.
    module = importlib.import_module(module_name)
    provider_class = getattr(module, class_name)
    return provider_class(target, api_key=api_key, timeout=timeout)


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date)."""
    millis = _to_float(headers.get("retry-after-ms"))
    if millis is not None:
        return max(millis / 1000, 0.0)
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _to_float(value)
    if seconds is not None:
        return max(seconds, 0.0)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(moment.timestamp() - time.time(), 0.0)


def _to_float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


_WHITESPACE = re.compile(r"\s+")
_UNSAFE_REASON = re.compile(r"[^A-Za-z0-9_.-]")

_FINISH_REASONS: Mapping[str, str] = {
    "stop": "stop",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "length": "length",
    "max_tokens": "length",
    "content_filter": "content_filter",
    "tool_calls": "tool_calls",
    "tool_use": "tool_calls",
    "function_call": "tool_calls",
}


def normalize_finish_reason(reason: str) -> str:
    """A provider's finish / stop reason in Synergia's words.

    OpenAI ``stop`` and Anthropic ``end_turn`` / ``stop_sequence`` are "stop"; ``length`` and
    ``max_tokens`` are "length"; ``tool_calls`` / ``tool_use`` are "tool_calls". Any other word is
    kept, made short and plain (it is stored and shown).
    """
    known = _FINISH_REASONS.get(reason)
    if known is not None:
        return known
    return _UNSAFE_REASON.sub("_", reason)[:32] or "unknown"


def clean_detail(text: object, api_key: str | None, *, limit: int = 200) -> str:
    """A provider's own message made safe to show: one line, short, never the API key."""
    detail = _WHITESPACE.sub(" ", str(text)).strip()
    if api_key and len(api_key) >= 4:
        detail = detail.replace(api_key, "***")
    if len(detail) > limit:
        detail = detail[: limit - 1].rstrip() + "…"
    return detail
