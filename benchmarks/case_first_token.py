"""Case 7: the first token, which is what a user waits for, in two absolute budgets.

Headless ``SynergiaApp`` over real services (SQLite, and PostgreSQL with ``--postgres``), the
fake provider in a process of its own (``benchmarks/fake_provider.py``) that stamps the wire on
``CLOCK_MONOTONIC``, the clock the app side reads too. Warm state: the model's client is made
(the prompt was typed and the engine's warm-up has finished), the database is open, an earlier
reply has already run. Each reply's first token comes 0.25 s after the request, as from a model
thinking, and is a word shown nowhere else.

- Enter → request on the wire: from the Enter key event entering the app (posted as the
  terminal driver posts it) until the provider has read the whole HTTP request (budget < 50 ms);
- first token → on screen: from the provider writing the first token to its socket (stamped just
  before the write) until the app hands its driver the first frame whose text holds that token
  (budget < 100 ms).

Baseline for both, interleaved with the app's runs: the same request sent and read by a bare
``httpx.AsyncClient`` on the app's own event loop (request on the wire; first token read off
the socket). The budgets are absolute; the ratio only shows how much of the time is the app's.
"""

from __future__ import annotations

import asyncio
import os
import re
import statistics
from typing import Any

import httpx
from textual import events

from benchmarks import datagen
from benchmarks.databases import BenchDatabase, bench_database
from benchmarks.fake_provider import ProviderProcess, clock, first_token, provider_process
from benchmarks.runner import Options, Row, unavailable
from benchmarks.ui_driver import (
    SIZE,
    UINotAvailable,
    after_refresh,
    finish_or_stop_reply,
    make_app,
    services_loaded,
    wait_until,
)

CASE = "7 first token"
API_KEY_ENV = "SYNERGIA_BENCH_API_KEY"
THINK_S = 0.25
"""How long the provider waits before the first token (and between the two tokens)."""
LAST_TOKEN = "Lasttoken"
SETTLE_S = 0.1
"""Pause before each run, so neither side starts while the app still handles the last reply."""
REQUEST_BUDGET_MS = 50
SCREEN_BUDGET_MS = 100
NAMES = ("Enter → request on the wire", "first token → on screen")
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b.")


def _label(backend: str) -> str:
    return "SQLite" if backend == "sqlite" else "PostgreSQL"


