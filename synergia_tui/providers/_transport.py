"""Failures below the SDKs (timeouts, lost connections, garbage), the same for every provider.

Imported only by the SDK-backed modules, which are themselves imported lazily.
"""

from __future__ import annotations

import json

import httpx2  # the SDKs' own HTTP library: what they let escape mid-stream

from synergia_tui.core.errors import ProviderBadResponseError, ProviderUnavailableError


def transport_error(
    err: BaseException,
    *,
    name: str,
    base_url: str,
    timeout: float,
    started: bool,
    timeout_errors: tuple[type[BaseException], ...],
    connection_errors: tuple[type[BaseException], ...],
) -> ProviderUnavailableError | ProviderBadResponseError | None:
    """The typed error for a transport failure, or None when ``err`` is not one.

    ``timeout_errors`` and ``connection_errors`` are the SDK's own classes for those failures.
    """
    if isinstance(err, (*timeout_errors, httpx2.TimeoutException)):
        return ProviderUnavailableError(
            f"{name}: no answer from {base_url} within {timeout:g} s (timed out)"
        )
    if isinstance(err, (*connection_errors, httpx2.TransportError)):
        if started:
            return ProviderUnavailableError(
                f"{name}: the connection was lost in the middle of the answer"
            )
        return ProviderUnavailableError(f"{name}: cannot connect to {base_url}")
    if isinstance(err, json.JSONDecodeError):
        return ProviderBadResponseError(f"{name}: the answer was not valid JSON (malformed data)")
    return None
