"""Case 2: opening a long chat, and scrolling up through its history.

Headless ``SynergiaApp`` over real services on SQLite. Open time: from ``open_chat`` until the
newest message is mounted, the pane is scrolled to the bottom and a frame has been drawn; a
chat of 10,000 Markdown messages against one of 10. Scrolling: from "scroll to the top" until
the next page of older messages is mounted and drawn, for 500 older messages, against opening
the 10-message chat.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from benchmarks import datagen
from benchmarks.databases import sqlite_database
from benchmarks.runner import Options, Row, unavailable
from benchmarks.ui_driver import (
    SIZE,
    UINotAvailable,
    acompare,
    after_refresh,
    make_app,
    open_chat,
    services_loaded,
    wait_until,
)

CASE = "2 open chat"
SCROLL_TIME_CAP_S = 60.0


async def _scroll_up(app: Any, older: int) -> list[float]:
    """Milliseconds per page of older messages, until ``older`` more have been mounted (the
    windowed pane unmounts what lies far below meanwhile: counted by the window's first index)."""
    pane = app.main_screen.pane
    start_index = pane.first_index
    samples: list[float] = []
    give_up = time.perf_counter() + SCROLL_TIME_CAP_S
    while start_index - pane.first_index < older and pane.has_older:
        if time.perf_counter() > give_up:
            break  # keeps `make bench` within its ten minutes when paging is slow
        before = pane.first_index
        # The pane keeps its place after mounting a page (call_after_refresh); wait for that,
        # as a user's next "scroll up" comes after they see the page.
        await wait_until(lambda: not pane.paging, what="the previous page to settle")
        await after_refresh(app)
        start = time.perf_counter()
        deadline = start + 30
        while pane.first_index >= before:
            if time.perf_counter() > deadline:
                raise UINotAvailable("scrolling to the top did not load older messages in 30 s")
            if pane.scroll_y > 0:
                pane.scroll_home(animate=False, immediate=True)  # as a user holding "up"
            await asyncio.sleep(0.002)
        await after_refresh(app)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


async def _measure(options: Options, long_len: int, short_len: int, older: int) -> list[Row]:
    from synergia_tui.ui.widgets import message_pane

    with sqlite_database() as db:
        model_id = datagen.add_model(db)
        long_chat, long_rows = datagen.long_chat_rows(long_len, model_id, title="Long chat")
        short_chat, short_rows = datagen.long_chat_rows(short_len, model_id, title="Short chat")
        datagen.write_rows(db, [long_chat, short_chat], long_rows + short_rows)
        container = db.container()
        services = container.async_services()
        try:
            long_read = container.chats.get_chat(long_chat[0])
            short_read = container.chats.get_chat(short_chat[0])
            app = make_app(services)
            async with app.run_test(size=SIZE):
                await services_loaded(app)
                targets, baselines = await acompare(
                    lambda: open_chat(app, long_read, long_rows[-1][0]),
                    lambda: open_chat(app, short_read, short_rows[-1][0]),
                    repeat=options.repeat,
                    warmup=options.warmup,
                )
                await open_chat(app, long_read, long_rows[-1][0])
                try:
                    pages, scroll_error = await _scroll_up(app, older), None
                except UINotAvailable as exc:
                    pages, scroll_error = [], str(exc)
                pane = app.main_screen.pane
                mounted = pane.total - pane.first_index
                first_page = message_pane.JUMP_PAGE
        finally:
            services.shutdown()
            container.close()
    rows = [
        Row(
            case=CASE,
            name=f"open a chat of {long_len:,} messages",
            unit="ms",
            samples=targets,
            baseline=f"open a chat of {short_len} messages",
            baseline_samples=baselines,
            budget_ratio=1.5,
        ),
        Row(
            case=CASE,
            name=f"scroll up {older} older messages: per page",
            unit="ms",
            samples=pages,
            baseline=f"open a chat of {short_len} messages",
            baseline_samples=baselines,
            note=f"{len(pages)} pages; {mounted} newest messages loaded at the end"
            + (
                f" (stopped at the {SCROLL_TIME_CAP_S:.0f} s cap)"
                if mounted - first_page < older
                else ""
            ),
            unavailable=scroll_error,
        ),
    ]
    return rows


def run(options: Options) -> list[Row]:
    long_len, older = (1_000, 60) if options.quick else (10_000, 500)
    try:
        return asyncio.run(_measure(options, long_len, 10, older))
    except UINotAvailable as exc:
        return [
            unavailable(CASE, f"open a chat of {long_len:,} messages", str(exc), budget_ratio=1.5),
            unavailable(CASE, f"scroll up {older} older messages: per page", str(exc)),
        ]
