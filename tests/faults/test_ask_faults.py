"""``synergia ask`` against what goes wrong: signals mid-reply, hostile provider output."""

# ruff: noqa: F811
from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from tests.fake_provider_server import Script, fake_provider  # noqa: F401
from tests.faults.conftest import SYNERGIA, add_fake_model, synergia_command_env


@pytest.fixture
def env(tmp_path, fake_provider):
    environ = synergia_command_env(tmp_path)
    add_fake_model(environ, fake_provider.openai_base_url)
    return environ


def run(env, *args, stdin=None):
    return subprocess.run(
        [SYNERGIA, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60
    )


def the_reply(env) -> dict:
    chat = json.loads(run(env, "chats", "list", "--json").stdout)[0]
    exported = json.loads(run(env, "chats", "export", chat["id"], "--format", "json").stdout)
    return exported["messages"][-1]


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)]
)
def test_a_signal_mid_reply_stops_ask_within_a_second_and_keeps_what_was_printed(
    env, fake_provider, signum, code
):
    fake_provider.script = Script(reply=" ".join(f"t{i}" for i in range(500)), tokens_per_second=50)
    process = subprocess.Popen(
        [SYNERGIA, "ask", "a long one"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    printed = process.stdout.read(40)  # text is flowing
    signalled = time.monotonic()
    process.send_signal(signum)
    out, err = process.communicate(timeout=30)
    took = time.monotonic() - signalled
    assert process.returncode == code, err
    assert took < 1.5, f"took {took:.2f} s"
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "synergia: stopped; the partial reply is kept"
    shown = (printed + out).strip()
    reply = the_reply(env)
    assert reply["status"] == "cancelled"
    # Every word that was printed is stored (the store has at least what the screen had).
    assert reply["content"].startswith(shown.rsplit(" ", 1)[0])


def test_a_lone_surrogate_from_the_provider_is_printed_and_stored_as_a_replacement(
    env, fake_provider
):
    fake_provider.script = Script(chunks=["before ", "\ud800", " after"])
    result = subprocess.run([SYNERGIA, "ask", "hi"], env=env, capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == "before \ufffd after\n"
    assert b"Traceback" not in result.stderr
    reply = the_reply(env)
    assert (reply["status"], reply["content"]) == ("complete", "before \ufffd after")


def test_escape_sequences_from_the_model_reach_a_pipe_inert_unless_raw(env, fake_provider):
    hostile = "x \x1b]0;owned\x07 \x1b[2J y"
    fake_provider.script = Script(chunks=[hostile])
    inert = run(env, "ask", "hi")
    assert inert.returncode == 0, inert.stderr
    assert "\x1b" not in inert.stdout and "\x07" not in inert.stdout
    assert "␛]0;owned␇" in inert.stdout
    fake_provider.script = Script(chunks=[hostile])
    raw = run(env, "ask", "--raw", "again")
    assert raw.stdout == hostile + "\n"
