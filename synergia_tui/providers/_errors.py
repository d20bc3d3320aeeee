"""HTTP error statuses turned into typed errors, the same for every SDK-backed provider.

Imported only by the SDK-backed modules, which are themselves imported lazily.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from synergia_tui.core.errors import (
    ProviderAuthError,
    ProviderBadResponseError,
    ProviderError,
    ProviderRateLimitedError,
    ProviderUnavailableError,
)
from synergia_tui.providers.base import parse_retry_after


def status_error(
    code: int,
    *,
    name: str,
    detail: str,
    headers: Mapping[str, str],
    not_found: str,
    overloaded_statuses: Collection[int] = (),
) -> ProviderError:
    """The typed error for an HTTP error ``code`` from provider ``name``.

    ``detail`` is the provider's own message, already cleaned (``clean_detail``); ``not_found``
    is the whole message for a 404, which differs by provider and by request; a status in
    ``overloaded_statuses`` (Anthropic's 529) reads as "overloaded".
    """
    suffix = f": {detail}" if detail else ""
    if code == 401:
        # The body often echoes a masked key; we say nothing of it.
        return ProviderAuthError(f"{name}: the API key was refused (HTTP 401)")
    if code == 403:
        return ProviderAuthError(f"{name}: access denied (HTTP 403){suffix}")
    if code == 404:
        return ProviderBadResponseError(not_found)
    if code == 429:
        retry_after = parse_retry_after(headers)
        wait = f"; retry after {retry_after:g} s" if retry_after is not None else ""
        return ProviderRateLimitedError(
            f"{name}: rate limited (HTTP 429){wait}{suffix}", retry_after=retry_after
        )
    if code in overloaded_statuses:
        return ProviderUnavailableError(f"{name}: the service is overloaded (HTTP {code}){suffix}")
    if code == 503:
        return ProviderUnavailableError(f"{name}: the service is unavailable (HTTP 503){suffix}")
    if code >= 500:
        return ProviderUnavailableError(f"{name}: the service failed (HTTP {code}){suffix}")
    return ProviderBadResponseError(f"{name}: the request was refused (HTTP {code}){suffix}")
