"""Plain and JSON output for the command line; everything printed is neutralized.

Every command runs inside ``neutralized_output()``: stdout and stderr are replaced by streams that
turn control characters into visible stand-ins (newlines and tabs kept), whether they go to a
terminal, a pipe or a file. So no string a model, a user or the database supplied can move the
cursor, clear the screen, set the window title or write the clipboard, and a command added later
is safe without remembering to be. Only ``--raw`` writes through ``raw_stdout()``.
"""

from __future__ import annotations

import io
import json
import sys
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any, TextIO

from synergia_tui.core.safe_text import neutralize, one_line


class NeutralizingStream(io.TextIOBase):
    """A text stream that neutralizes what is written before passing it to ``target``."""

    def __init__(self, target: TextIO) -> None:
        super().__init__()
        self.target = target

    def write(self, text: str) -> int:
        self.target.write(neutralize(text))
        return len(text)

    def flush(self) -> None:
        self.target.flush()

    def isatty(self) -> bool:
        return self.target.isatty()

    def fileno(self) -> int:
        return self.target.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.target.encoding


@contextmanager
def neutralized_output() -> Iterator[None]:
    """Neutralize everything printed to stdout and stderr inside the block."""
    saved = sys.stdout, sys.stderr
    sys.stdout = NeutralizingStream(saved[0])
    sys.stderr = NeutralizingStream(saved[1])
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = saved


def raw_stdout() -> TextIO:
    """The real stdout, for ``--raw``: bytes exactly as stored or as the model sent them."""
    stream = sys.stdout
    return stream.target if isinstance(stream, NeutralizingStream) else stream


def to_jsonable(value: Any) -> Any:
    """Stable JSON: UUIDs and datetimes as strings, decimals as exact strings."""
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def print_json(value: Any) -> None:
    json.dump(to_jsonable(value), sys.stdout, indent=2, ensure_ascii=True)
    sys.stdout.write("\n")


def print_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    cells = [[one_line("" if c is None else str(c)) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line.rstrip())
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def error(message: str) -> None:
    print(f"synergia: {one_line(message)}", file=sys.stderr)
