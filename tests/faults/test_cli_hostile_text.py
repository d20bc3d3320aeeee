"""Hostile bytes in stored text stay inert on every output of the command line and in the log.

The services refuse control characters in names and titles, but a database is shared with
other clients and older versions, and replies hold whatever a model sent: so the rows here are
written with plain SQL, as anyone with access to the database could.
"""

# ruff: noqa: F811
from __future__ import annotations

import json
import logging
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL

from synergia_tui.bootstrap import build
from synergia_tui.core.logging import configure_logging
from tests.conftest import settings_for
from tests.fake_provider_server import Script, fake_provider  # noqa: F401
from tests.faults.conftest import add_fake_model, synergia_command_env
from tests.support import SYNERGIA, add_model, as_user, run_commands, url_text

CLEAR_SCREEN = "\x1b[2J"
SET_TITLE = "\x1b]0;pwned\x07"
WRITE_CLIPBOARD = "\x1b]52;c;ZXZpbA==\x07"
CSI_C1 = "\x9b31m"
TITLE = f"plans{CLEAR_SCREEN}{CSI_C1}"
MODEL_NAME = f"evil{SET_TITLE}"
REPLY = f"here:{WRITE_CLIPBOARD}\tdone\nline two"
# What a terminal acts on: C0 controls but tab and newline, DEL, C1 controls.
ACTIVE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@pytest.fixture
def hostile_chat(tmp_path: Path) -> tuple[URL, str]:
    """A chat with a hostile title, model name and reply; returns the URL and the chat id."""
    url = URL.create("sqlite+pysqlite", database=str(tmp_path / "hostile" / "synergia.db"))
    container = build(settings_for(url))
    container.ensure_schema()
    model = add_model(container, "placeholder")
    chat = container.chats.create_chat(model_id=model.id, title="placeholder")
    container.messages.add_user_message(chat.id, "show me")
    reply = container.messages.start_reply(chat.id, model.id)
    container.messages.finish_reply(reply.id, content="x", prompt_tokens=1, completion_tokens=1)
    with container.db.engine.begin() as connection:
        connection.execute(text("UPDATE models SET name = :v"), {"v": MODEL_NAME})
        connection.execute(text("UPDATE chats SET title = :v"), {"v": TITLE})
        connection.execute(
            text("UPDATE messages SET content = :v WHERE role = 'assistant'"), {"v": REPLY}
        )
    container.close()
    return url, str(chat.id)


def _pipe(url: URL, *argv: str) -> subprocess.CompletedProcess[bytes]:
    """The real command with stdout on a pipe (as in `synergia … | head`)."""
    env = synergia_command_env(SYNERGIA_DATABASE_URL=url_text(as_user(url)), SYNERGIA_USER="alice")
    return subprocess.run(
        [str(SYNERGIA), *argv], env=env, capture_output=True, timeout=60, check=False
    )


def test_listings_show_hostile_names_and_titles_inert(hostile_chat):
    url, _ = hostile_chat
    results = run_commands(
        url,
        ["chats", "list"],
        ["chats", "list", "--json"],
        ["models", "list"],
        ["models", "list", "--json"],
    )
    for code, stdout, stderr in results:
        assert code == 0, stderr
        assert not ACTIVE.search(stdout), stdout
    chats_table, chats_json, models_table, models_json = (r.stdout for r in results)
    assert "plans␛[2J<U+009B>31m" in chats_table and "evil␛]0;pwned␇" in chats_table
    assert "evil␛]0;pwned␇" in models_table
    # JSON escapes them instead, so a program reading it gets the stored text back exactly.
    assert json.loads(chats_json)[0]["title"] == TITLE
    assert json.loads(models_json)[0]["name"] == MODEL_NAME


