"""Plain and JSON output for the command line; every stored string printed is neutralized."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from synergia_tui.core.safe_text import one_line


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
