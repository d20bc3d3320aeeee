"""Case 12 (issue 14): live sync between two sessions of one user, on both backends.

- **delay**: another session (services with connections of their own, as on another host)
  renames a chat; from its commit until the headless app's chat list shows the new title.
  Median, budget < 1 s. Baseline: the same change shown when the app is told of it at once
  (``SyncChanged`` posted by hand, no watcher): the part of the delay that is the app's own
  reading and drawing.
- **idle listener**: CPU a minute of a ``LiveSync`` watching an idle database, in a process of
  its own, against the same process without it (imports and all). Budget: under 0.6 s a
  minute (1 % of a core).

PostgreSQL runs as the member role ``bench`` (see ``databases``), as users do.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from typing import Any

from benchmarks.databases import BenchDatabase, bench_database
from benchmarks.runner import Options, Row, unavailable
from benchmarks.ui_driver import SIZE, UINotAvailable, after_refresh, services_loaded, wait_until

CASE = "12 live sync"
DELAY_BUDGET_MS = 1000.0
IDLE_BUDGET_S = 0.6
SHOW_TIMEOUT_S = 10.0


def _app(services: Any, *, live_sync: bool) -> Any:
    from synergia_tui.ui.app import SynergiaApp

    return SynergiaApp(services=services, health_interval=None, live_sync=live_sync)


async def _delays(db: BenchDatabase, samples: int, *, watched: bool) -> list[float]:
    from synergia_tui.ui.messages import SyncChanged

    here, there = db.container(), db.container()
    chat = here.chats.create_chat(title="t")
    services = here.async_services()
    delays: list[float] = []
    try:
        app = _app(services, live_sync=watched)
        async with app.run_test(size=SIZE):
            await services_loaded(app)
            screen = app.main_screen
            if watched:
                await wait_until(lambda: screen.status_bar.live is True, what="live sync")
            for number in range(samples):
                title = f"renamed {number}"
                await asyncio.to_thread(there.chats.rename_chat, chat.id, title)
                start = time.perf_counter()
                if not watched:
                    screen.post_message(SyncChanged(frozenset({chat.id})))
                await wait_until(
                    lambda title=title: any(c.title == title for c in screen.sidebar.chats),
                    timeout=SHOW_TIMEOUT_S,
                    what="the renamed chat",
                )
                await after_refresh(app)
                delays.append((time.perf_counter() - start) * 1000)
                await asyncio.sleep(0.2)  # the next change lands anywhere in a polling period
    finally:
        services.shutdown()
        here.close()
        there.close()
    return delays


_IDLE = """
import json, resource, sys, threading, time
from sqlalchemy.engine import make_url
from synergia_tui.services.live_sync import LiveSync
url, seconds, watch = make_url(sys.argv[1]), float(sys.argv[2]), sys.argv[3] == "1"
up = threading.Event()
if watch:  # measured once it is listening (its imports and connecting are start-up, not idle)
    LiveSync(url, lambda _: None, lambda state: state and up.set()).start()
    up.wait(30)
    time.sleep(0.5)
before = resource.getrusage(resource.RUSAGE_SELF)
time.sleep(seconds)
after = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime))
"""


def _idle_cpu_per_minute(db: BenchDatabase, seconds: float, *, watch: bool) -> float:
    result = subprocess.run(
        [sys.executable, "-c", _IDLE, db.url_text, str(seconds), "1" if watch else "0"],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    )
    return float(json.loads(result.stdout)) / seconds * 60


def run_backend(backend: str, options: Options) -> list[Row]:
    label = "SQLite" if backend == "sqlite" else "PostgreSQL"
    samples, idle_s = (4, 2.0) if options.quick else (20, 20.0)
    with bench_database(backend, options.postgres_url) as db:
        watched = asyncio.run(_delays(db, samples, watched=True))
        told = asyncio.run(_delays(db, samples, watched=False))
        idle = _idle_cpu_per_minute(db, idle_s, watch=True)
        bare = _idle_cpu_per_minute(db, idle_s, watch=False)
    return [
        Row(
            case=CASE,
            name=f"{label}: commit elsewhere → shown here",
            unit="ms",
            samples=watched,
            baseline="the same change shown when the app is told of it at once (no watcher)",
            baseline_samples=told,
            budget_max=DELAY_BUDGET_MS,
            note=f"{samples} renames by another session; max {max(watched):.0f} ms",
        ),
        Row(
            case=CASE,
            name=f"{label}: idle listener, CPU a minute",
            unit="s",
            samples=[max(0.0, idle - bare)],
            baseline="the same process without the listener",
            baseline_samples=[bare],
            budget_max=IDLE_BUDGET_S,
            note=f"measured over {idle_s:.0f} s; with it {idle:.3f} s/min, without {bare:.3f}",
        ),
    ]


def run(options: Options) -> list[Row]:
    rows: list[Row] = []
    for backend in ("sqlite", "postgresql"):
        label = "SQLite" if backend == "sqlite" else "PostgreSQL"
        if backend == "postgresql" and not options.postgres_url:
            rows.append(
                unavailable(
                    CASE,
                    f"{label}: commit elsewhere → shown here",
                    "no server: pass --postgres URL",
                    budget_max=DELAY_BUDGET_MS,
                )
            )
            continue
        try:
            rows += run_backend(backend, options)
        except UINotAvailable as exc:
            rows.append(
                unavailable(
                    CASE, f"{label}: commit elsewhere → shown here", str(exc), budget_max=1000
                )
            )
    return rows
