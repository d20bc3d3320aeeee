"""Measuring, comparing against a baseline, and reporting (table + JSON).

Every figure is a ratio against a baseline measured in the same run: absolute times on a shared
machine drift, ratios much less. Target and baseline runs are interleaved (A B A B …) so that a
burst of load from a neighbour hits both sides alike.
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PASS, FAIL, INFO, NOT_AVAILABLE = "PASS", "FAIL", "info", "n/a"


@dataclass
class Options:
    """How much work each case does (``--quick`` shrinks everything for the smoke test)."""

    quick: bool = False
    repeat: int = 5
    warmup: int = 1
    postgres_url: str | None = None
    keep_going: bool = True


@dataclass
class Row:
    """One line of the report: a measure of the target, the same measure of its baseline."""

    case: str
    name: str
    unit: str
    samples: list[float] = field(default_factory=list)
    baseline: str = ""
    baseline_samples: list[float] = field(default_factory=list)
    budget_ratio: float | None = None
    """The target's median may be at most this many times the baseline's median."""
    budget_max: float | None = None
    """The target's median must stay under this absolute value (in ``unit``)."""
    note: str = ""
    unavailable: str | None = None
    """Why the case could not run (the UI is not there yet, no PostgreSQL, …)."""

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None

    @property
    def baseline_median(self) -> float | None:
        return statistics.median(self.baseline_samples) if self.baseline_samples else None

    @property
    def ratio(self) -> float | None:
        median, base = self.median, self.baseline_median
        if median is None or not base:
            return None
        return median / base

    @property
    def status(self) -> str:
        if self.unavailable is not None:
            return NOT_AVAILABLE
        if self.budget_ratio is None and self.budget_max is None:
            return INFO
        ok = True
        if self.budget_ratio is not None:
            ok = ok and self.ratio is not None and self.ratio <= self.budget_ratio
        if self.budget_max is not None:
            ok = ok and self.median is not None and self.median < self.budget_max
        return PASS if ok else FAIL

    @property
    def budget_text(self) -> str:
        parts = []
        if self.budget_ratio is not None:
            parts.append(f"≤{self.budget_ratio:g}×")
        if self.budget_max is not None:
            parts.append(f"<{self.budget_max:g}{self.unit}")
        return " & ".join(parts) or "-"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            median=self.median,
            min=min(self.samples) if self.samples else None,
            max=max(self.samples) if self.samples else None,
            baseline_median=self.baseline_median,
            ratio=self.ratio,
            status=self.status,
        )
        return data


def unavailable(case: str, name: str, reason: str, **budget: float) -> Row:
    """A row for a case that cannot run here, with the reason instead of a number."""
    return Row(case=case, name=name, unit="ms", unavailable=reason, **budget)


def timed(fn: Callable[[], object]) -> float:
    """Milliseconds ``fn`` takes."""
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def compare(
    target: Callable[[], float],
    baseline: Callable[[], float],
    *,
    repeat: int,
    warmup: int,
) -> tuple[list[float], list[float]]:
    """Run both measures ``warmup`` times (discarded), then ``repeat`` times interleaved.

    Each callable returns its own measure (so it can time exactly the part that matters).
    """
    for _ in range(warmup):
        baseline()
        target()
    targets, baselines = [], []
    for i in range(repeat):
        # Alternate which side goes first, so neither always runs on a warmer cache.
        if i % 2:
            targets.append(target())
            baselines.append(baseline())
        else:
            baselines.append(baseline())
            targets.append(target())
    return targets, baselines


# -- report ----------------------------------------------------------------------------------


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def format_table(rows: list[Row]) -> str:
    """A plain-text table: one line per measure, notes and reasons indented below it."""
    header = ("case", "measure", "unit", "median", "min", "max", "baseline", "ratio", "budget", "")
    lines: list[tuple[str, ...]] = [header]
    for row in rows:
        ratio = f"{row.ratio:.2f}×" if row.ratio is not None else "-"
        lines.append(
            (
                row.case,
                row.name,
                row.unit,
                _fmt(row.median),
                _fmt(min(row.samples)) if row.samples else "-",
                _fmt(max(row.samples)) if row.samples else "-",
                _fmt(row.baseline_median),
                ratio,
                row.budget_text,
                row.status,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    numeric = {3, 4, 5, 6, 7}
    out = []
    for index, line in enumerate(lines):
        cells = [
            cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
            for i, cell in enumerate(line)
        ]
        out.append("  ".join(cells).rstrip())
        if index == 0:
            out.append("  ".join("-" * w for w in widths))
            continue
        row = rows[index - 1]
        detail = row.unavailable and f"not available: {row.unavailable}"
        for text in (f"baseline: {row.baseline}" if row.baseline else "", row.note, detail):
            if text:
                out.append(f"{'':{widths[0]}}    {text}")
    return "\n".join(out)


def write_json(rows: list[Row], path: Path, *, options: Options, seconds: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "options": {k: v for k, v in asdict(options).items() if k != "postgres_url"},
        "postgres": bool(options.postgres_url),
        "seconds": round(seconds, 1),
        "rows": [row.to_json() for row in rows],
    }
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
