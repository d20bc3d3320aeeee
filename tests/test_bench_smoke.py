"""The performance harness runs: a small database case prints its table and writes its JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import postgres_server_or_skip

ROOT = Path(__file__).resolve().parent.parent


def test_quick_db_benchmark_prints_a_table_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if k != "SYNERGIA_BENCH_POSTGRES_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "db", "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert "SQLite: list chats page (50)" in result.stdout
    assert "ratio" in result.stdout.splitlines()[0]
    payload = json.loads(out.read_text())
    measured = [row for row in payload["rows"] if row["samples"]]
    names = {row["name"] for row in measured}
    assert {
        "SQLite: list chats page (50)",
        "SQLite: load message page (30)",
        "SQLite: append message",
        "SQLite: stream-save batch",
    } <= names
    for row in measured:
        assert row["median"] > 0 and row["baseline_median"] > 0
        assert row["ratio"] == row["median"] / row["baseline_median"]


def test_quick_open_chat_benchmark_opens_chats_in_turn_and_pages_back(tmp_path: Path) -> None:
    """Case 2 opens a long and a short chat in turn, each from an emptied pane, then reads back:
    the pane once mounted a page into a pane being emptied there (IndexError, the app gone)."""
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "open-chat", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    rows = json.loads(out.read_text())["rows"]
    assert len(rows) == 2 and all(not row.get("unavailable") for row in rows), rows
    opened, paged = rows
    assert opened["samples"] and opened["baseline_samples"]
    assert paged["samples"] and "cap" not in (paged.get("note") or ""), paged


def test_quick_cursor_benchmark_walks_the_cursor_up_a_long_chat(tmp_path: Path) -> None:
    """Case 10 presses up a hundred times on a windowed chat: every step lands on the message
    before it, pages loaded on the way."""
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "message-cursor"]
        + ["--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    rows = json.loads(out.read_text())["rows"]
    assert len(rows) == 2 and all(not row.get("unavailable") for row in rows), rows
    assert len(rows[0]["samples"]) == 100


def test_quick_streaming_benchmark_streams_a_whole_reply_from_its_own_server_process(
    tmp_path: Path,
) -> None:
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "streaming", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    rows = {row["name"]: row for row in json.loads(out.read_text())["rows"]}
    complete = rows["reply complete on screen (500 tokens)"]
    assert complete["samples"] and complete["baseline_samples"], complete
    assert "not complete" not in (complete.get("note") or "")


def test_quick_first_token_benchmark_times_the_wire_and_the_screen_on_one_clock(
    tmp_path: Path,
) -> None:
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if k != "SYNERGIA_BENCH_POSTGRES_URL"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--quick",
            "--only",
            "first-token",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    rows = {row["name"]: row for row in json.loads(out.read_text())["rows"]}
    for name in ("SQLite: Enter → request on the wire", "SQLite: first token → on screen"):
        row = rows[name]
        assert row["samples"] and row["baseline_samples"], row
        # Stamps of two processes on one clock: an event never comes before its cause.
        assert min(row["samples"]) > 0 and min(row["baseline_samples"]) > 0, row
        assert row["budget_max"] is not None and row["budget_ratio"] is None


def test_quick_search_benchmark_times_each_kind_of_query_and_the_import(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if k != "SYNERGIA_BENCH_POSTGRES_URL"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "search", "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    rows = {row["name"]: row for row in json.loads(out.read_text())["rows"]}
    for kind in ("common word", "rare word", "phrase of two common words", "no match"):
        row = rows[f"SQLite: search, {kind}"]
        assert row["samples"] and row["baseline_samples"], row
        assert row["budget_max"] == 100
    assert "0 hits shown" in rows["SQLite: search, no match"]["note"]
    assert "7 matching messages" in rows["SQLite: search, rare word"]["note"]
    imported = rows["SQLite: import (ChatGPT export)"]
    assert imported["unit"] == "msg/s" and imported["median"] > 0


def test_quick_live_sync_benchmark_times_both_backends_as_a_member(tmp_path: Path) -> None:
    server = postgres_server_or_skip()
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--quick",
            "--only",
            "live-sync",
            "--postgres",
            server.render_as_string(hide_password=False),
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    rows = {row["name"]: row for row in json.loads(out.read_text())["rows"]}
    for label in ("SQLite", "PostgreSQL"):
        delay = rows[f"{label}: commit elsewhere → shown here"]
        assert delay["samples"] and delay["baseline_samples"], delay
        assert delay["budget_max"] == 1000
        idle = rows[f"{label}: idle listener, CPU a minute"]
        assert idle["unit"] == "s" and idle["samples"], idle
