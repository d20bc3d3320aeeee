"""Case 9: reading a long chat back with PageUp, and Home to its first message (issue 11).

Chats of 2,000 and 10,000 Markdown messages (~400 characters, a fenced code block in every
tenth), each read back in a fresh process (``reading_probe``, whose docstring defines when a
key has *landed*): open the chat, focus the pane, press ``pageup`` until the first message is
on screen or the time cap, then open it afresh and press ``home``.

- key latency: each ``pageup`` from posting it until it has landed and been drawn; budget: the
  median under 50 ms. Baseline: the same through the baseline app's pane (40 of the same
  messages, all mounted), so Textual's own share is visible (its page scroll is animated);
- last vs first: time per key (the mean, so page loads count) over the keys that scrolled the
  last 50 messages reached, against the first 50; budget ≤ 1.2×;
- total time to the first message, and per message scrolled against elia's figure (34 s for
  2,000 messages, 17 ms a message); a read stopped at the cap reports how far it got;
- ``MessageView`` widgets mounted at the end (info);
- peak RSS (``VmHWM``) after reading back against the same process with the chat just opened;
  budget ≤ 1.2×;
- ``home``: from the key until the first message is on screen; budget < 300 ms, absolute as the
  issue states. Baseline: ``home`` in the baseline app's pane (Textual animates it for 1 s).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import datagen
from benchmarks.databases import sqlite_database
from benchmarks.runner import Options, Row, unavailable
from benchmarks.ui_driver import UINotAvailable

CASE = "9 reading back"
CAP_S = 120.0
"""Reading back stops here (today's pane takes far longer) and says how far it got."""
PAGE_WORTH = 50
"""Messages in "a page-worth of keys": several of today's 8-message pages, a few screens."""
HOME_CAP_MS = 10_000.0
"""What ``reading_probe`` waits for ``home`` (a run past it counts as this, a lower bound)."""
ELIA_MS_PER_MESSAGE = 17.0
BASELINE_PANE = "the baseline app's VerticalScroll of 40 of the same messages, all mounted"


def probe(url: str, chat_id: str, ids: list[str], cap_s: float, home_runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="synergia-bench-ids-") as tmp:
        ids_path = Path(tmp) / "ids"
        ids_path.write_text("\n".join(ids))
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.reading_probe",
                url,
                chat_id,
                str(ids_path),
                str(cap_s),
                str(home_runs),
            ],
            capture_output=True,
            text=True,
            timeout=cap_s + 400,
        )
    last = (result.stdout.strip().splitlines() or [""])[-1]
    if result.returncode == 3:
        raise UINotAvailable(last.removeprefix("not available: "))
    if result.returncode != 0:
        raise UINotAvailable(f"reading probe failed: {result.stderr.strip()[-300:]}")
    data: dict[str, Any] = json.loads(last)
    return data


def _tops(data: dict[str, Any]) -> list[int]:
    """The highest message on screen after each key (carried over a key where none was)."""
    out, last = [], data["start_top"]
    for top in data["tops"]:
        last = top if top is not None else last
        out.append(last)
    return out


def first_and_last(data: dict[str, Any]) -> tuple[list[float], list[float]]:
    """Keys that scrolled the first ``PAGE_WORTH`` messages, and those of the last reached."""
    keys, tops, start = data["keys"], _tops(data), data["start_top"]
    end = tops[-1] if tops else start
    before = [start, *tops[:-1]]  # where each key started from
    first = []
    for key, top in zip(keys, tops, strict=True):
        first.append(key)
        if start - top >= PAGE_WORTH:
            break
    last = [key for key, top in zip(keys, before, strict=True) if top - end <= PAGE_WORTH]
    return first, last


