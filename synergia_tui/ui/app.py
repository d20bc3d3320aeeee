"""The Textual application: paints first, then opens the database in the background."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.notifications import SeverityLevel
from textual.screen import Screen

from synergia_tui import __version__
from synergia_tui.core import paths
from synergia_tui.core.errors import ConfigError, SchemaError, SynergiaError, storage_error
from synergia_tui.core.safe_text import neutralize, one_line
from synergia_tui.ui.messages import (
    Activity,
    DatabaseReady,
    DatabaseUnavailable,
    FirstPage,
    SetAsideLoadedObjects,
    WidgetsDropped,
)
from synergia_tui.ui.screens.main import MainScreen
from synergia_tui.ui.screens.main_keys import COMMANDS

if TYPE_CHECKING:
    from synergia_tui.bootstrap import Container
    from synergia_tui.core.config import Settings
    from synergia_tui.core.first_page import ChatTitle
    from synergia_tui.services.facade import AsyncServices

log = logging.getLogger(__name__)

QUIET_GC_S = 2.0
QUIET_GC_CHECK_S = 1.0
FULL_GC_MAX_S = 60.0
DROPPED_GC = 32
"""A full collection once this many message widgets were unmounted since the last one: reading
back through a long chat keeps its memory flat (one pass costs a few tens of milliseconds once
start-up is frozen out of the collector's view)."""
FULL_GC_NEVER = 1_000_000
HANGUP_EXIT_CODE = 129  # 128 + SIGHUP, what a shell reports for a hung-up child
TERMINATED_EXIT_CODE = 143  # 128 + SIGTERM
INTERRUPTED_EXIT_CODE = 130  # 128 + SIGINT
STARTUP_RETRY_S = 5.0
FIRST_PAGE_PAINT_S = 0.5  # the longest the stack waits for the first page to be painted
HANGUP_SAVE_S = 2.0


def _utc_now() -> datetime:
    return datetime.now(UTC)


def open_database(settings: Settings) -> Container:
    """Build the services and make sure the schema is usable. Runs on a worker thread.

    SQLAlchemy, SQLModel and Alembic are imported here, not at the top of the module, so the
    first frame is painted before they load.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from synergia_tui.bootstrap import build

    container = build(settings)
    try:
        container.ensure_schema()
        container.recover()
    except SQLAlchemyError as exc:
        container.close()
        raise storage_error(exc, container.db.engine.url) from exc
    except SynergiaError:
        container.close()
        raise
    return container


class SynergiaApp(App[int]):
    """Synergia's terminal UI.

    Give it ``settings`` and it opens the database itself after the first paint; tests give it
    ready ``services`` instead. ``clock`` and ``version`` are injectable so snapshots are stable;
    ``health_interval`` (seconds, None for never) sets how often the status bar is refreshed;
    ``first_page`` (given a page size) reads the newest chats before the database stack loads
    (``core.first_page``), or gives None to leave the list to the normal path.
    """

    TITLE = "Synergia"
    CSS_PATH = str(paths.resource("styles.tcss"))
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True, id="app.quit"),
        Binding("ctrl+p", "command_palette", "Commands", priority=True, id="app.command_palette"),
    ]

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        settings_loader: Callable[[], Settings] | None = None,
        services: AsyncServices | None = None,
        clock: Callable[[], datetime] = _utc_now,
        version: str = __version__,
        health_interval: float | None = 5.0,
        chat_page: int | None = None,
        offer_first_run: bool = False,
        terminate: Callable[[int], object] = os._exit,
        first_page: Callable[[int], list[ChatTitle] | None] | None = None,
        open_at: tuple[str, str | None] | None = None,
        live_sync: bool = True,
    ) -> None:
        super().__init__()
        self.live_sync = live_sync
        if settings is None and services is None and settings_loader is None:
            raise ValueError("SynergiaApp needs settings, a settings loader or services")
        self.settings = settings
        self.settings_loader = settings_loader
        self.first_page = first_page
        self.open_at = open_at
        self.startup_error: str | None = None
        self.offer_first_run = offer_first_run
        self.terminate = terminate  # how a hang-up ends the process (tests end just the app)
        self.services = services
        self.clock = clock
        self.version = version
        self.health_interval = health_interval
        self.chat_page = chat_page
        self.container: Container | None = None
        self.hung_up = False
        self._gc_thresholds: tuple[int, int, int] | None = None
        self._last_activity = self._last_full_gc = time.monotonic()
        self._dropped = 0  # message widgets unmounted since the last full collection

    def get_default_screen(self) -> Screen:
        kwargs: dict[str, Any] = {}
        if self.chat_page:
            kwargs["chat_page"] = self.chat_page
        return MainScreen(
            clock=self.clock,
            version=self.version,
            health_interval=self.health_interval,
            offer_first_run=self.offer_first_run,
            open_at=self.open_at,
            live_sync=self.live_sync,
            **kwargs,
        )

    @property
    def main_screen(self) -> MainScreen:
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        raise LookupError("the main screen is not on the stack")

    def on_mount(self) -> None:
        self._install_hangup_handler()
        if self.services is None:
            # After the first refresh, so the screen is painted before the database loads.
            self.call_after_refresh(self.start_database)
        else:  # handed in ready (tests, embedding)
            self.main_screen.post_message(DatabaseReady(self.services))

    def start_database(self) -> None:
        self.run_worker(self._open_database(), group="startup", exclusive=True)

    async def _open_database(self) -> None:
        """Open the database off the event loop; retry while it is unreachable."""
        if self.first_page is not None:
            await self._show_first_page(self.first_page)
        if self.settings is None and self.settings_loader is not None:
            try:
                self.settings = await asyncio.to_thread(self.settings_loader)
            except ConfigError as err:
                # Bad settings: leave the terminal and say why there (launch prints it), code 2.
                self.startup_error = str(err)
                self.exit(return_code=err.exit_code)
                return
        assert self.settings is not None
        while True:
            try:
                container = await asyncio.to_thread(open_database, self.settings)
            except SchemaError as err:
                log.error("schema not usable: %s", err)
                self.main_screen.post_message(DatabaseUnavailable(str(err)))
                return
            except SynergiaError as err:
                log.warning("cannot open the database: %s", err)
                self.main_screen.post_message(DatabaseUnavailable(str(err), STARTUP_RETRY_S))
                await asyncio.sleep(STARTUP_RETRY_S)
                continue
            break
        self.container = container
        self.services = container.async_services()
        self.main_screen.post_message(DatabaseReady(self.services))

    async def _show_first_page(self, read: Callable[[int], list[ChatTitle] | None]) -> None:
        """Put the newest chats on screen before the database stack loads, and wait (briefly)
        until they are painted: the stack's imports would hold the interpreter meanwhile."""
        chats = await asyncio.to_thread(read, self.main_screen.chat_page)
        if chats is None:
            return  # missing, behind, locked, broken: the normal path opens it and says why
        message = FirstPage(chats)
        self.main_screen.post_message(message)
        try:
            await asyncio.wait_for(message.shown.wait(), FIRST_PAGE_PAINT_S)
        except TimeoutError:
            log.info("the first page was not painted within %.1f s", FIRST_PAGE_PAINT_S)

    # -- ending: quit, hang-up, SIGTERM ---------------------------------------------------------

    def _install_hangup_handler(self) -> None:
        try:
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGHUP, self.hang_up)
            loop.add_signal_handler(signal.SIGTERM, self.terminated, TERMINATED_EXIT_CODE)
            # ctrl+c is a key in the TUI; a SIGINT sent by kill ends it as SIGTERM does.
            loop.add_signal_handler(signal.SIGINT, self.terminated, INTERRUPTED_EXIT_CODE)
        except (NotImplementedError, RuntimeError, ValueError):
            log.info("no signal handlers on this platform")  # e.g. Windows, or not main thread

    async def stop_replies(self, timeout: float = HANGUP_SAVE_S) -> None:
        """Stop every live reply and store what arrived (cancelled) or, if the database cannot
        take it within ``timeout``, journal it for the next start."""
        try:
            engine = self.main_screen.engine
        except LookupError:
            return
        if not await engine.shutdown(timeout):
            log.warning("the database did not take every reply in time; the rest is journalled")

    async def action_quit(self) -> None:
        """Quit: live replies are stopped and stored (or journalled) first."""
        await self.stop_replies()
        self.exit()

    def terminated(self, code: int = 143) -> None:
        """SIGTERM or SIGINT: end as a quit does (the terminal is restored), with 128 + N."""
        log.info("ended by a signal; exiting with %d", code)
        self.run_worker(self._terminate(code), group="hang-up")

    async def _terminate(self, code: int) -> None:
        await self.stop_replies()
        self.exit(return_code=code)

    def hang_up(self) -> None:
        """The terminal went away: store what is in flight, then leave at once."""
        log.info("terminal hung up; exiting")
        self.hung_up = True
        self.run_worker(self._hang_up(), group="hang-up")

    async def _hang_up(self) -> None:
        # Streaming replies are stopped first and given a moment to store what arrived (as
        # cancelled), so a dropped SSH session leaves nothing half-written.
        await self.stop_replies()
        # Textual's own shutdown would now write mode resets to a terminal that is gone, and
        # such writes can block forever. Everything worth keeping is committed: close the
        # database and the log, and end the process here.
        await asyncio.to_thread(self.close_database)
        if self.terminate is os._exit:
            logging.shutdown()
        self.terminate(HANGUP_EXIT_CODE)

    # -- safety --------------------------------------------------------------------------------

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification is plain text with control characters made visible.

        Messages quote titles, model names and database errors; ``markup`` is ignored so none of
        them can ever be read as Textual markup.
        """
        super().notify(
            neutralize(message),
            title=one_line(title),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    def action_help_quit(self) -> None:
        """ctrl+c copies in a text box; pressed elsewhere, say how to quit (as plain text: our
        notifications never read markup)."""
        for key, active in self.active_bindings.items():
            if active.binding.action in ("quit", "app.quit"):
                self.notify(f"Press {key} to quit Synergia.", title="Do you want to quit?")
                return

    # -- command palette -----------------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title != "Quit":
                yield command
        yield SystemCommand("Quit", self._with_key("Quit Synergia", "quit", self), self.action_quit)
        if isinstance(screen, MainScreen):
            for title, action, help_text in COMMANDS:
                yield SystemCommand(
                    title,
                    self._with_key(help_text, action, screen),
                    getattr(screen, f"action_{action}"),
                )

    def _with_key(self, help_text: str, action: str, node: Any) -> str:
        for bindings in node._bindings.key_to_bindings.values():
            for binding in bindings:
                if binding.action == action:
                    return f"{self.get_key_display(binding)} · {help_text}"
        return help_text

    # -- garbage collection --------------------------------------------------------------------

    def set_aside_loaded_objects(self) -> None:
        """Take what is loaded by now (Textual, SQLAlchemy, the models, an SDK) out of the
        cyclic garbage collector's view, and leave full collections to quiet moments.

        Python's full collections walk every object; with this much loaded each one pauses the
        UI for a tenth of a second, at whatever moment the allocation count says, often in the
        middle of opening a chat or scrolling. What start-up loads lives as long as the app, so
        it is frozen; the garbage that remains (closed widgets, mostly) is collected once the
        app has been quiet for a moment (``collect_when_quiet``). Done when a screen posts
        ``SetAsideLoadedObjects`` (start-up, or a provider's first use, has loaded its share);
        undone when the app ends.
        """
        gc.freeze()
        if self._gc_thresholds is None:
            self._gc_thresholds = gc.get_threshold()
            young, middle, _ = self._gc_thresholds
            # Young collections stay as they are (cheap); full ones wait for a quiet moment.
            gc.set_threshold(young, middle, FULL_GC_NEVER)
            self.set_interval(QUIET_GC_CHECK_S, self.collect_when_quiet)

    def on_set_aside_loaded_objects(self, message: SetAsideLoadedObjects) -> None:
        message.stop()
        self.set_aside_loaded_objects()

    def on_widgets_dropped(self, message: WidgetsDropped) -> None:
        message.stop()
        self._dropped += message.count
        if self._dropped >= DROPPED_GC:
            self._dropped = 0
            self.call_after_refresh(self._collect)  # between frames, after the page is shown

    def _collect(self) -> None:
        gc.collect()
        self._last_full_gc = time.monotonic()

    def on_activity(self, message: Activity) -> None:
        message.stop()
        self.note_activity()

    def note_activity(self) -> None:
        """Something is being shown at the user's request (a chat opening, older messages):
        not a quiet moment. A streaming reply is not counted: it can run for minutes and keeps
        making garbage; a full pass between two of its batches goes unnoticed."""
        self._last_activity = time.monotonic()

    def collect_when_quiet(self) -> None:
        """A full collection once input and screen work have paused for ``QUIET_GC_S``, or at
        the latest every ``FULL_GC_MAX_S`` (a user typing for minutes still gets one)."""
        now = time.monotonic()
        quiet = now - self._last_activity >= QUIET_GC_S
        if (quiet and now - self._last_full_gc >= QUIET_GC_S) or (
            now - self._last_full_gc >= FULL_GC_MAX_S
        ):
            self._collect()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseEvent | events.Paste):
            self.note_activity()
        await super().on_event(event)

    def on_unmount(self) -> None:
        gc.unfreeze()
        if self._gc_thresholds is not None:
            gc.set_threshold(*self._gc_thresholds)
            self._gc_thresholds = None

    # -- crashes -------------------------------------------------------------------------------
    # Textual reports an unhandled exception by printing a rich traceback WITH local variables
    # when the app exits; a password sitting in any frame's locals would reach the terminal.
    # Here every crash is logged (traceback without locals, redacted) and the app keeps only
    # one line, which the launcher prints once the terminal is restored.

    crash_line: str | None = None

    def _handle_exception(self, error: Exception) -> None:
        from textual.worker import WorkerFailed

        from synergia_tui.core.crash import EXIT_CODE, report_crash

        self._return_code = EXIT_CODE
        if self._exception is None:
            # Kept for Pilot, which re-raises the first exception in tests.
            self._exception = error
            self._exception_event.set()
        line = report_crash(error.error if isinstance(error, WorkerFailed) else error)
        self.crash_line = self.crash_line or line
        self.journal_live_replies()
        self._close_messages_no_wait()

    def journal_live_replies(self) -> None:
        """A crash ends the app now: what live replies hold and the database may not have yet
        goes to the journal, which the next start applies."""
        try:
            self.main_screen.engine.journal_everything()
        except (LookupError, NoMatches):
            return

    def _fatal_error(self) -> None:
        import sys

        error = sys.exc_info()[1]
        self._handle_exception(error if isinstance(error, Exception) else RuntimeError("crash"))

    def panic(self, *renderables: object) -> None:
        """Exit after a failure Textual reports as renderables (e.g. its input thread died)."""
        from synergia_tui.core.crash import EXIT_CODE

        line = self._log_renderables(renderables)
        self.crash_line = self.crash_line or line
        self._return_code = EXIT_CODE
        self._close_messages_no_wait()

    def _print_error_renderables(self) -> None:
        # Nothing is printed from here: crashes were logged when they happened and the launcher
        # prints the one line. Anything else Textual queued goes to the log as well.
        if self._exit_renderables:
            line = self._log_renderables(self._exit_renderables)
            self.crash_line = self.crash_line or line
            self._exit_renderables.clear()

    @staticmethod
    def _log_renderables(renderables: Iterable[object]) -> str:
        """Log renderables as plain text (any traceback stripped of its locals); the one line."""
        import io

        from rich.console import Console
        from rich.traceback import Traceback

        from synergia_tui.core.crash import report_failure

        buffer = io.StringIO()
        console = Console(file=buffer, width=120, color_system=None, force_terminal=False)
        for renderable in renderables:
            if isinstance(renderable, Traceback):
                for stack in renderable.trace.stacks:
                    for frame in stack.frames:
                        frame.locals = None
            console.print(renderable)
        text = buffer.getvalue().strip()
        return report_failure(text.splitlines()[-1] if text else "Textual panic", text)

    # -- shutdown ------------------------------------------------------------------------------

    def close_database(self) -> None:
        """Release what the app opened itself (services handed in belong to the caller)."""
        if self.container is not None:
            if self.services is not None:
                self.services.shutdown()
            self.container.close()
            self.container = None
