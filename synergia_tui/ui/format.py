"""Small, pure formatting helpers for what the UI shows (times, money, tokens, latency, retries)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from synergia_tui.services.streaming import ProviderRetrying


def relative_time(then: datetime, now: datetime) -> str:
    """A short age: ``now``, ``5m``, ``3h``, ``2d``, ``6w``, ``2y``."""
    seconds = max(0.0, (now - then).total_seconds())
    if seconds < 60:
        return "now"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 24:
        return f"{hours}h"
    days = hours // 24
    if days < 7:
        return f"{days}d"
    if days < 365:
        return f"{days // 7}w"
    return f"{days // 365}y"


def format_cost(cost: Decimal) -> str:
    """Dollars with as many places as a small cost needs (``$0.0042``), never in float."""
    if cost == 0:
        return "$0"
    if cost >= 1:
        return f"${cost.quantize(Decimal('0.01'))}"
    return f"${cost.quantize(Decimal('0.0001'))}"


def format_tokens(count: int) -> str:
    """``950``, ``12.3k``, ``4.1M``."""
    if count < 1000:
        return str(count)
    if count < 1_000_000:
        return f"{count / 1000:.1f}k"
    return f"{count / 1_000_000:.1f}M"


def format_retry(notice: ProviderRetrying) -> str:
    """What a reply waiting to ask its provider again is doing: "rate limited — retrying in 3 s"."""
    why = "rate limited" if notice.rate_limited else "provider unavailable"
    wait = f"{notice.wait_s:.0f}" if notice.wait_s >= 1 else f"{notice.wait_s:.1f}"
    return f"{why} — retrying in {wait} s"


def format_latency(ms: float | None) -> str:
    """``3 ms``; sub-millisecond answers show as ``<1 ms``."""
    if ms is None:
        return "–"
    return "<1 ms" if ms < 1 else f"{ms:.0f} ms"


def format_context(tokens: int, window: int, *, estimated: bool) -> str:
    """``12.4k / 128k``, ``212 / 8k`` (``~`` in front when any of it is estimated)."""

    def short(count: int) -> str:
        return format_tokens(count).replace(".0k", "k").replace(".0M", "M")

    return f"{'~' if estimated else ''}{short(tokens)} / {short(window)}"
