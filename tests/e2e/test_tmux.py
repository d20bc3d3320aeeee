"""The real `synergia` command in a real terminal (tmux): a session, and a hang-up."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]
SYNERGIA = str(Path(sys.executable).with_name("synergia"))


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=True).stdout


def _wait_for(session: str, needle: str, deadline_s: float = 15.0) -> str:
    deadline = time.monotonic() + deadline_s
    screen = ""
    while time.monotonic() < deadline:
        screen = _tmux("capture-pane", "-p", "-t", session)
        if needle in screen:
            return screen
        time.sleep(0.1)
    raise AssertionError(f"{needle!r} not on screen within {deadline_s}s:\n{screen}")


def _wait_gone(session: str, needle: str, deadline_s: float = 15.0) -> str:
    deadline = time.monotonic() + deadline_s
    screen = ""
    while time.monotonic() < deadline:
        screen = _tmux("capture-pane", "-p", "-t", session)
        if needle not in screen:
            return screen
        time.sleep(0.1)
    raise AssertionError(f"{needle!r} still on screen after {deadline_s}s:\n{screen}")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    values = {
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "SYNERGIA_USER": "e2e",
        "TERM": "xterm-256color",
    }
    full = {**os.environ, **values}
    subprocess.run(
        [SYNERGIA, "models", "add", "e2e-model", "--provider", "openai", "--model", "gpt-4o-mini"],
        env=full,
        check=True,
        capture_output=True,
    )
    return values


@pytest.fixture
def session(env: dict[str, str]):
    name = f"synergia-e2e-{uuid.uuid4().hex[:8]}"
    flags = [item for key, value in env.items() for item in ("-e", f"{key}={value}")]
    _tmux("new-session", "-d", "-s", name, "-x", "80", "-y", "24", *flags, SYNERGIA)
    yield name
    subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


def _pid(session: str) -> int:
    return int(_tmux("list-panes", "-t", session, "-F", "#{pane_pid}").strip())


def test_a_session_creates_a_chat_sends_a_prompt_and_quits(session, env):
    _wait_for(session, "sqlite ●")
    _tmux("send-keys", "-t", session, "C-n")
    # The new chat's row in the sidebar (the footer's "^n New chat" is there from the start).
    _wait_for(session, "\nNew chat ")
    _tmux("send-keys", "-t", session, "-l", "hello from tmux")
    _tmux("send-keys", "-t", session, "Enter")
    _wait_for(session, "You → e2e-model")
    _tmux("send-keys", "-t", session, "C-o")
    # The picker's own title and filter: "e2e-model" alone is on screen already.
    _wait_for(session, "Pick a model")
    picker = _wait_gone(session, "Loading models…")
    assert "Pick a model" in picker and "Filter models" in picker, picker
    assert "e2e-model" in picker and "openai" in picker, picker  # the model's row in the list
    _tmux("send-keys", "-t", session, "Escape")
    _wait_gone(session, "Pick a model")
    pid = _pid(session)
    _tmux("send-keys", "-t", session, "C-q")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.1)
    assert not _alive(pid)

    out = subprocess.run(
        [SYNERGIA, "chats", "list", "--json"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert '"title": "hello from tmux"' in out


def test_hanging_up_the_terminal_ends_the_process_promptly(session):
    _wait_for(session, "sqlite ●")
    pid = _pid(session)
    subprocess.run(["tmux", "kill-session", "-t", session], check=True)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    assert not _alive(pid), "synergia kept running after the terminal hung up"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; only its parent has not reaped it yet.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"
