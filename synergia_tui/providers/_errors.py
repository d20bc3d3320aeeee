"""SDK failures and HTTP error statuses turned into typed errors, for every SDK-backed provider.

The ``openai`` and ``anthropic`` SDKs share one shape of exceptions (``APIStatusError``,
``APIError``, ...), so one mapping serves both; what differs is passed in. Imported only by the
SDK-backed modules, which are themselves imported lazily.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from types import ModuleType
from typing import Any

import httpx2  # the SDKs' own HTTP library: its errors escape a stream unwrapped

from synergia_tui.core.errors import (
    ProviderAuthError,
    ProviderBadResponseError,
    ProviderError,
    ProviderRateLimitedError,
    ProviderUnavailableError,
)
from synergia_tui.providers._transport import transport_error
from synergia_tui.providers.base import clean_detail, parse_retry_after


def sdk_error(
    err: BaseException,
    *,
    sdk: ModuleType,
    name: str,
    base_url: str,
    timeout: float,
    started: bool,
    api_key: str,
    on_status: Callable[[Any], ProviderError],
    api_error_message: Callable[[Any], str],
) -> ProviderError:
    """The typed error for a failure of the ``sdk`` module (``openai`` or ``anthropic``).

    ``on_status`` maps the SDK's ``APIStatusError``; ``api_error_message`` is the provider's
    text in a bare ``APIError`` (an error reported inside the stream).
    """
    transport = transport_error(
        err,
        name=name,
        base_url=base_url,
        timeout=timeout,
        started=started,
        timeout_errors=(sdk.APITimeoutError,),
        connection_errors=(sdk.APIConnectionError,),
    )
    if transport is not None:
        return transport
    if isinstance(err, sdk.APIStatusError):
        return on_status(err)
    if isinstance(err, sdk.APIResponseValidationError):
        return ProviderBadResponseError(f"{name}: the answer did not have the expected shape")
    if isinstance(err, sdk.APIError):
        detail = clean_detail(api_error_message(err), api_key)
        return ProviderBadResponseError(f"{name}: the provider reported an error: {detail}")
    if isinstance(err, httpx2.HTTPError):
        return ProviderUnavailableError(f"{name}: the connection failed ({type(err).__name__})")
    return ProviderError(f"{name}: {clean_detail(err, api_key)}")


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
