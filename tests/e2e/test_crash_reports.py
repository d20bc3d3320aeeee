"""A crash, in the TUI or a command, prints one line: no traceback, no locals, no password."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.support import synergia_env

pytestmark = pytest.mark.e2e

PASSWORD = "Zebra-Quartz-4417"
RUN_DEADLINE_S = 30.0
# An unreachable server, so the TUI's start-up worker reports it on the main screen.
DATABASE_URL = f"postgresql://synergia:{PASSWORD}@127.0.0.1:1/synergia"
_ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|.)")

# Each crash happens in a function holding the password in a local variable, and names it in its
# message: Textual's default report would print both.
_BOOM = """
import os, sys
def boom(*args, **kwargs):
    database_url = os.environ["SYNERGIA_DATABASE_URL"]
    raise KeyError("lost " + os.environ["POSTGRES_PASSWORD"] + " in " + database_url)
"""
TUI_WORKER_CRASH = (
    _BOOM
    + """
import synergia_tui.ui.app
synergia_tui.ui.app.open_database = boom  # runs in the app's start-up worker
from synergia_tui.main import main
sys.exit(main())
"""
)
TUI_HANDLER_CRASH = (
    _BOOM
    + """
from synergia_tui.ui.screens.main import MainScreen
MainScreen.on_mount = boom
from synergia_tui.main import main
sys.exit(main())
"""
)
CLI_CRASH = (
    _BOOM
    + """
from synergia_tui.cli import commands
commands.HANDLERS["models"] = boom
sys.argv = ["synergia", "models", "list"]
from synergia_tui.main import main
sys.exit(main())
"""
)
HOOK_CRASH = (
    _BOOM
    + """
from synergia_tui.core.crash import install_excepthooks
install_excepthooks()
boom()
"""
)


def _run_in_pty(code: str, env: dict[str, str]) -> tuple[int, str]:
    """Run ``python -c code`` on a real 80x24 terminal; its exit code and everything it wrote."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    output = bytearray()
    deadline = time.monotonic() + RUN_DEADLINE_S
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    chunk = b""
                if not chunk:
                    break
                output += chunk
            elif process.poll() is not None:
                break
        else:
            raise AssertionError(
                f"no exit within {RUN_DEADLINE_S}s:\n{output.decode(errors='replace')}"
            )
        code = process.wait(timeout=RUN_DEADLINE_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    return code, output.decode("utf-8", errors="replace")


def _screen_text(raw: str) -> str:
    return _ANSI.sub("", raw).replace("\r", "")


def _env(tmp_path: Path) -> dict[str, str]:
    return synergia_env(
        HOME_FOR_XDG=str(tmp_path),
        SYNERGIA_DATABASE_URL=DATABASE_URL,
        POSTGRES_PASSWORD=PASSWORD,
        TERM="xterm-256color",
    )


def _assert_one_line_report(code: int, raw: str, tmp_path: Path) -> None:
    text = _screen_text(raw)
    assert code == 1, text
    assert PASSWORD not in raw
    assert "Traceback" not in text
    assert "database_url" not in text  # a local variable's name: locals were shown
    error_lines = [line for line in text.splitlines() if "synergia:" in line]
    assert len(error_lines) == 1, text
    line = error_lines[0]
    assert "synergia: unexpected error (KeyError: " in line
    assert "***" in line
    assert "details in" in line and line.rstrip().endswith("synergia.log"), line
    log = (tmp_path / "state" / "synergia" / "synergia.log").read_text()
    assert "Traceback (most recent call last)" in log
    assert "KeyError" in log and "boom" in log
    assert "***" in log
    assert PASSWORD not in log


@pytest.mark.parametrize(
    "code", [TUI_WORKER_CRASH, TUI_HANDLER_CRASH], ids=["in-a-worker", "in-a-handler"]
)
def test_a_tui_crash_prints_one_redacted_line_and_logs_the_traceback(code, tmp_path):
    exit_code, raw = _run_in_pty(code, _env(tmp_path))
    _assert_one_line_report(exit_code, raw, tmp_path)


def test_a_command_crash_prints_one_redacted_line_and_logs_the_traceback(tmp_path):
    exit_code, raw = _run_in_pty(CLI_CRASH, _env(tmp_path))
    _assert_one_line_report(exit_code, raw, tmp_path)


def test_an_exception_escaping_to_the_excepthook_prints_one_redacted_line(tmp_path):
    exit_code, raw = _run_in_pty(HOOK_CRASH, _env(tmp_path))
    _assert_one_line_report(exit_code, raw, tmp_path)
