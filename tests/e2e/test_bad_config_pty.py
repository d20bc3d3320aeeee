"""A bad setting, given to the real ``synergia`` on a real terminal: one line and exit code 2, and
the terminal is never taken over (no switch to the alternate screen, nothing painted)."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

SYNERGIA = str(Path(sys.executable).with_name("synergia"))
ALTERNATE_SCREEN = b"\x1b[?1049h"

# name -> (environment, config.toml, .env, text the one line must contain)
BAD_CONFIGS = {
    "port not a number (env)": ({"POSTGRES_PORT": "abc"}, None, None, "POSTGRES_PORT"),
    "port out of range (env)": ({"POSTGRES_PORT": "99999"}, None, None, "POSTGRES_PORT"),
    "port not a number (config.toml)": ({}, 'postgres_port = "abc"\n', None, "POSTGRES_PORT"),
    "port out of range (config.toml)": ({}, "postgres_port = 99999\n", None, "POSTGRES_PORT"),
    "config.toml not TOML": ({}, "postgres_port = [oops", None, "config.toml"),
    "bad log level (.env)": ({}, None, "LOG_LEVEL=chatty\n", "LOG_LEVEL"),
    "unknown environment (env)": ({"ENVIRONMENT": "moon"}, None, None, "ENVIRONMENT"),
    "unsupported database (env)": ({"SYNERGIA_DATABASE_URL": "mysql://u@h/d"}, None, None, "mysql"),
}


def _run_in_pty(env: dict[str, str], cwd: Path, timeout: float = 60) -> tuple[int, bytes]:
    """Start ``synergia`` on an 80×24 pty; its exit code and every byte it wrote."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    process = subprocess.Popen(
        [SYNERGIA],
        env=env,
        cwd=cwd,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        start_new_session=True,
    )
    os.close(terminal)
    output = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
        return process.wait(timeout=max(1.0, deadline - time.monotonic())), output
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(controller)


@pytest.mark.e2e
@pytest.mark.parametrize("case", list(BAD_CONFIGS))
def test_a_bad_setting_prints_one_line_and_exits_2_without_taking_the_terminal(tmp_path, case):
    environment, toml, dotenv, named = BAD_CONFIGS[case]
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    if toml is not None:
        config = tmp_path / "config" / "synergia" / "config.toml"
        config.parent.mkdir(parents=True)
        config.write_text(toml)
    if dotenv is not None:
        (cwd / ".env").write_text(dotenv)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SYNERGIA_", "POSTGRES_"))},
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "TERM": "xterm-256color",
        **environment,
    }

    code, output = _run_in_pty(env, cwd)

    assert code == 2, output
    assert ALTERNATE_SCREEN not in output
    assert b"\x1b" not in output  # nothing painted, no mode switched: plain text only
    lines = [line for line in output.decode().splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("synergia: ")
    assert named in lines[0]
    assert not (tmp_path / "data").exists()  # no database was created either
