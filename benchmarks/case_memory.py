"""Case 5: peak RSS of the app, each measure in a fresh process, against the baseline app.

- ``SynergiaApp`` headless with the 10,000-message chat open;
- the same after a 4,000-token reply has streamed into that chat (needs streaming in the UI);
- baseline: ``benchmarks/baseline_app.py`` headless, after its first frame. Budget ≤ 2×.
"""

from __future__ import annotations

import os
import subprocess
import sys

from benchmarks import datagen
from benchmarks.case_streaming import API_KEY_ENV, check_streaming_ui, chunks
from benchmarks.databases import sqlite_database
from benchmarks.fake_provider import fake_server_module
from benchmarks.runner import Options, Row, unavailable
from benchmarks.ui_driver import UINotAvailable

CASE = "5 memory"


NOTES: list[str] = []
"""What the probes reported besides their figure (e.g. a reply stopped at the time cap)."""


def probe(*args: str) -> float:
    """Peak RSS in MiB of one probe process."""
    env = {**os.environ, API_KEY_ENV: os.environ.get(API_KEY_ENV, "bench-key")}
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory_probe", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    last = (result.stdout.strip().splitlines() or [""])[-1]
    if result.returncode == 3:
        raise UINotAvailable(last.removeprefix("not available: "))
    if result.returncode != 0:
        raise UINotAvailable(f"probe {args[0]} failed: {result.stderr.strip()[-300:]}")
    NOTES.extend(line for line in result.stderr.splitlines() if line.startswith("incomplete"))
    return int(last) / 1024


def _samples(args: list[str], repeat: int) -> list[float]:
    return [probe(*args) for _ in range(repeat)]


def run(options: Options) -> list[Row]:
    messages, tokens = (1_000, 500) if options.quick else (10_000, 4_000)
    repeat = max(1, min(options.repeat, 3))
    open_name = f"peak RSS, chat of {messages:,} messages open"
    stream_name = f"peak RSS, after streaming {tokens:,} tokens"
    rows = []
    try:
        baseline = _samples(["baseline"], repeat)
    except UINotAvailable as exc:
        return [unavailable(CASE, open_name, str(exc), budget_ratio=2.0)]
    with sqlite_database() as db:
        model_id = datagen.add_model(db)
        chat, message_rows = datagen.long_chat_rows(messages, model_id, title="Long chat")
        datagen.write_rows(db, [chat], message_rows)
        args = [db.url_text, str(chat[0])]
        for name, kind, extra in ((open_name, "open", []), (stream_name, "stream", None)):
            try:
                if kind == "stream":
                    check_streaming_ui()
                    fake = fake_server_module()
                    server = fake.FakeProviderServer(
                        fake.Script(chunks=chunks(tokens), tokens_per_second=1000.0)
                    ).start()
                    try:
                        # The chat's model must answer through the fake server.
                        stream_model = datagen.add_model(
                            db, name="bench-stream", base_url=server.openai_base_url
                        )
                        container = db.container()
                        container.chats.set_model(chat[0], stream_model)
                        container.close()
                        # One run: the reply alone can take the whole cap while streaming is slow.
                        samples = _samples([kind, *args, server.openai_base_url], 1)
                    finally:
                        server.stop()
                else:
                    samples = _samples([kind, *args, *(extra or [])], repeat)
            except UINotAvailable as exc:
                rows.append(unavailable(CASE, name, str(exc), budget_ratio=2.0))
                continue
            note = "; ".join(sorted(set(NOTES)))
            NOTES.clear()
            rows.append(
                Row(
                    case=CASE,
                    name=name,
                    unit="MiB",
                    samples=samples,
                    baseline="baseline app (same widgets, no database), headless",
                    baseline_samples=baseline,
                    budget_ratio=2.0,
                    note=note,
                )
            )
    return rows
