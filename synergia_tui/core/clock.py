"""The one place that reads the time, so every timestamp is timezone-aware UTC."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

_lock = threading.Lock()
_last = datetime.min.replace(tzinfo=UTC)


def utcnow() -> datetime:
    """Now, in UTC, strictly after any earlier call in this process.

    Messages are ordered by ``created_at``; two rows written within one clock tick must still
    keep the order they were written in.
    """
    global _last
    with _lock:
        now = datetime.now(UTC)
        if now <= _last:
            now = _last + timedelta(microseconds=1)
        _last = now
        return now
