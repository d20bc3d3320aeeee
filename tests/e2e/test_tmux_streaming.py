"""The real `synergia` in tmux against a local provider server: pick, send, stream, stop."""

# ruff: noqa: F811
from __future__ import annotations

import json
import os
import pty
import sqlite3
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.e2e.test_tmux import SYNERGIA, _tmux, _wait_for, _wait_gone
from tests.fake_provider_server import Script, fake_provider  # noqa: F401

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def env(tmp_path: Path, fake_provider) -> dict[str, str]:
    values = {
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "SYNERGIA_USER": "e2e",
        "TERM": "xterm-256color",
        "E2E_KEY": "sk-e2e-0000000000000",
    }
    full = {**os.environ, **values}
    for name in ("unused-model", "served-model"):
        subprocess.run(
            [
                SYNERGIA,
                "models",
                "add",
                name,
                "--provider",
                "openai",
                "--model",
                "fake-model-a",
                "--base-url",
                fake_provider.openai_base_url,
                "--api-key-env",
                "E2E_KEY",
            ],
            env=full,
            check=True,
            capture_output=True,
        )
    return values


@pytest.fixture
def session(env: dict[str, str]):
    name = f"synergia-stream-{uuid.uuid4().hex[:8]}"
    flags = [item for key, value in env.items() for item in ("-e", f"{key}={value}")]
    _tmux("new-session", "-d", "-s", name, "-x", "100", "-y", "30", *flags, SYNERGIA)
    yield name
    subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


def send(session: str, *keys: str) -> None:
    _tmux("send-keys", "-t", session, *keys)


def type_text(session: str, text: str) -> None:
    _tmux("send-keys", "-t", session, "-l", text)


