"""Case 4: the UI while a reply streams 4,000 tokens at 1,000 tokens/s from a local server.

The server is the fake OpenAI-compatible SSE server of the test suite
(``tests/fake_provider_server.py``), run in a process of its own as a real provider would be:
in the app's process its pacing thread would wait for the app's GIL and slow the stream down.
Headless ``SynergiaApp`` over real services on SQLite:

- key echo: from a key press in the prompt box until the character is in the box and a frame
  has been drawn; while the reply streams, against the same when idle
  (budget ≤ 2× idle and < 50 ms);
- frame interval while streaming: time between the screen updates the app hands its driver,
  against Textual's own frame budget (1 / TEXTUAL_FPS, 60 fps by default); information;
- reply complete on screen: from Enter until the last token is in the reply's Markdown and
  drawn, against the stream's own duration (the same request read by a bare HTTP client)
  (budget ≤ 1.1×).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from typing import Any

import httpx
from textual import events

from benchmarks import datagen
from benchmarks.databases import sqlite_database
from benchmarks.fake_provider import provider_process
from benchmarks.runner import Options, Row, unavailable
from benchmarks.ui_driver import (
    SIZE,
    UINotAvailable,
    after_refresh,
    finish_or_stop_reply,
    import_app,
    make_app,
    services_loaded,
    wait_until,
)

CASE = "4 streaming"
API_KEY_ENV = "SYNERGIA_BENCH_API_KEY"
LAST_TOKEN = "END-OF-REPLY"
REPLY_CAP_S = 30.0
"""Stop waiting for the reply after this long (or 3× the stream), so the run stays bounded."""
NAMES = (
    "key echo while streaming",
    "frame interval while streaming",
    "reply complete on screen",
)


def check_streaming_ui() -> None:
    """The main screen must have a reply engine that sends prompts."""
    import_app()
    from synergia_tui.ui.screens.main import MainScreen

    try:
        from synergia_tui.ui.widgets.reply_engine import ReplyEngine
    except ImportError as exc:
        raise UINotAvailable(f"no reply engine in the UI: {exc}") from exc
    if not hasattr(MainScreen, "engine") or not callable(getattr(ReplyEngine, "send", None)):
        raise UINotAvailable("MainScreen.engine (a ReplyEngine with send) is not there yet")


def chunks(tokens: int) -> list[str]:
    words = [f"tok{i} " if i % 12 else f"tok{i}\n\n" for i in range(tokens - 1)]
    return [*words, LAST_TOKEN]


def stream_duration(base_url: str) -> float:
    """Milliseconds for a bare HTTP client to read the whole stream: the baseline."""
    start = time.perf_counter()
    with (
        httpx.Client(timeout=60) as client,
        client.stream(
            "POST",
            f"{base_url.rstrip('/')}/chat/completions",
            json={
                "model": "fake-model-a",
                "stream": True,
                "messages": [{"role": "user", "content": "go"}],
            },
            headers={"Authorization": "Bearer bench"},
        ) as response,
    ):
        for _ in response.iter_lines():
            pass
    return (time.perf_counter() - start) * 1000


async def _echo(app: Any, pilot: Any, key: str = "x") -> float:
    """From a key event entering the app until its character is in the prompt and painted.

    The key is posted as the terminal driver would post it, not through ``pilot.press``:
    Pilot waits up to two seconds for the process to go idle after each key, which a
    streaming reply never lets it do, so it would measure Pilot rather than the app.
    """
    prompt = app.main_screen.prompt
    before = prompt.text
    start = time.perf_counter()
    app.post_message(events.Key(key, key))
    await wait_until(lambda: prompt.text == before + key, timeout=10, what="the key's echo")
    await after_refresh(app)
    return (time.perf_counter() - start) * 1000


def _reply_text(app: Any) -> str:
    """The text of the newest reply as shown (a long streaming reply spans several segments)."""
    from textual.widgets import Markdown

    views = app.main_screen.pane.views
    if not views or views[-1].message.role != "assistant":
        return ""
    return "".join(segment.source or "" for segment in views[-1].query_children(Markdown))


async def _measure(options: Options, tokens: int) -> list[Row]:
    check_streaming_ui()
    os.environ.setdefault(API_KEY_ENV, "bench-key")
    with provider_process(chunks(tokens), 1000.0) as provider, sqlite_database() as db:
        base_url = provider.base_url
        baseline_complete = [stream_duration(base_url) for _ in range(2)]
        model_id = datagen.add_model(db, base_url=base_url)
        container = db.container()
        services = container.async_services()
        try:
            chat = container.chats.create_chat(title="Streaming", model_id=model_id)
            app = make_app(services)
            async with app.run_test(size=SIZE) as pilot:
                await services_loaded(app)
                screen = app.main_screen
                screen.open_chat(chat)
                await wait_until(lambda: screen.current_chat is not None, what="the chat to open")
                screen.prompt.focus()
                idle = [await _echo(app, pilot) for _ in range(max(5, options.repeat * 3))]
                screen.prompt.clear()
                await after_refresh(app)

                frames: list[float] = []
                original_display = app._display

                def spy(screen: Any, renderable: Any) -> None:
                    # Every screen update passes here; headless, it is then dropped instead of
                    # written, so this counts the frames a terminal would receive.
                    if renderable is not None:
                        frames.append(time.perf_counter())
                    original_display(screen, renderable)

                app._display = spy
                await pilot.press(*"stream please")
                sent = time.perf_counter()
                await pilot.press("enter")
                await wait_until(lambda: bool(_reply_text(app)), timeout=30, what="the first token")
                busy = []
                cap = max(REPLY_CAP_S, 3 * max(baseline_complete) / 1000)
                while LAST_TOKEN not in _reply_text(app) and time.perf_counter() - sent < cap:
                    busy.append(await _echo(app, pilot))
                    await asyncio.sleep(0.05)
                left = max(0.1, cap - (time.perf_counter() - sent))
                finished = await finish_or_stop_reply(
                    app, pilot, lambda: LAST_TOKEN in _reply_text(app), left
                )
                complete = (time.perf_counter() - sent) * 1000
                if not finished:
                    complete = cap * 1000
                streaming_frames = [f for f in frames if f >= sent]
                del app._display
        finally:
            services.shutdown()
            container.close()
    intervals = [
        (b - a) * 1000 for a, b in zip(streaming_frames, streaming_frames[1:], strict=False)
    ]
    from textual.constants import MAX_FPS

    return [
        Row(
            case=CASE,
            name=NAMES[0],
            unit="ms",
            samples=busy,
            baseline="key echo when idle",
            baseline_samples=idle,
            budget_ratio=2.0,
            budget_max=50,
        ),
        Row(
            case=CASE,
            name=NAMES[1],
            unit="ms",
            samples=intervals,
            baseline=f"Textual's frame budget at {MAX_FPS} fps",
            baseline_samples=[1000 / MAX_FPS],
            note=f"{len(streaming_frames)} frames; p95 "
            f"{statistics.quantiles(intervals, n=20)[-1] if len(intervals) > 1 else 0:.1f} ms",
        ),
        Row(
            case=CASE,
            name=f"{NAMES[2]} ({tokens:,} tokens)",
            unit="ms",
            samples=[complete],
            baseline="the same stream read by a bare HTTP client",
            baseline_samples=baseline_complete,
            budget_ratio=1.1,
            note=""
            if finished
            else f"not complete after {cap:.0f} s: stopped with escape; "
            "the figure is a lower bound",
        ),
    ]


def run(options: Options) -> list[Row]:
    tokens = 500 if options.quick else 4_000
    try:
        return asyncio.run(_measure(options, tokens))
    except UINotAvailable as exc:
        budgets: list[dict[str, float]] = [
            {"budget_ratio": 2.0, "budget_max": 50},
            {},
            {"budget_ratio": 1.1},
        ]
        return [
            unavailable(CASE, name, str(exc), **budget)
            for name, budget in zip(NAMES, budgets, strict=True)
        ]
