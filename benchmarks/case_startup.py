"""Case 1: start-up of the real ``synergia`` command, each against a baseline.

- first paint of the TUI in a real pty (fresh XDG directories) vs the baseline Textual app;
- ``synergia --version`` vs ``python -c pass``;
- ``synergia health`` vs the baseline import: the third-party stack a health check cannot avoid
  (SQLAlchemy ORM + the driver, SQLModel, pydantic-settings, Alembic's revision reader).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from benchmarks.runner import Options, Row, compare, unavailable
from benchmarks.terminal import NotAvailable, first_paint, run_to_exit
from synergia_tui import __version__

CASE = "1 startup"
PYTHON = sys.executable
SYNERGIA = str(Path(sys.executable).with_name("synergia"))
BASELINE_APP = str(Path(__file__).with_name("baseline_app.py"))
PAINT_MARKERS = ("Send", __version__)
"""Text both apps draw once their main screen is up: the footer's first key (enter: Send) and the
status bar's version. (Not "Quit": at 100 columns the real footer has no room left for it.)"""
BASELINE_IMPORT = (
    "import sqlalchemy.orm, psycopg, sqlmodel, pydantic_settings, "
    "alembic.runtime.migration, alembic.script"
)


def xdg_env(home: Path) -> dict[str, str]:
    """A fresh, private set of XDG directories and none of the caller's database settings.

    An empty value means "unset" (the terminal helpers drop it from the environment).
    """
    return {
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_STATE_HOME": str(home / "state"),
        "SYNERGIA_DATABASE_URL": "",
        "POSTGRES_SERVER": "",
    }


def _compare_row(
    name: str,
    target: Callable[[], float],
    baseline_name: str,
    baseline: Callable[[], float],
    options: Options,
    **budget: float,
) -> Row:
    try:
        samples, base = compare(target, baseline, repeat=options.repeat, warmup=options.warmup)
    except NotAvailable as exc:
        return unavailable(CASE, name, str(exc), **budget)
    return Row(
        case=CASE,
        name=name,
        unit="ms",
        samples=samples,
        baseline=baseline_name,
        baseline_samples=base,
        **budget,
    )


def run(options: Options) -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="synergia-bench-home-") as tmp:
        env = xdg_env(Path(tmp))
        rows.append(
            _compare_row(
                "synergia --version",
                lambda: run_to_exit([SYNERGIA, "--version"], env=env),
                "python -c pass",
                lambda: run_to_exit([PYTHON, "-c", "pass"], env=env),
                options,
                budget_ratio=1.3,
            )
        )
        rows.append(
            _compare_row(
                "synergia health (embedded SQLite)",
                lambda: run_to_exit([SYNERGIA, "health"], env=env),
                f"python -c '{BASELINE_IMPORT}'",
                lambda: run_to_exit([PYTHON, "-c", BASELINE_IMPORT], env=env),
                options,
                budget_ratio=1.3,
            )
        )
        seen: list[dict[str, float]] = []
        rows.append(
            _compare_row(
                "synergia first paint (pty)",
                lambda: first_paint([SYNERGIA], PAINT_MARKERS, env=env, seen=seen),
                "minimal Textual app, same widgets, no database (benchmarks/baseline_app.py)",
                lambda: first_paint([PYTHON, BASELINE_APP], PAINT_MARKERS, env=env),
                options,
                budget_ratio=1.3,
            )
        )
        times = {
            m: statistics.median(s[m] for s in seen if m in s)
            for m in PAINT_MARKERS
            if any(m in s for s in seen)
        }
        if times:
            rows[-1].note = "per marker, median ms after start: " + ", ".join(
                f"{m!r} {t:.0f}" for m, t in times.items()
            )
    return rows
