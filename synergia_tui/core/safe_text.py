"""Untrusted text (from models, users, the database) made safe to put on a terminal."""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, and C1 controls (0x80-0x9f, which some terminals
# treat like ESC-prefixed sequences). Bidi overrides are shown too: they can disguise text.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: ␛ for ESC, ␀ for NUL, ...
    if code == 0x7F:
        return "\u2421"
    return f"<U+{code:04X}>"


def neutralize(text: str, *, keep_newlines: bool = True) -> str:
    """Every control character replaced by a visible stand-in; escape sequences cannot act."""
    text = text.replace("\r\n", "\n")
    if not keep_newlines:
        text = text.replace("\n", " ").replace("\t", " ")
    return _UNSAFE.sub(_visible, text)


def one_line(text: str) -> str:
    """Neutralized and folded onto a single line (for titles, names, table cells)."""
    return neutralize(text, keep_newlines=False)
