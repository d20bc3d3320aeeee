"""Ollama: chat through its OpenAI-compatible ``/v1`` endpoint, models from its native API."""

from __future__ import annotations

import httpx

from synergia_tui.core.errors import (
    ProviderBadResponseError,
    ProviderError,
    ProviderUnavailableError,
)
from synergia_tui.providers.base import DiscoveredModel
from synergia_tui.providers.openai import OpenAIProvider


class OllamaProvider(OpenAIProvider):
    """A local (or remote) Ollama server; it needs no key."""

    name = "ollama"
    # Ollama's OpenAI layer reads the older parameter name.
    max_tokens_param = "max_tokens"

    @property
    def root_url(self) -> str:
        """The server root: the base URL without its trailing ``/v1``."""
        return self.base_url.rstrip("/").removesuffix("/v1")

    async def list_models(self) -> list[DiscoveredModel]:
        """The models pulled on the server, from ``GET {root}/api/tags``."""
        url = f"{self.root_url}/api/tags"
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.get(url)
            response.raise_for_status()
            payload = response.json()
        except httpx.TimeoutException as err:
            raise ProviderUnavailableError(
                f"{self.name}: no answer from {self.base_url} within {self.timeout:g} s (timed out)"
            ) from err
        except httpx.TransportError as err:
            raise ProviderUnavailableError(
                f"{self.name}: cannot connect to {self.base_url}"
            ) from err
        except httpx.HTTPStatusError as err:
            raise _status_error(self.name, url, err.response.status_code) from err
        except ValueError as err:  # json.JSONDecodeError, or a body that is not UTF-8
            raise ProviderBadResponseError(
                f"{self.name}: {url} did not answer with JSON (malformed data)"
            ) from err
        return [
            DiscoveredModel(api_model=name, provider=self.name, base_url=self.target.base_url)
            for name in _model_names(payload, self.name)
        ]

    def _not_found_message(self) -> str:
        model = self.target.api_model
        return (
            f"{self.name}: model '{model}' not found (HTTP 404); pull it with `ollama pull {model}`"
        )


def _status_error(name: str, url: str, status: int) -> ProviderError:
    if status == 404:
        return ProviderBadResponseError(
            f"{name}: {url} not found (HTTP 404); is this an Ollama server?"
        )
    if status >= 500:
        return ProviderUnavailableError(f"{name}: the server failed (HTTP {status})")
    return ProviderBadResponseError(f"{name}: the request was refused (HTTP {status})")


def _model_names(payload: object, name: str) -> list[str]:
    models = payload.get("models") if isinstance(payload, dict) else None
    if not isinstance(models, list):
        raise ProviderBadResponseError(f"{name}: the model list has no 'models' array")
    names: list[str] = []
    for entry in models:
        model_name = (entry.get("name") or entry.get("model")) if isinstance(entry, dict) else None
        if isinstance(model_name, str) and model_name:
            names.append(model_name)
    return names
