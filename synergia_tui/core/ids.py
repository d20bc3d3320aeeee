"""Ids as people type them: a whole UUID, or its first hex digits."""

from __future__ import annotations

from synergia_tui.core.errors import ValidationError


def id_prefix(ref: str, what: str) -> str:
    """``ref``'s hex digits, lower-case, dashes dropped: a whole id or at least 4 of its first
    digits; anything else is refused in one line."""
    digits = ref.strip().lower().replace("-", "")
    if len(digits) < 4 or len(digits) > 32 or any(c not in "0123456789abcdef" for c in digits):
        raise ValidationError(f"{ref!r} is not a {what} id (give at least 4 of its hex digits)")
    return digits