def _rows(n: int, data: dict[str, Any]) -> list[Row]:
    keys, messages = data["keys"], data["messages"]
    tops = _tops(data)
    end = tops[-1] if tops else data["start_top"]
    scrolled = data["start_top"] - end
    total_ms = sum(keys)
    if data["reached"]:
        how_far = f"reached the first message after {len(keys)} keys"
    elif data["stopped"] == "cap":
        how_far = (
            f"stopped at the {data['cap_s']:.0f} s cap after {scrolled:,} of {messages:,} messages "
            f"({len(keys)} keys)"
        )
    else:
        how_far = f"stopped after {scrolled:,} of {messages:,} messages: {data['stopped']}"
    label = f"{n:,} messages"
    rows = [
        Row(
            case=CASE,
            name=f"{label}: pageup key latency",
            unit="ms",
            samples=keys,
            baseline=f"pageup in {BASELINE_PANE}",
            baseline_samples=data["baseline_keys"],
            budget_max=50,
            note=f"{how_far}; p90 {statistics.quantiles(keys, n=10)[-1]:.0f} ms"
            if len(keys) >= 2
            else how_far,
        )
    ]
    first, last = first_and_last(data) if keys else ([], [])
    name = f"{label}: time per key, last {PAGE_WORTH} messages vs first {PAGE_WORTH}"
    if scrolled >= 2 * PAGE_WORTH:
        rows.append(
            Row(
                case=CASE,
                name=name,
                unit="ms",
                samples=[statistics.fmean(last)],
                baseline=f"the first {PAGE_WORTH} messages scrolled ({len(first)} keys)",
                baseline_samples=[statistics.fmean(first)],
                budget_ratio=1.2,
                note=f"mean per key over {len(last)} keys",
            )
        )
    else:
        # Overlapping halves would compare keys with themselves: a figure that cannot fail.
        reason = f"fewer than {2 * PAGE_WORTH} messages read ({how_far})"
        rows.append(unavailable(CASE, name, reason, budget_ratio=1.2))
    rows += [
        Row(
            case=CASE,
            name=f"{label}: total time to the first message",
            unit="s",
            samples=[total_ms / 1000],
            note=("" if data["reached"] else "not reached: ") + how_far,
        ),
        Row(
            case=CASE,
            name=f"{label}: time per message scrolled",
            unit="ms",
            samples=[total_ms / scrolled] if scrolled > 0 else [],
            baseline="elia: 34 s for 2,000 messages (its figure, not measured here)",
            budget_max=ELIA_MS_PER_MESSAGE,
            note=f"sum of key latencies / {scrolled:,} messages scrolled",
            unavailable=None if scrolled > 0 else f"no message scrolled ({how_far})",
        ),
        Row(
            case=CASE,
            name=f"{label}: MessageViews mounted at the end",
            unit="views",
            samples=[data["mounted"]],
            note="at the first message" if data["reached"] else how_far,
        ),
        Row(
            case=CASE,
            name=f"{label}: peak RSS after reading back",
            unit="MiB",
            samples=[data["rss_read_kib"] / 1024],
            baseline="the same process with the chat just opened",
            baseline_samples=[data["rss_open_kib"] / 1024],
            budget_ratio=1.2,
            note=f"VmHWM, one process; {how_far}",
        ),
    ]
    homes = data["home"]
    rows.append(
        Row(
            case=CASE,
            name=f"{label}: home → first message on screen",
            unit="ms",
            samples=[HOME_CAP_MS if ms is None else ms for ms in homes],
            baseline=f"home in {BASELINE_PANE}",
            baseline_samples=data["baseline_home"],
            budget_max=300,
            note=f"not on screen after {HOME_CAP_MS / 1000:.0f} s: the figure is that cap, "
            "a lower bound"
            if None in homes
            else f"{len(homes)} runs, the chat opened afresh before each",
        )
    )
    return rows


def _measure(n: int, options: Options, cap_s: float) -> list[Row]:
    with sqlite_database() as db:
        model_id = datagen.add_model(db)
        chat, rows = datagen.reading_chat_rows(n, model_id, title="Reading back")
        datagen.write_rows(db, [chat], rows)
        data = probe(
            db.url_text,
            str(chat[0]),
            [str(row[0]) for row in rows],
            cap_s,
            home_runs=max(1, min(options.repeat, 3)),
        )
    return _rows(n, data)


def run(options: Options) -> list[Row]:
    sizes, cap_s = ((300, 1_000), 20.0) if options.quick else ((2_000, 10_000), CAP_S)
    rows: list[Row] = []
    for n in sizes:
        try:
            rows += _measure(n, options, cap_s)
        except UINotAvailable as exc:
            rows.append(
                unavailable(CASE, f"{n:,} messages: pageup key latency", str(exc), budget_max=50)
            )
    return rows
