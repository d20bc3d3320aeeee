"""Checks shared by the services; each failure is a ``ValidationError`` a user can read."""

from __future__ import annotations

import re

from synergia_tui.core.errors import ValidationError

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def storable_text(value: str, what: str) -> str:
    """Refuse text both backends cannot store identically: NUL bytes and lone surrogates."""
    if "\x00" in value:
        raise ValidationError(f"{what} contains a NUL byte, which cannot be stored")
    if _SURROGATE.search(value):
        raise ValidationError(f"{what} contains an unpaired surrogate, which cannot be stored")
    return value


def single_line(value: str | None, what: str, *, max_length: int) -> str:
    """A required one-line field: trimmed, non-empty, no control characters, bounded length."""
    text = (value or "").strip()
    if not text:
        raise ValidationError(f"{what} is required")
    if "\n" in text or "\r" in text:
        raise ValidationError(f"{what} must be a single line")
    if _CONTROL.search(text):
        raise ValidationError(f"{what} must not contain control characters")
    storable_text(text, what)
    if len(text) > max_length:
        raise ValidationError(f"{what} is longer than {max_length} characters")
    return text


def scrub_reply(text: str) -> str:
    """Provider output that cannot be stored is kept visibly marked rather than lost."""
    text = text.replace("\x00", "\u2400")
    return _SURROGATE.sub("\ufffd", text)
