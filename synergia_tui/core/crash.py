"""Unexpected errors: the traceback goes to the log file, the terminal gets one line.

A traceback printed to a terminal can carry secrets (a database URL in an error message, or a
password among the local variables that rich tracebacks show). So whatever escapes the TUI or a
command is logged without local variables, through the redaction filter, and the user is told in
one neutralized line where the details are.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

from synergia_tui.core.logging import configure_logging, log_path, redact, redaction_filter
from synergia_tui.core.safe_text import one_line

EXIT_CODE = 1
SUMMARY_MAX = 200
# Environment variables whose values are secrets even before the settings are read (a crash can
# come first). Short values are left alone: masking every "1" would make the log unreadable.
_SECRET_NAME = re.compile(r"(?i)(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|_KEY)$")
_SECRET_MIN = 4

log = logging.getLogger("synergia_tui.crash")

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def environment_secrets(environ: dict[str, str] | None = None) -> list[str]:
    """Secret values found in the environment: passwords, keys, tokens, URL passwords."""
    environ = dict(os.environ) if environ is None else environ
    found = [v for k, v in environ.items() if _SECRET_NAME.search(k) and len(v) >= _SECRET_MIN]
    url = environ.get("SYNERGIA_DATABASE_URL")
    if url:
        try:
            password = urlsplit(url).password
        except ValueError:
            password = None
        if password:
            found += [password, unquote(password)]
    return [v for v in found if len(v) >= _SECRET_MIN]


def _log_file() -> Path:
    """The file the logs go to; sets the log file up if nothing was configured yet."""
    root = logging.getLogger()
    for handler in root.handlers:
        filename = getattr(handler, "baseFilename", None)
        if filename and redaction_filter() in handler.filters:  # the file configure_logging made
            return Path(filename)
    if not root.handlers:
        # The crash came before the settings were read (or they could not be).
        return configure_logging(os.environ.get("LOG_LEVEL", "INFO").upper())
    return log_path()  # someone else's handlers (a test runner): records go to them


def _display(path: Path) -> str:
    home = Path.home()
    try:
        return f"~/{path.relative_to(home)}"
    except ValueError:
        return str(path)


def _report(summary: str, *, exc_info: ExcInfo | None = None, details: str | None = None) -> str:
    redactor = redaction_filter()
    for secret in environment_secrets():
        redactor.add_secret(secret)
    try:
        where = f"details in {_display(_log_file())}"
        # logging formats the traceback with the traceback module: never any local variable.
        if exc_info is not None:
            log.error("unexpected error: %s", summary, exc_info=exc_info)
        else:
            log.error("unexpected error: %s\n%s", summary, details)
    except (OSError, ValueError) as err:
        where = f"no details: cannot write the log ({type(err).__name__})"
    shown = one_line(redact(summary, redactor.secrets))
    if len(shown) > SUMMARY_MAX:
        shown = shown[: SUMMARY_MAX - 1] + "…"
    return f"synergia: unexpected error ({shown}); {where}"


def report_crash(error: BaseException) -> str:
    """Log ``error`` with its traceback (redacted, no locals); return the line for the terminal."""
    summary = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return _report(summary, exc_info=(type(error), error, error.__traceback__))


def report_failure(summary: str, details: str) -> str:
    """Like ``report_crash`` for a failure known only as text (e.g. a rendered traceback)."""
    return _report(summary, details=details)


def _excepthook(
    kind: type[BaseException], error: BaseException, traceback: TracebackType | None
) -> None:
    if issubclass(kind, KeyboardInterrupt):
        print("synergia: interrupted", file=sys.stderr)
        return
    error.__traceback__ = traceback
    print(report_crash(error), file=sys.stderr)


def _thread_excepthook(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None or issubclass(args.exc_type, SystemExit):
        return
    error = args.exc_value
    error.__traceback__ = args.exc_traceback
    print(report_crash(error), file=sys.stderr)


def _unraisablehook(unraisable: sys.UnraisableHookArgs) -> None:
    # Exceptions Python can only ignore (in __del__, at shutdown): logged, never printed.
    if unraisable.exc_value is not None:
        error = unraisable.exc_value
        error.__traceback__ = unraisable.exc_traceback
        report_crash(error)


def install_excepthooks() -> None:
    """An exception that escapes anyway (main thread, other thread, ``__del__``) is reported
    the same way: to the log, and in one line."""
    sys.excepthook = _excepthook
    threading.excepthook = _thread_excepthook
    sys.unraisablehook = _unraisablehook
