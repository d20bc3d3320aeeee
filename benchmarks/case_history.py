"""Case 3: a large history (100,000 chats, 1,000,000 messages) against an empty database.

- build: how long the generator takes (information, so a slow run can be explained);
- start-up: the real ``synergia`` in a pty until the sidebar's first page is drawn, against the
  same on an empty database (until its "no chats" text is drawn);
- filter, database: each keystroke of a typed filter word is one ``list_chats(query=…)`` call
  through the services; the sample is the slowest keystroke of the word; SQLite and PostgreSQL;
- filter, UI: a key typed into the sidebar's filter until the filtered list is drawn (headless).
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from textual import events

from benchmarks import datagen
from benchmarks.case_startup import SYNERGIA, xdg_env
from benchmarks.databases import BenchDatabase, bench_database
from benchmarks.runner import Options, Row, compare, unavailable
from benchmarks.terminal import NotAvailable, first_paint
from benchmarks.ui_driver import SIZE, UINotAvailable, after_refresh, make_app, services_loaded

CASE = "3 history"
FILTER_WORDS = ("terraform", "#4242", "zzzz")  # common, rare, nothing: the last scans every chat
EMPTY_MARKER = "No chats yet"
"""What the sidebar draws on an empty database (ui/widgets/chat_sidebar.py)."""


@contextlib.contextmanager
def history_database(
    backend: str, options: Options, chats: int, per_chat: int
) -> Iterator[tuple[BenchDatabase, list[tuple], float]]:
    with bench_database(backend, options.postgres_url) as db:
        model_id = datagen.add_model(db)
        start = time.perf_counter()
        chat_rows, messages = datagen.history_rows(chats, per_chat, model_id)
        datagen.write_rows(db, chat_rows, messages)
        yield db, chat_rows, time.perf_counter() - start


def _typing(container: Any, word: str) -> float:
    """The slowest keystroke (ms) while ``word`` is typed into the filter, one query per key."""
    worst = 0.0
    for end in range(1, len(word) + 1):
        start = time.perf_counter()
        container.chats.list_chats(limit=50, query=word[:end])
        worst = max(worst, (time.perf_counter() - start) * 1000)
    return worst


def _filter_rows(
    backend: str, big: BenchDatabase, empty: BenchDatabase, size: str, options: Options
) -> list[Row]:
    label = "SQLite" if backend == "sqlite" else "PostgreSQL"
    rows = []
    big_c, empty_c = big.container(), empty.container()
    try:
        for word in FILTER_WORDS:
            targets, baselines = compare(
                lambda w=word: _typing(big_c, w),
                lambda w=word: _typing(empty_c, w),
                repeat=options.repeat,
                warmup=options.warmup,
            )
            rows.append(
                Row(
                    case=CASE,
                    name=f"{label}: filter keystroke, typing {word!r}",
                    unit="ms",
                    samples=targets,
                    baseline="the same on an empty database",
                    baseline_samples=baselines,
                    budget_max=100,
                    note="sample = slowest keystroke of the word (one list_chats query per key)",
                )
            )
    finally:
        big_c.close()
        empty_c.close()
    return rows


def _startup_row(
    big: BenchDatabase, empty: BenchDatabase, chat_rows: list[tuple], size: str, options: Options
) -> Row:
    name = "start-up until the sidebar is drawn"
    newest_title = chat_rows[-1][2]
    marker = newest_title[:12]
    with tempfile.TemporaryDirectory(prefix="synergia-bench-home-") as tmp:
        home = xdg_env(Path(tmp))
        big_env = {**home, **big.env()}
        empty_env = {**home, **empty.env()}
        try:
            targets, baselines = compare(
                lambda: first_paint([SYNERGIA], [marker], env=big_env),
                lambda: first_paint([SYNERGIA], [EMPTY_MARKER], env=empty_env),
                repeat=options.repeat,
                warmup=options.warmup,
            )
        except NotAvailable as exc:
            return unavailable(CASE, name, str(exc), budget_ratio=1.2)
    return Row(
        case=CASE,
        name=name,
        unit="ms",
        samples=targets,
        baseline=f"the same on an empty database (until {EMPTY_MARKER!r} is drawn)",
        baseline_samples=baselines,
        budget_ratio=1.2,
        note=f"real `synergia` in a {SIZE[0]}×{SIZE[1]} pty, until {marker!r} is drawn",
    )


async def _ui_keystroke(app: Any, pilot: Any, key: str) -> float:
    """From a key in the filter box until the sidebar has shown (and drawn) the new result."""
    screen = app.main_screen
    sidebar = screen.sidebar
    shown: list[str] = []
    original = sidebar.show_chats

    def spy(chats: Any, *, has_more: bool, query: str = "") -> None:
        original(chats, has_more=has_more, query=query)
        shown.append(query)

    sidebar.show_chats = spy
    try:
        box = screen.query_one("#chat-filter")
        expected = box.value + key if key != "backspace" else box.value[:-1]
        start = time.perf_counter()
        # Posted as the terminal driver posts it: ``pilot.press`` would also wait for the whole
        # app to go idle after the key, and so measure Pilot's waiting as well.
        app.post_message(events.Key(key, None if key == "backspace" else key))
        deadline = start + 10
        while expected not in shown:
            if time.perf_counter() > deadline:
                raise UINotAvailable(f"the sidebar did not show the results for {expected!r}")
            await asyncio.sleep(0.001)
        await after_refresh(app)
        return (time.perf_counter() - start) * 1000
    finally:
        del sidebar.show_chats


async def _ui_filter(db: BenchDatabase, word: str) -> list[float]:
    container = db.container()
    services = container.async_services()
    try:
        app = make_app(services)
        async with app.run_test(size=SIZE) as pilot:
            await services_loaded(app)
            app.main_screen.query_one("#chat-filter").focus()
            samples = [await _ui_keystroke(app, pilot, ch) for ch in word]
            samples += [await _ui_keystroke(app, pilot, "backspace") for _ in word]
            return samples
    finally:
        services.shutdown()
        container.close()


def _ui_filter_row(big: BenchDatabase, empty: BenchDatabase, size: str) -> Row:
    name = "SQLite: filter keystroke in the UI"
    try:
        targets = asyncio.run(_ui_filter(big, "terraform"))
        baselines = asyncio.run(_ui_filter(empty, "terraform"))
    except UINotAvailable as exc:
        return unavailable(CASE, name, str(exc), budget_max=100)
    return Row(
        case=CASE,
        name=name,
        unit="ms",
        samples=targets,
        baseline="the same on an empty database",
        baseline_samples=baselines,
        budget_max=100,
        note="key in #chat-filter → filtered list drawn; includes the sidebar's debounce "
        "(FILTER_DEBOUNCE_S in ui/screens/main.py)",
    )


def run(options: Options) -> list[Row]:
    chats, per_chat = (2_000, 10) if options.quick else (100_000, 10)
    size = f"{chats:,} chats / {chats * per_chat:,} messages"
    rows: list[Row] = []
    backends = ["sqlite"] + (["postgresql"] if options.postgres_url else [])
    for backend in backends:
        try:
            rows += _run_backend(backend, options, chats, per_chat, size)
        except Exception as exc:
            # One backend failing (e.g. a neighbour restarted PostgreSQL) keeps the other's rows.
            rows.append(unavailable(CASE, f"{backend}: history", f"{type(exc).__name__}: {exc}"))
    if not options.postgres_url:
        rows.append(
            unavailable(CASE, "PostgreSQL: filter keystroke", "no server: pass --postgres URL")
        )
    return rows


def _run_backend(backend: str, options: Options, chats: int, per_chat: int, size: str) -> list[Row]:
    rows: list[Row] = []
    with (
        bench_database(backend, options.postgres_url) as empty,
        history_database(backend, options, chats, per_chat) as (big, chat_rows, seconds),
    ):
        rows.append(
            Row(
                case=CASE,
                name=f"{backend}: build the history",
                unit="s",
                samples=[seconds],
                note=f"{size}: generator time (executemany / COPY, one transaction); "
                "the rows below measure this database",
            )
        )
        if backend == "sqlite":
            rows.append(_startup_row(big, empty, chat_rows, size, options))
            rows.append(_ui_filter_row(big, empty, size))
        rows += _filter_rows(backend, big, empty, size, options)
    return rows
