"""Case 8: how soon the real ``synergia`` shows the chat list, against a bare Textual app's first
paint in the same run (issue 11, item 5).

A SQLite database of 1,000 chats (one model, so no first-run screen); the target is the time from
launching ``synergia`` in a pty until the newest chat's title is drawn, the baseline the time until
``benchmarks/baseline_app.py`` draws its first screen.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from benchmarks import datagen
from benchmarks.case_startup import BASELINE_APP, PAINT_MARKERS, PYTHON, SYNERGIA, xdg_env
from benchmarks.databases import sqlite_database
from benchmarks.runner import Options, Row, compare, unavailable
from benchmarks.terminal import NotAvailable, first_paint

CASE = "8 chat list"
NEWEST_TITLE = "Newest bench chat"
"""The title of the chat with the newest activity: short enough for the sidebar at 100 columns."""
BUDGET_RATIO = 1.5


def run(options: Options) -> list[Row]:
    chats = 200 if options.quick else 1_000
    name = f"chat list shown: newest of {chats:,} chats (pty)"
    with (
        tempfile.TemporaryDirectory(prefix="synergia-bench-home-") as tmp,
        sqlite_database() as db,
    ):
        model_id = datagen.add_model(db)
        rows, _ = datagen.history_rows(chats, 0, model_id)
        newest = max(range(len(rows)), key=lambda i: rows[i][7])  # updated_at
        rows[newest] = (*rows[newest][:2], NEWEST_TITLE, *rows[newest][3:])
        datagen.write_rows(db, rows, [])
        env = {**xdg_env(Path(tmp)), **db.env()}
        seen: list[dict[str, float]] = []
        try:
            samples, base = compare(
                lambda: first_paint([SYNERGIA], (NEWEST_TITLE, *PAINT_MARKERS), env=env, seen=seen),
                lambda: first_paint([PYTHON, BASELINE_APP], PAINT_MARKERS, env=env),
                repeat=options.repeat,
                warmup=options.warmup,
            )
        except NotAvailable as exc:
            return [unavailable(CASE, name, str(exc), budget_ratio=BUDGET_RATIO)]
    paint = [s[PAINT_MARKERS[0]] for s in seen if PAINT_MARKERS[0] in s]
    titles = [s[NEWEST_TITLE] for s in seen if NEWEST_TITLE in s]
    note = ""
    if paint and titles:
        note = (
            f"median ms after start: first paint {statistics.median(paint):.0f}, "
            f"newest title {statistics.median(titles):.0f} (warm-up runs included)"
        )
    return [
        Row(
            case=CASE,
            name=name,
            unit="ms",
            samples=samples,
            baseline="minimal Textual app's first paint (benchmarks/baseline_app.py)",
            baseline_samples=base,
            budget_ratio=BUDGET_RATIO,
            note=note,
        )
    ]