class FrameWatch:
    """Spies on the frames the app hands its driver and notes when one shows ``wanted``.

    Headless, Textual drops each frame instead of writing it; this renders it as a terminal
    would receive it (escape sequences dropped) and searches the text, timed on ``clock()``
    as the frame arrives (before the rendering done here to look into it).
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.wanted: str | None = None
        self.seen_at: float | None = None
        self._original = app._display
        app._display = self._display

    def expect(self, text: str) -> None:
        self.wanted, self.seen_at = text, None

    def _display(self, screen: Any, renderable: Any) -> None:
        arrived = clock()
        if renderable is not None and self.wanted is not None and self.seen_at is None:
            from textual._compositor import CompositorUpdate

            if isinstance(renderable, CompositorUpdate):
                frame = _ESCAPES.sub("", renderable.render_segments(self.app.console))
                if self.wanted in frame:
                    self.seen_at = arrived
        self._original(screen, renderable)

    def close(self) -> None:
        del self.app._display


def _reply_text(app: Any) -> str:
    views = app.main_screen.pane.views
    if not views or views[-1].message.role != "assistant":
        return ""
    return views[-1].shown_source


def _stamps(provider: ProviderProcess, n: int) -> tuple[float, float]:
    """When request ``n`` was read whole and its first token went to the socket (server side)."""
    seen = {kind: t for kind, index, t in provider.events() if index == n}
    if "request" not in seen or "token" not in seen:
        raise UINotAvailable(f"the provider has no stamps for request {n}: {seen}")
    return seen["request"], seen["token"]


async def _app_sample(
    app: Any, pilot: Any, watch: FrameWatch, provider: ProviderProcess, n: int
) -> tuple[float, float]:
    """One prompt sent from the app: (Enter → request, first token → frame) in ms."""
    screen = app.main_screen
    screen.prompt.focus()
    await pilot.press(*"first token please")
    # Warm: the engine makes the model's client while the prompt is typed; wait for it.
    await wait_until(
        lambda: not any(w.group == "warm-up" and not w.is_finished for w in app.workers),
        what="the engine's warm-up",
    )
    await _settle(app)
    watch.expect(first_token(n))
    pressed = clock()
    app.post_message(events.Key("enter", "\r"))  # as the terminal driver posts it
    await wait_until(lambda: watch.seen_at is not None, timeout=10, what="the first token's frame")
    shown = watch.seen_at
    assert shown is not None
    finished = await finish_or_stop_reply(app, pilot, lambda: LAST_TOKEN in _reply_text(app), 10)
    if not finished:
        raise UINotAvailable("the reply did not finish within 10 s")
    requested, written = _stamps(provider, n)
    return (requested - pressed) * 1000, (shown - written) * 1000


async def _settle(app: Any) -> None:
    """Let the app finish what the last reply left (saves, usage, redraws): both sides start idle."""
    await asyncio.sleep(SETTLE_S)
    await after_refresh(app)


async def _bare_sample(
    app: Any, client: httpx.AsyncClient, provider: ProviderProcess, n: int
) -> tuple[float, float]:
    """The same request from a bare HTTP client on this loop: (send → request, token → read)."""
    wanted = first_token(n)
    read_at = None
    await _settle(app)
    sent = clock()
    async with client.stream(
        "POST",
        f"{provider.base_url}/chat/completions",
        json={
            "model": "fake-model-a",
            "stream": True,
            "messages": [{"role": "user", "content": "go"}],
        },
        headers={"Authorization": "Bearer bench"},
    ) as response:
        async for line in response.aiter_lines():
            if read_at is None and wanted in line:
                read_at = clock()
    if read_at is None:
        raise UINotAvailable(f"the bare client never read {wanted!r}")
    requested, written = _stamps(provider, n)
    return (requested - sent) * 1000, (read_at - written) * 1000


async def _measure(db: BenchDatabase, provider: ProviderProcess, runs: int) -> list[list[float]]:
    """[app request, app screen, bare request, bare screen] samples; the first pair discarded."""
    model_id = datagen.add_model(db, base_url=provider.base_url)
    container = db.container()
    services = container.async_services()
    samples: list[list[float]] = [[], [], [], []]
    n = 0
    try:
        chat = container.chats.create_chat(title="First token", model_id=model_id)
        app = make_app(services)
        async with app.run_test(size=SIZE) as pilot, httpx.AsyncClient(timeout=30) as client:
            await services_loaded(app)
            screen = app.main_screen
            screen.open_chat(chat)
            await wait_until(lambda: screen.current_chat is not None, what="the chat to open")
            watch = FrameWatch(app)
            try:
                for i in range(runs + 1):  # run 0 warms both sides up and is discarded
                    order = ("bare", "app") if i % 2 == 0 else ("app", "bare")
                    for side in order:
                        if side == "app":
                            result = await _app_sample(app, pilot, watch, provider, n)
                        else:
                            result = await _bare_sample(app, client, provider, n)
                        n += 1
                        if i:
                            offset = 0 if side == "app" else 2
                            samples[offset].append(result[0])
                            samples[offset + 1].append(result[1])
            finally:
                watch.close()
    finally:
        services.shutdown()
        container.close()
    return samples


def _trend(samples: list[float]) -> str:
    """Max, and the medians of the first and second half: the chat grows by one exchange a run."""
    half = len(samples) // 2
    if half < 1:
        return f"max {max(samples):.1f} ms"
    first, second = statistics.median(samples[:half]), statistics.median(samples[half:])
    return (
        f"max {max(samples):.1f} ms; runs in order, median of first / second half: "
        f"{first:.1f} / {second:.1f} ms"
    )


def _rows(backend: str, samples: list[list[float]]) -> list[Row]:
    label = _label(backend)
    app_request, app_screen, bare_request, bare_screen = samples
    return [
        Row(
            case=CASE,
            name=f"{label}: {NAMES[0]}",
            unit="ms",
            samples=app_request,
            baseline="the same request sent by a bare httpx client on the app's loop",
            baseline_samples=bare_request,
            budget_max=REQUEST_BUDGET_MS,
            note=f"absolute budget; stamps on CLOCK_MONOTONIC; {_trend(app_request)}",
        ),
        Row(
            case=CASE,
            name=f"{label}: {NAMES[1]}",
            unit="ms",
            samples=app_screen,
            baseline="the same first token read off the socket by a bare httpx client",
            baseline_samples=bare_screen,
            budget_max=SCREEN_BUDGET_MS,
            note=f"absolute budget; {_trend(app_screen)}",
        ),
    ]


def run(options: Options) -> list[Row]:
    os.environ.setdefault(API_KEY_ENV, "bench-key")
    runs = max(5, options.repeat * 2)
    rows: list[Row] = []
    backends = ["sqlite"] + (["postgresql"] if options.postgres_url else [])
    for backend in backends:
        try:
            with (
                provider_process(
                    [f"{first_token(0)} ", LAST_TOKEN], 1 / THINK_S, stamped=True
                ) as provider,
                bench_database(backend, options.postgres_url) as db,
            ):
                samples = asyncio.run(_measure(db, provider, runs))
            rows += _rows(backend, samples)
        except Exception as exc:  # one backend failing keeps the other's rows
            reason = f"{type(exc).__name__}: {exc}"
            rows += [
                unavailable(CASE, f"{_label(backend)}: {NAMES[0]}", reason, budget_max=50),
                unavailable(CASE, f"{_label(backend)}: {NAMES[1]}", reason, budget_max=100),
            ]
    if not options.postgres_url:
        rows.append(
            unavailable(
                CASE, f"PostgreSQL: {NAMES[0]}", "no server: pass --postgres URL", budget_max=50
            )
        )
    return rows
