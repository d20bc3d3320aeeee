"""`synergia --chat ID [--message ID]`: the real command in tmux opens a long chat where asked."""

from __future__ import annotations

import os
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from synergia_tui.bootstrap import build
from synergia_tui.core.config import Settings
from synergia_tui.models import Message
from tests.e2e.test_tmux import SYNERGIA, _tmux, _wait_for, env  # noqa: F401
from tests.support import one_path

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def long_chat(env):  # noqa: F811 - the fixture imported above
    """A chat of 3,000 messages in the e2e database; its id and its messages' ids."""
    database = Path(env["XDG_DATA_HOME"]) / "synergia" / "synergia.db"
    assert database.exists()
    url = URL.create("sqlite+pysqlite", database=str(database))
    container = build(
        Settings(
            synergia_database_url=url.render_as_string(hide_password=False), synergia_user="e2e"
        )
    )
    try:
        model = container.models.list_models()[0]
        chat = container.chats.create_chat(title="Very long chat", model_id=model.id)
        start = datetime(2025, 1, 1, tzinfo=UTC)
        rows = one_path(
            [
                Message(
                    chat_id=chat.id,
                    model_id=model.id,
                    role="user" if i % 2 == 0 else "assistant",
                    content=f"line number {i} of the long chat",
                    created_at=start + timedelta(seconds=i),
                )
                for i in range(3_000)
            ]
        )
        with container.db.unit_of_work(write=True) as uow:
            uow.session.add_all(rows)
            uow.commit()
        return chat.id, [row.id for row in rows]
    finally:
        container.close()


def _open(env, *args: str) -> str:  # noqa: F811
    name = f"synergia-open-{uuid.uuid4().hex[:8]}"
    flags = [item for key, value in env.items() for item in ("-e", f"{key}={value}")]
    _tmux("new-session", "-d", "-s", name, "-x", "100", "-y", "30", *flags, SYNERGIA, *args)
    return name


def _close(name: str) -> None:
    subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


def test_a_chat_opens_at_a_message_by_prefixes_of_their_ids(env, long_chat):  # noqa: F811
    chat_id, message_ids = long_chat
    name = _open(env, "--chat", chat_id.hex[:8], "--message", message_ids[1234].hex[:10])
    try:
        screen = _wait_for(name, "line number 1234 of the long chat")
        assert "Very long chat" in screen
        assert "line number 2999 " not in screen  # the view is at that message, not the newest
    finally:
        _close(name)


def test_a_chat_opens_at_its_newest_message_without_message(env, long_chat):  # noqa: F811
    chat_id, _ = long_chat
    name = _open(env, "--chat", str(chat_id)[:13])  # a prefix with its dash
    try:
        _wait_for(name, "line number 2999 of the long chat")
    finally:
        _close(name)


def test_an_unknown_chat_says_so_on_screen_and_the_app_stays(env, long_chat):  # noqa: F811
    name = _open(env, "--chat", "ffff0000")
    try:
        screen = _wait_for(name, "No chat id starts with ffff0000")
        assert "Very long chat" in screen  # the chat list is there, nothing lost
    finally:
        _close(name)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--chat", "xyz"], "'xyz' is not a chat id"),
        (["--message", "abcd1234"], "--message needs --chat"),
        (["--chat", "abcd1234", "chats", "list"], "give them without a command"),
        (["--chat", "abcd1234", "--message", "12"], "'12' is not a message id"),
    ],
)
def test_bad_ids_are_one_line_and_exit_2_before_the_tui(env, args, says):  # noqa: F811
    done = subprocess.run(
        [SYNERGIA, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2, done
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and says in done.stderr, done.stderr