@pytest.mark.parametrize("fmt", ["md", "json"])
def test_an_export_through_a_pipe_cannot_drive_the_terminal(hostile_chat, fmt):
    url, chat_id = hostile_chat
    result = _pipe(url, "chats", "export", chat_id[:8], "--format", fmt)
    assert result.returncode == 0, result.stderr
    output = result.stdout.decode()
    assert not ACTIVE.search(output)
    if fmt == "json":
        exported = json.loads(output)
        assert exported["chat"]["title"] == TITLE
        assert exported["messages"][1]["model_name"] == MODEL_NAME
        assert exported["messages"][1]["content"] == REPLY
    else:
        assert output.startswith("# plans␛[2J<U+009B>31m\n")
        assert "**assistant** (evil␛]0;pwned␇)" in output
        assert "here:␛]52;c;ZXZpbA==␇\tdone\nline two" in output  # tab and newline kept


@pytest.mark.parametrize("fmt", ["md", "json"])
def test_export_raw_writes_the_stored_bytes(hostile_chat, fmt):
    url, chat_id = hostile_chat
    result = _pipe(url, "chats", "export", chat_id, "--format", fmt, "--raw")
    assert result.returncode == 0, result.stderr
    output = result.stdout.decode()
    if fmt == "json":
        assert json.loads(output)["chat"]["title"] == TITLE
        assert CSI_C1 in output  # raw JSON escapes only what JSON must
    else:
        assert TITLE in output and MODEL_NAME in output and REPLY in output


# -- ask ---------------------------------------------------------------------------------------


@pytest.fixture
def ask_env(isolated_env: Path, fake_provider) -> dict[str, str]:
    environ = synergia_command_env()
    add_fake_model(environ, fake_provider.openai_base_url, api_model="m")
    return environ


def _ask(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(SYNERGIA), "ask", *argv],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        check=False,
    )


def test_ask_to_a_pipe_neutralizes_the_reply_unless_raw(ask_env, fake_provider):
    fake_provider.script = Script(chunks=["safe ", WRITE_CLIPBOARD, " ", SET_TITLE, "\x9b2J end"])
    piped = _ask(ask_env, "hi")
    assert piped.returncode == 0, piped.stderr
    assert not ACTIVE.search(piped.stdout.decode())
    assert piped.stdout.decode() == "safe ␛]52;c;ZXZpbA==␇ ␛]0;pwned␇<U+009B>2J end\n"

    raw = _ask(ask_env, "--raw", "hi")
    assert raw.returncode == 0, raw.stderr
    assert raw.stdout.decode() == f"safe {WRITE_CLIPBOARD} {SET_TITLE}\x9b2J end\n"


def test_a_provider_error_body_reaches_the_log_inert(ask_env, fake_provider, isolated_env):
    fake_provider.script = Script(status=500, error_message=f"boom{SET_TITLE}{CLEAR_SCREEN}")
    result = _ask(ask_env, "hi")
    assert result.returncode == 1
    assert not ACTIVE.search(result.stderr.decode())
    log = (isolated_env / "state" / "synergia" / "synergia.log").read_text(encoding="utf-8")
    assert "boom␛]0;pwned␇␛[2J" in log
    assert not ACTIVE.search(log.replace("\n", "").replace("\t", ""))


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """Logging configured as the app does, restored afterwards so pytest keeps its own."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    yield configure_logging("INFO", path=tmp_path / "synergia.log")
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in saved_handlers:
        root.addHandler(handler)
    root.setLevel(saved_level)


def test_the_log_makes_control_characters_visible_in_messages_and_tracebacks(log_file):
    log = logging.getLogger("synergia_tui.test")
    log.warning("title %s", TITLE)
    try:
        raise RuntimeError(f"body{SET_TITLE}")
    except RuntimeError:
        log.exception("failed")
    for handler in logging.getLogger().handlers:
        handler.flush()
    written = log_file.read_text(encoding="utf-8")
    assert "title plans␛[2J<U+009B>31m" in written
    assert "RuntimeError: body␛]0;pwned␇" in written
    assert not ACTIVE.search(written.replace("\n", "").replace("\t", ""))