def test_pick_a_model_send_watch_the_reply_stream_and_stop_one(session, env, fake_provider):
    _wait_for(session, "sqlite ●")
    send(session, "C-o")
    _wait_for(session, "unused-model")  # the picker lists both models
    type_text(session, "served")  # filter as you type, then enter picks
    _wait_gone(session, "unused-model")  # the filter has run
    send(session, "Enter")
    _wait_gone(session, "Pick a model")
    _wait_for(session, "model served-model")

    fake_provider.script = Script(
        reply=" ".join(f"tok{i}" for i in range(60)), tokens_per_second=40
    )
    type_text(session, "count for me")
    send(session, "Enter")
    _wait_for(session, "tok5")  # tokens appear while the reply streams...
    _wait_for(session, "tok59", deadline_s=20)  # ...until the end
    # The last token can reach the screen a moment before the reply is saved as finished:
    # then the status bar stops saying "replying" (and the whole reply stays on screen).
    screen = _wait_gone(session, "replying", deadline_s=5)
    assert "tok59" in screen and "tok0" in screen

    fake_provider.script = Script(
        reply=" ".join(f"slow{i}" for i in range(400)), tokens_per_second=20
    )
    type_text(session, "now a long one")
    send(session, "Enter")
    _wait_for(session, "slow3")
    send(session, "Escape")
    _wait_for(session, "cancelled")

    chats = json.loads(
        subprocess.run(
            [SYNERGIA, "chats", "list", "--json"],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    exported = json.loads(
        subprocess.run(
            [SYNERGIA, "chats", "export", chats[0]["id"], "--format", "json"],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    replies = [m for m in exported["messages"] if m["role"] == "assistant"]
    assert [r["status"] for r in replies] == ["complete", "cancelled"]
    assert replies[0]["content"].endswith("tok59")
    assert replies[1]["content"].startswith("slow0 slow1 slow2 slow3")
    assert exported["chat"]["model_name"] == "served-model"


def test_a_bad_setting_leaves_the_terminal_with_one_line_and_exit_code_2(tmp_path):
    env = {
        **os.environ,
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "POSTGRES_PORT": "abc",
        "TERM": "xterm",
    }
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [SYNERGIA], env=env, stdin=terminal, stdout=terminal, stderr=terminal
    )
    os.close(terminal)
    output = b""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            chunk = os.read(controller, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    assert process.wait(timeout=30) == 2
    os.close(controller)
    tail = output.decode(errors="replace").rsplit("\x1b[?1049l", 1)[
        -1
    ]  # after leaving the app screen
    assert "synergia: POSTGRES_PORT:" in tail
    assert "Traceback" not in output.decode(errors="replace")


def test_hanging_up_during_a_reply_keeps_it_marked_and_ends_promptly(session, env, fake_provider):
    from tests.e2e.test_tmux import _alive, _pid

    _wait_for(session, "sqlite ●")
    fake_provider.script = Script(
        reply=" ".join(f"slow{i}" for i in range(400)), tokens_per_second=20
    )
    type_text(session, "talk slowly")
    send(session, "Enter")
    _wait_for(session, "slow3")
    pid = _pid(session)
    subprocess.run(["tmux", "kill-session", "-t", session], check=True)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    assert not _alive(pid), "synergia kept running after the terminal hung up"
    database = Path(env["XDG_DATA_HOME"]) / "synergia" / "synergia.db"
    with sqlite3.connect(database) as connection:
        status, content = connection.execute(
            "SELECT status, content FROM messages WHERE role = 'assistant'"
        ).fetchone()
    assert status == "cancelled"
    assert content.startswith("slow0 slow1 slow2 slow3")


def test_edit_the_first_prompt_from_the_keyboard_at_80x24_and_see_its_second_version(
    env, fake_provider
):
    name = f"synergia-edit-{uuid.uuid4().hex[:8]}"
    flags = [item for key, value in env.items() for item in ("-e", f"{key}={value}")]
    _tmux("new-session", "-d", "-s", name, "-x", "80", "-y", "24", *flags, SYNERGIA)
    try:
        _wait_for(name, "sqlite ●")
        fake_provider.script = Script(reply="Paris is the capital.")
        type_text(name, "capital of France?")
        send(name, "Enter")
        _wait_for(name, "Paris is the capital.")
        _wait_gone(name, "replying", deadline_s=10)
        fake_provider.script = Script(reply="Rome is the capital.")
        send(name, "M-Up")  # the message cursor: the reply...
        _wait_for(name, "r Regenerate")  # the footer offers what the selection allows
        send(name, "Up")  # ...then the prompt above it
        _wait_for(name, "e Edit")
        send(name, "e")  # its text goes to the prompt box, to edit
        _wait_for(name, "Editing")
        for _ in range(len("France?")):
            send(name, "BSpace")
        type_text(name, "Italy?")
        send(name, "Enter")
        screen = _wait_for(name, "Rome is the capital.")
        screen = _wait_for(name, "2/2")
        assert "Paris is the capital." not in screen  # the other branch is not shown
        send(name, "M-Up")
        _wait_for(name, "r Regenerate")
        send(name, "Up")
        _wait_for(name, "e Edit")
        send(name, "Left")  # the first version comes back, with its reply
        screen = _wait_for(name, "Paris is the capital.")
        assert "1/2" in screen and "Rome is the capital." not in screen
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
    assert fake_provider.last_request.body["messages"] == [
        {"role": "user", "content": "capital of Italy?"}
    ]


EDITOR_WHILE_STREAMING = """#!/bin/sh
echo "EDITOR HAS THE TERMINAL"
i=0
while [ ! -e "{go}" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done
printf 'written meanwhile\\n' > "$1"
"""


def test_a_reply_streams_on_and_is_saved_while_the_editor_has_the_terminal(
    env, fake_provider, tmp_path
):
    go, script = tmp_path / "go", tmp_path / "fake-editor"
    script.write_text(EDITOR_WHILE_STREAMING.format(go=go))
    script.chmod(0o700)
    values = {**env, "VISUAL": str(script)}
    flags = [item for key, value in values.items() for item in ("-e", f"{key}={value}")]
    name = f"synergia-f4-{uuid.uuid4().hex[:8]}"
    _tmux("new-session", "-d", "-s", name, "-x", "80", "-y", "24", *flags, SYNERGIA)
    words = [f"w{i}" for i in range(80)]
    try:
        _wait_for(name, "sqlite ●")
        fake_provider.script = Script(reply=" ".join(words), tokens_per_second=40)
        type_text(name, "a long answer please")
        send(name, "Enter")
        _wait_for(name, "w3")
        send(name, "F4")  # the reply has ~2 s to go: the editor takes the terminal meanwhile
        _wait_for(name, "EDITOR HAS THE TERMINAL")
        database = Path(env["XDG_DATA_HOME"]) / "synergia" / "synergia.db"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # saved to its end while the app is suspended
            with sqlite3.connect(database) as connection:
                row = connection.execute(
                    "SELECT status, content FROM messages WHERE role = 'assistant'"
                ).fetchone()
            if row is not None and row[0] == "complete":
                break
            time.sleep(0.1)
        assert row == ("complete", " ".join(words))
        go.touch()
        screen = _wait_for(name, "written meanwhile")  # back, with the editor's text...
        screen = _wait_for(name, "w79")  # ...and the whole reply drawn
        assert "sqlite ●" in screen
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
