"""`synergia ask` through the real command, against a local provider server."""

# ruff: noqa: F811
from __future__ import annotations

import json
import os
import pty
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fake_provider_server import Script, fake_provider  # noqa: F401

SYNERGIA = str(Path(sys.executable).with_name("synergia"))
KEY = "sk-ask-secret-0123456789"


@pytest.fixture
def env(isolated_env: Path, fake_provider) -> dict[str, str]:
    environ = {**os.environ, "FAKE_KEY": KEY}
    added = synergia(
        environ,
        "models",
        "add",
        "fake",
        "--provider",
        "openai",
        "--model",
        "fake-model-a",
        "--base-url",
        fake_provider.openai_base_url,
        "--api-key-env",
        "FAKE_KEY",
        "--price",
        "1",
        "--output-price",
        "2",
    )
    assert added.returncode == 0, added.stderr
    return environ


def synergia(env, *args, stdin=None, timeout=60):
    return subprocess.run(
        [SYNERGIA, *args], env=env, input=stdin, capture_output=True, text=True, timeout=timeout
    )


def exported(env) -> dict:
    chats = json.loads(synergia(env, "chats", "list", "--json").stdout)
    assert len(chats) == 1
    return json.loads(synergia(env, "chats", "export", chats[0]["id"], "--format", "json").stdout)


def test_ask_streams_the_reply_and_stores_both_messages(env, fake_provider):
    fake_provider.script = Script(
        reply="Paris is the capital.", prompt_tokens=10, completion_tokens=5
    )
    result = synergia(env, "ask", "What", "is", "the", "capital?")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Paris is the capital.\n"
    data = exported(env)
    assert [(m["role"], m["content"], m["status"]) for m in data["messages"]] == [
        ("user", "What is the capital?", "complete"),
        ("assistant", "Paris is the capital.", "complete"),
    ]
    assert data["messages"][1]["cost"] == "0.000020000000"  # 10 × 1/M + 5 × 2/M


def test_ask_reads_the_prompt_from_a_pipe_and_continues_a_chat(env, fake_provider):
    fake_provider.script = Script(reply="one")
    assert synergia(env, "ask", stdin="first question\n").returncode == 0
    chat_id = json.loads(synergia(env, "chats", "list", "--json").stdout)[0]["id"]
    fake_provider.script = Script(reply="two")
    result = synergia(env, "ask", "--chat", chat_id, stdin="second question")
    assert result.returncode == 0, result.stderr
    assert [m["content"] for m in exported(env)["messages"]] == [
        "first question\n",
        "one",
        "second question",
        "two",
    ]


def test_ask_puts_the_arguments_first_then_the_piped_text(env, fake_provider):
    fake_provider.script = Script(reply="ok")
    result = synergia(env, "ask", "summarise this:", stdin="line one\nline two\n")
    assert result.returncode == 0, result.stderr
    assert exported(env)["messages"][0]["content"] == "summarise this:\n\nline one\nline two\n"
    sent = fake_provider.last_request.body["messages"][-1]["content"]
    assert sent == "summarise this:\n\nline one\nline two\n"


def test_ask_continues_a_chat_given_a_unique_prefix_of_its_id(env, fake_provider):
    fake_provider.script = Script(reply="one")
    assert synergia(env, "ask", "first").returncode == 0
    chat_id = json.loads(synergia(env, "chats", "list", "--json").stdout)[0]["id"]
    fake_provider.script = Script(reply="two")
    result = synergia(env, "ask", "--chat", chat_id[:8], "second")
    assert result.returncode == 0, result.stderr
    assert [m["content"] for m in exported(env)["messages"]] == ["first", "one", "second", "two"]
    bad = synergia(env, "ask", "--chat", "zz", "third")
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == [
        "synergia: 'zz' is not a chat id (give at least 4 of its hex digits)"
    ]


def test_a_provider_failure_exits_1_with_one_line_and_keeps_the_partial_reply(env, fake_provider):
    fake_provider.script = Script(reply="a b c d e f", cut_after=2)
    result = synergia(env, "ask", "hi")
    assert result.returncode == 1
    assert result.stdout.startswith("a b ")
    # One line says which model was asked (none was named), one line says what failed.
    assert result.stderr.strip().splitlines() == [
        "synergia: asking fake (the only enabled model)",
        "synergia: openai: the connection was lost in the middle of the answer",
    ]
    assert "Traceback" not in result.stderr
    reply = exported(env)["messages"][-1]
    assert (reply["status"], reply["content"]) == ("error", "a b ")


def test_the_api_key_never_reaches_the_log_or_the_output(env, fake_provider, isolated_env):
    fake_provider.script = Script(status=401, error_message=f"Incorrect API key provided: {KEY}")
    result = synergia(env, "ask", "hi")
    assert result.returncode == 1
    log = (isolated_env / "state" / "synergia" / "synergia.log").read_text()
    assert "401" in log  # the failure was logged...
    for text in (log, result.stdout, result.stderr):
        assert KEY not in text  # ...without the key


def test_escape_sequences_in_a_reply_are_neutralised_on_a_terminal(env, fake_provider):
    fake_provider.script = Script(chunks=["safe \x1b]52;c;ZXZpbA==\x07 \x1b[31mred"])
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [SYNERGIA, "ask", "hi"], env=env, stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal
    )
    os.close(terminal)
    output = b""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            chunk = os.read(controller, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    process.wait(timeout=30)
    os.close(controller)
    assert b"\x1b" not in output
    assert "safe ␛]52;c;ZXZpbA==␇ ␛[31mred" in output.decode()


def test_a_killed_ask_leaves_the_prompt_and_the_partial_reply_marked(
    env, fake_provider, isolated_env
):
    fake_provider.script = Script(reply=" ".join(f"t{i}" for i in range(400)), tokens_per_second=50)
    process = subprocess.Popen(
        [SYNERGIA, "ask", "long please"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    database = isolated_env / "data" / "synergia" / "synergia.db"
    deadline = time.monotonic() + 30
    saved = ""
    while time.monotonic() < deadline and not saved.startswith("t0 t1"):
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
            row = connection.execute(
                "SELECT content FROM messages WHERE role = 'assistant'"
            ).fetchone()
        saved = row[0] if row else ""
        time.sleep(0.02)
    assert saved.startswith("t0 t1"), "the partial reply was never saved while streaming"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    # The next run notices the reply that never finished.
    fake_provider.script = Script(reply="fresh")
    assert synergia(env, "ask", "--model", "fake", "again").returncode == 0
    chats = json.loads(synergia(env, "chats", "list", "--json").stdout)
    old = next(c for c in chats if c["title"] == "long please")
    messages = json.loads(synergia(env, "chats", "export", old["id"], "--format", "json").stdout)[
        "messages"
    ]
    assert messages[0]["content"] == "long please"
    assert messages[1]["status"] == "error"
    assert "Interrupted" in messages[1]["error"]
    assert messages[1]["content"].startswith(saved)


def test_ask_without_a_prompt_is_a_usage_error(env):
    result = subprocess.run(
        [SYNERGIA, "ask"], env=env, stdin=None, capture_output=True, text=True, timeout=30
    )
    # stdin is not a terminal here (captured), so an empty pipe means an empty prompt
    assert result.returncode in (1, 2)
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
