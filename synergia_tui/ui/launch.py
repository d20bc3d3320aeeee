"""Starts the TUI: settings are vouched for before the first paint, and loaded after it."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from synergia_tui.core.config import Settings
    from synergia_tui.core.first_page import ChatTitle


def load_settings_and_logging() -> Settings:
    """Read the settings and send logs to the file (never the terminal). Runs on a thread."""
    from synergia_tui.core.config import load_settings
    from synergia_tui.core.errors import ConfigError
    from synergia_tui.core.logging import configure_logging

    settings = load_settings()
    try:
        configure_logging(settings.log_level, settings.secrets())
    except OSError as err:
        raise ConfigError(f"cannot open the log file: {err}") from None
    return settings


def first_page_reader(database: Path, user: str) -> Callable[[int], list[ChatTitle] | None]:
    """Reads the newest chats of the embedded database before the stack loads (on a thread)."""

    def read(limit: int) -> list[ChatTitle] | None:
        from synergia_tui.core.first_page import read_first_page  # sqlite3: after the first paint

        return read_first_page(database, user, limit)

    return read


def run_tui(*, chat: str | None = None, message: str | None = None) -> int:
    """Run the terminal UI, on ``chat`` (at ``message``) if given; returns the exit code."""
    from synergia_tui.core.config_check import quick_settings
    from synergia_tui.core.errors import ConfigError

    # pydantic and SQLAlchemy are not imported before the first frame: the app paints as fast as
    # a bare Textual app, then loads the settings and the database in a worker. The settings'
    # sources are checked first with the standard library alone; when anything looks wrong,
    # pydantic is loaded now, so a bad value is one line on a terminal never taken over.
    quick = quick_settings()
    settings: Settings | None = None
    if quick.problem is not None:
        try:
            settings = load_settings_and_logging()
        except ConfigError as err:
            print(f"synergia: {err}", file=sys.stderr)
            return err.exit_code

    from synergia_tui.ui.app import SynergiaApp

    database = quick.sqlite_file if quick.problem is None else None
    app = SynergiaApp(
        settings,
        settings_loader=None if settings is not None else load_settings_and_logging,
        offer_first_run=True,
        first_page=None if database is None else first_page_reader(database, quick.user),
        open_at=(chat, message) if chat is not None else None,
    )
    try:
        result = app.run()
    finally:
        app.close_database()
    code = result if isinstance(result, int) else (app.return_code or 0)
    if app.crash_line is not None:
        # The traceback is in the log; the restored terminal gets one line.
        print(app.crash_line, file=sys.stderr)
        code = app.return_code or 1
    elif app.startup_error is not None:
        print(f"synergia: {app.startup_error}", file=sys.stderr)
    from synergia_tui.core.process import exit_now_if_threads_busy

    exit_now_if_threads_busy(code)
    return code
