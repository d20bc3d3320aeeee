"""Read a long chat back with PageUp, then jump with Home, in a fresh process (used by case 8).

``python -m benchmarks.reading_probe URL CHAT_ID IDS_PATH CAP_S HOME_RUNS`` prints one JSON
object; ``IDS_PATH`` holds the chat's message ids in chat order, one a line.

In one process, so that memory is measured the way case 5 measures it (``VmHWM``, this process
alone) and the latencies come from the same app:

1. open the chat (newest message at the bottom) and read ``VmHWM``: the *just opened* figure;
2. focus the pane and press ``pageup`` until the chat's first message is on screen, or until
   ``CAP_S`` seconds have passed; read ``VmHWM`` again: the *after reading back* figure;
3. ``HOME_RUNS`` times: open the chat afresh, focus the pane, press ``home``;
4. the baseline: ``pageup`` then ``home`` through the baseline app's scrolling pane (40 of the
   same messages, all mounted), after the app above has closed, so it weighs on no figure.

A key *lands* when all of these hold, and its latency runs from posting it until a frame has
been drawn after that, provided the next frame shows the pane's first line unmoved (else it
waits on):

- the pane's scroll position, content height or oldest mounted message has changed (the key
  took effect; Textual applies a scroll after the next refresh);
- no scroll of the pane is under way: an animated scroll counts until it ends, as a reader can
  only read the new page then;
- the pane is not stuck at the top of what it has mounted with older messages still to come:
  then the page those are in blocks the view, and the key lands once it has been mounted and
  the view put back in place (today's pane loads when the view nears the top).

A page load that does not block the view (mounted while the reader still has lines above) is
not waited for; its cost lands in whichever key the app is busy with when it mounts.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from benchmarks.memory_probe import peak_rss_kib

KEY_TIMEOUT_S = 30.0
"""A key that has not landed by then ends the reading (reported, not hung on)."""
BASELINE_MESSAGES = 40


def _pane_state(pane: Any) -> tuple[Any, ...]:
    from benchmarks.ui_driver import oldest_view

    return (pane.scroll_y, pane.scroll_target_y, pane.virtual_size, id(oldest_view(pane)))


def top_line(pane: Any) -> tuple[int, Any]:
    """What is drawn on the pane's first line: which widget, and where it lies."""
    from textual.errors import NoWidget

    region = pane.scrollable_content_region
    try:
        widget, _ = pane.screen.get_widget_at(region.x, region.y)
    except NoWidget:  # nothing drawn there yet
        return (0, None)
    return (id(widget), widget.region)


def topmost_index(pane: Any, index_of: dict[Any, int]) -> int | None:
    """Chat position (0 = first message) of the highest message with a line on screen."""
    from benchmarks.ui_driver import on_screen

    for view in pane.views:
        if on_screen(pane, view):
            return index_of.get(view.message.id)
    return None


def first_on_screen(pane: Any, first_id: uuid.UUID) -> bool:
    from benchmarks.ui_driver import oldest_view, on_screen

    view = oldest_view(pane)
    return view is not None and view.message.id == first_id and on_screen(pane, view)


async def press_and_land(
    app: Any, pane: Any, key: str, first_id: uuid.UUID | None, timeout: float
) -> float:
    """Milliseconds from posting ``key`` until it has landed (see the module docstring)."""
    from benchmarks.ui_driver import (
        after_refresh,
        oldest_view,
        post_key,
        scroll_settled,
        wait_until,
    )

    before = _pane_state(pane)

    def landed() -> bool:
        if _pane_state(pane) == before or not scroll_settled(app, pane):
            return False
        if first_id is None or pane.scroll_y > 0:
            return True
        oldest = oldest_view(pane)
        return oldest is not None and oldest.message.id == first_id

    start = time.perf_counter()
    post_key(app, key)
    deadline = start + timeout
    while True:
        left = deadline - time.perf_counter()
        await wait_until(landed, timeout=max(left, 0.0), what=f"{key!r} to scroll the pane")
        await after_refresh(app)
        end = time.perf_counter()
        seen = top_line(pane)
        # Still the same on the next frame: the one drawn at ``end`` was the last to move (a
        # pane that mounts a page may put the view back in place one refresh later).
        await after_refresh(app)
        if top_line(pane) == seen and landed():
            return (end - start) * 1000


