"""Starts the TUI: settings and logging first, then the app (which opens the database itself)."""

from __future__ import annotations

import sys


def run_tui() -> int:
    """Run the terminal UI; returns the process exit code."""
    from synergia_tui.core.config import load_settings
    from synergia_tui.core.errors import ConfigError
    from synergia_tui.core.logging import configure_logging

    try:
        settings = load_settings()
    except ConfigError as err:
        print(f"synergia: {err}", file=sys.stderr)
        return 2
    try:
        # Logs go to the file only: the terminal belongs to Textual from here on.
        configure_logging(settings.log_level, settings.secrets())
    except OSError as err:
        print(f"synergia: cannot open the log file: {err}", file=sys.stderr)
        return 2

    from synergia_tui.ui.app import SynergiaApp

    app = SynergiaApp(settings)
    try:
        result = app.run()
    finally:
        app.close_database()
    return result if isinstance(result, int) else (app.return_code or 0)
