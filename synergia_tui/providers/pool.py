"""The session's provider clients, one per target, reused from reply to reply."""

from __future__ import annotations

import threading

from synergia_tui.providers.base import Provider, ProviderTarget, create_provider


class ProviderPool:
    """One provider client per target for a whole session.

    Replies after the first reuse the client and its open connections (no new TLS handshake),
    and ``get`` can run ahead of a reply, on a thread, while the prompt is still being typed:
    making the first client imports its SDK and sets up TLS, most of a second.
    """

    def __init__(self) -> None:
        self._clients: dict[ProviderTarget, Provider] = {}
        self._lock = threading.Lock()

    def __contains__(self, target: ProviderTarget) -> bool:
        with self._lock:
            return target in self._clients

    def peek(self, target: ProviderTarget) -> Provider | None:
        """The client for ``target`` if one was made already (never blocks)."""
        with self._lock:
            return self._clients.get(target)

    def get(self, target: ProviderTarget) -> Provider:
        """The client for ``target``, made now if there is none yet (blocking: call on a thread)."""
        with self._lock:
            provider = self._clients.get(target)
        if provider is None:
            made = create_provider(target)
            with self._lock:
                provider = self._clients.setdefault(target, made)
        return provider

    async def discard(self, target: ProviderTarget) -> None:
        """Close and forget ``target``'s client (after a failure: the next reply starts afresh)."""
        with self._lock:
            provider = self._clients.pop(target, None)
        if provider is not None:
            await provider.aclose()

    async def aclose(self) -> None:
        """Close every client."""
        with self._lock:
            providers = list(self._clients.values())
            self._clients.clear()
        for provider in providers:
            await provider.aclose()