async def read_back(
    app: Any, pane: Any, first_id: uuid.UUID, index_of: dict[Any, int], cap_s: float
) -> dict[str, Any]:
    """``pageup`` until the first message is on screen, or the cap."""
    from benchmarks.ui_driver import UINotAvailable

    keys: list[float] = []
    tops: list[int | None] = []
    start_top = topmost_index(pane, index_of)
    give_up = time.perf_counter() + cap_s
    stopped = ""
    while not first_on_screen(pane, first_id):
        remaining = give_up - time.perf_counter()
        if remaining <= 0:
            stopped = "cap"
            break
        try:
            keys.append(
                await press_and_land(app, pane, "pageup", first_id, min(remaining, KEY_TIMEOUT_S))
            )
        except UINotAvailable as exc:
            stopped = "cap" if time.perf_counter() >= give_up else str(exc)
            break
        tops.append(topmost_index(pane, index_of))  # after the clock stopped
    return {
        "keys": keys,
        "tops": tops,
        "start_top": start_top,
        "end_top": topmost_index(pane, index_of),
        "reached": first_on_screen(pane, first_id),
        "stopped": stopped,
        "mounted": len(pane.views),
    }


async def press_home(app: Any, pane: Any, first_id: uuid.UUID, cap_s: float) -> float | None:
    """Milliseconds from ``home`` until the first message is on screen; None past the cap."""
    from benchmarks.ui_driver import (
        UINotAvailable,
        after_refresh,
        post_key,
        scroll_settled,
        wait_until,
    )

    start = time.perf_counter()
    post_key(app, "home")
    try:
        await wait_until(
            lambda: scroll_settled(app, pane) and first_on_screen(pane, first_id),
            timeout=cap_s,
            what="the first message after 'home'",
        )
    except UINotAvailable:
        return None
    await after_refresh(app)
    return (time.perf_counter() - start) * 1000


async def focus_pane(app: Any) -> Any:
    from benchmarks.ui_driver import UINotAvailable, after_refresh

    pane = app.main_screen.pane
    pane.focus()
    await after_refresh(app)
    if app.focused is not pane:
        raise UINotAvailable("the message pane does not take focus")
    return pane


async def synergia(
    url: str, chat_id: str, ids_path: str, cap_s: float, home_runs: int
) -> dict[str, Any]:
    from benchmarks.databases import BENCH_USER
    from benchmarks.ui_driver import SIZE, make_app, open_chat, services_loaded
    from synergia_tui.bootstrap import build
    from synergia_tui.core.config import Settings

    container = build(Settings(synergia_database_url=url, synergia_user=BENCH_USER))
    services = container.async_services()
    try:
        chat = container.chats.get_chat(uuid.UUID(chat_id))
        # The probe's own bookkeeping (the ids, under a MiB) is read before the first figure,
        # so it weighs on both alike.
        ids = [uuid.UUID(line) for line in Path(ids_path).read_text().split()]
        index_of = {message_id: i for i, message_id in enumerate(ids)}
        app = make_app(services)
        async with app.run_test(size=SIZE):
            await services_loaded(app)
            await open_chat(app, chat, ids[-1])
            pane = await focus_pane(app)
            result: dict[str, Any] = {
                "rss_open_kib": peak_rss_kib(),
                "messages": len(ids),
                "cap_s": cap_s,
            }
            result.update(await read_back(app, pane, ids[0], index_of, cap_s))
            result["rss_read_kib"] = peak_rss_kib()
            homes: list[float | None] = []
            for _ in range(home_runs):
                await open_chat(app, chat, ids[-1])
                pane = await focus_pane(app)
                homes.append(await press_home(app, pane, ids[0], cap_s=10.0))
                if homes[-1] is None:
                    break  # past the cap once: more runs would only wait as long again
            result["home"] = homes
    finally:
        services.shutdown()
        container.close()
    return result


async def baseline(home_runs: int) -> dict[str, list[float]]:
    """``pageup`` through the baseline app's pane from its bottom to its top, then ``home``."""
    from benchmarks.baseline_app import BaselineApp
    from benchmarks.datagen import reading_message
    from benchmarks.ui_driver import SIZE, after_refresh

    app = BaselineApp([reading_message(i) for i in range(BASELINE_MESSAGES)], scrollable=True)
    async with app.run_test(size=SIZE):
        await after_refresh(app)
        pane = app.query_one("#pane")
        pane.focus()
        pane.scroll_end(animate=False, immediate=True)
        await after_refresh(app)
        keys = []
        while pane.scroll_y > 0:
            keys.append(await press_and_land(app, pane, "pageup", None, KEY_TIMEOUT_S))
        homes = []
        for _ in range(home_runs):
            pane.scroll_end(animate=False, immediate=True)
            await after_refresh(app)
            homes.append(await press_and_land(app, pane, "home", None, KEY_TIMEOUT_S))
        return {"baseline_keys": keys, "baseline_home": homes}


def main(argv: list[str]) -> int:
    from benchmarks.ui_driver import UINotAvailable

    try:
        result = asyncio.run(synergia(argv[0], argv[1], argv[2], float(argv[3]), int(argv[4])))
        result.update(asyncio.run(baseline(int(argv[4]))))
    except UINotAvailable as exc:
        print(f"not available: {exc}")
        return 3
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
