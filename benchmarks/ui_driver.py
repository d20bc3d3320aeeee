"""Driving the real ``SynergiaApp`` headless (Textual's ``run_test``) for the UI cases.

Everything the benchmarks assume about the UI is here, so a change in the UI breaks one module:

- ``SynergiaApp(services=AsyncServices, health_interval=None)`` starts on the main screen and
  loads the sidebar from the services it is handed;
- ``app.main_screen`` has ``pane`` (``MessagePane``: ``views``, ``MessageView.message``),
  ``sidebar`` (``ChatSidebar.show_chats``), ``prompt`` (``PromptBox``), ``engine``
  (``ReplyEngine``: ``live`` holds a chat's reply from Enter until it is stored) and
  ``open_chat(ChatRead)``; the sidebar's filter is ``#chat-filter``;
- a frame is "on screen" once Textual has run a refresh after the change
  (``call_after_refresh``), which in a real terminal is when the bytes are written;
- the pane can take focus, and then ``pageup`` scrolls it and ``home`` goes to the chat's first
  message; its ``MessageView`` children are in chat order (the oldest mounted first), and a view
  is on screen when its region overlaps the pane's ``scrollable_content_region``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from textual import events

SIZE = (100, 30)


class UINotAvailable(Exception):
    """The UI (or the part of it a case needs) is not there yet; the message says what."""


def import_app() -> Any:
    """``SynergiaApp``, or ``UINotAvailable`` with the import error."""
    try:
        from synergia_tui.ui.app import SynergiaApp
    except Exception as exc:
        raise UINotAvailable(f"cannot import synergia_tui.ui.app.SynergiaApp: {exc}") from exc
    return SynergiaApp


def make_app(services: Any) -> Any:
    app_class = import_app()
    try:
        return app_class(services=services, health_interval=None)
    except TypeError as exc:
        raise UINotAvailable(f"SynergiaApp(services=..., health_interval=None): {exc}") from exc


async def wait_until(
    condition: Callable[[], bool], *, timeout: float = 30.0, what: str = "condition"
) -> None:
    """Poll ``condition`` on the app's own loop (1 ms steps) until it holds."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise UINotAvailable(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.001)


async def after_refresh(app: Any) -> None:
    """Return once Textual has refreshed the screen after everything queued so far."""
    done = asyncio.get_running_loop().create_future()
    app.call_after_refresh(lambda: done.done() or done.set_result(None))
    await done


async def timed_async(action: Callable[[], Awaitable[None]]) -> float:
    start = time.perf_counter()
    await action()
    return (time.perf_counter() - start) * 1000


async def acompare(
    target: Callable[[], Awaitable[float]],
    baseline: Callable[[], Awaitable[float]],
    *,
    repeat: int,
    warmup: int,
) -> tuple[list[float], list[float]]:
    """``runner.compare`` for coroutines that run inside one app."""
    for _ in range(warmup):
        await baseline()
        await target()
    targets, baselines = [], []
    for i in range(repeat):
        if i % 2:
            targets.append(await target())
            baselines.append(await baseline())
        else:
            baselines.append(await baseline())
            targets.append(await target())
    return targets, baselines


async def services_loaded(app: Any) -> None:
    """Wait for the main screen to have its services and its first sidebar page."""
    screen = app.main_screen

    def loaded() -> bool:
        if getattr(screen, "services", None) is None:
            return False
        if any(w.group == "chats" and not w.is_finished for w in app.workers):
            return False
        # Not ``chat_list.loading`` alone: the sidebar turns it on as it mounts, before the
        # first load has been asked for, so a loader that has not started looks the same.
        return bool(screen.sidebar.chats) or screen.query_one("#chat-list-empty").display

    await wait_until(loaded, what="the sidebar's first page")


async def open_chat(app: Any, chat: Any, newest_id: Any) -> float:
    """Milliseconds from asking to open ``chat`` until its newest message is painted at the bottom."""
    screen = app.main_screen
    pane = screen.pane
    await pane.show_placeholder("")  # start from an empty pane, whichever chat was open
    await after_refresh(app)
    start = time.perf_counter()
    screen.open_chat(chat)

    def shown() -> bool:
        views = pane.views
        if not views or views[-1].message.id != newest_id:
            return False
        # Laid out (a widget's region is empty until then) and scrolled to the bottom.
        return views[-1].region.height > 0 and pane.max_scroll_y > 0 and pane.is_vertical_scroll_end

    await wait_until(shown, what=f"message {newest_id} at the bottom of the pane")
    await after_refresh(app)
    return (time.perf_counter() - start) * 1000


async def finish_or_stop_reply(
    app: Any, pilot: Any, done: Callable[[], bool], cap_s: float
) -> bool:
    """Wait up to ``cap_s`` for ``done``; if it does not come, stop the reply (escape).

    Either way, return only when no reply is streaming any more, so the app can close without
    a reply worker still touching its widgets. True when ``done`` came in time.
    """
    screen = app.main_screen
    try:
        await wait_until(done, timeout=cap_s, what="the reply to finish")
        finished = True
    except UINotAvailable:
        finished = False
        screen.prompt.focus()
        await pilot.press("escape")
    # The engine holds a chat's reply until it is stored, not only while it streams.
    await wait_until(lambda: not screen.engine.live, what="the reply to end and be stored")
    await wait_until(
        lambda: not any(w.group == "reply" and not w.is_finished for w in app.workers),
        what="the reply worker to end",
    )
    await after_refresh(app)
    return finished


def post_key(app: Any, key: str) -> None:
    """Post ``key`` as the terminal driver does: ``pilot.press`` would also wait for the whole
    app to go idle after the key, and so measure Pilot's waiting as well."""
    app.post_message(events.Key(key, key if len(key) == 1 else None))


def oldest_view(pane: Any) -> Any:
    """The pane's oldest mounted ``MessageView`` (cheap: stops at the first one)."""
    for child in pane.children:
        if hasattr(child, "message"):
            return child
    return None


def on_screen(pane: Any, view: Any) -> bool:
    """``view`` is mounted and at least one of its lines is inside the pane's visible region."""
    if view is None or not view.is_attached:
        return False
    return view.region.overlaps(pane.scrollable_content_region)


def scroll_settled(app: Any, pane: Any) -> bool:
    """No scroll of the pane is still under way (animated or deferred to the next refresh).

    Within half a line: an animation stopped part-way leaves a fraction behind, which the
    screen, drawn in whole lines, does not show."""
    return not app.animator.is_being_animated(pane, "scroll_y") and round(pane.scroll_y) == round(
        pane.scroll_target_y
    )
