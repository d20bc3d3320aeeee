"""Case 10 (issue 12): the message cursor walking up a chat of 10,000 messages.

Headless ``SynergiaApp`` over real services on SQLite, the chat of ~400-character Markdown
messages case 9 reads. ``alt+up`` puts the cursor on the newest message; then each ``up`` is a
step: from posting the key until the cursor is on the message before, that message is on
screen, and a frame has been drawn. A step at the window's edge waits for the page beyond (the
pane keeps the key until it is mounted), and counts whole.

Rows: step latency (median, budget < 50 ms), and the last 50 steps against the first 50 (the
cost must not grow with the distance walked: ≤ 1.2×).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from benchmarks import datagen
from benchmarks.databases import sqlite_database
from benchmarks.runner import Options, Row, unavailable
from benchmarks.ui_driver import (
    SIZE,
    UINotAvailable,
    after_refresh,
    make_app,
    on_screen,
    open_chat,
    post_key,
    services_loaded,
    wait_until,
)

CASE = "10 message cursor"
WORTH = 50
STEP_TIMEOUT_S = 30.0


async def _step(app: Any, pane: Any) -> float:
    """Milliseconds for one ``up`` to land on the message before."""

    def selected_index() -> int | None:
        view = pane.selected_view()
        return pane.first_index + pane.views.index(view) if view is not None else None

    before = selected_index()
    assert before is not None
    start = time.perf_counter()
    deadline = start + STEP_TIMEOUT_S
    post_key(app, "up")
    while True:
        await after_refresh(app)
        if selected_index() == before - 1 and on_screen(pane, pane.selected_view()):
            return (time.perf_counter() - start) * 1000
        if time.perf_counter() > deadline:
            raise UINotAvailable(f"the cursor did not move up within {STEP_TIMEOUT_S:.0f} s")


async def _measure(messages: int, steps: int) -> list[float]:
    with sqlite_database() as db:
        model_id = datagen.add_model(db)
        chat, rows = datagen.reading_chat_rows(messages, model_id, title="Cursor")
        datagen.write_rows(db, [chat], rows)
        container = db.container()
        services = container.async_services()
        try:
            app = make_app(services)
            async with app.run_test(size=SIZE):
                await services_loaded(app)
                await open_chat(app, container.chats.get_chat(chat[0]), rows[-1][0])
                pane = app.main_screen.pane
                post_key(app, "alt+up")
                await wait_until(lambda: pane.selected is not None, what="the cursor")
                await after_refresh(app)
                return [await _step(app, pane) for _ in range(steps)]
        finally:
            services.shutdown()
            container.close()


def run(options: Options) -> list[Row]:
    messages, steps = (1_000, 2 * WORTH) if options.quick else (10_000, 300)
    label = f"{messages:,} messages"
    try:
        samples = asyncio.run(_measure(messages, steps))
    except UINotAvailable as exc:
        return [unavailable(CASE, f"{label}: up, one message", str(exc), budget_max=50)]
    first, last = samples[:WORTH], samples[-WORTH:]
    return [
        Row(
            case=CASE,
            name=f"{label}: up, one message (cursor step)",
            unit="ms",
            samples=samples,
            budget_max=50,
            note=f"{len(samples)} steps; p90 {statistics.quantiles(samples, n=10)[-1]:.0f} ms",
        ),
        Row(
            case=CASE,
            name=f"{label}: cursor step, last {WORTH} vs first {WORTH}",
            unit="ms",
            samples=[statistics.fmean(last)],
            baseline=f"the first {WORTH} steps",
            baseline_samples=[statistics.fmean(first)],
            budget_ratio=1.2,
        ),
    ]
