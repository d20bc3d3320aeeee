"""Files and folders as the real `synergia` meets them: modes it may change, read-only databases."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from synergia_tui.bootstrap import build
from synergia_tui.core import migrations
from synergia_tui.core.db import require_writable
from synergia_tui.core.errors import StorageError
from tests.conftest import settings_for
from tests.support import add_model, run_steps, run_synergia


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_folder(tmp_path: Path) -> Path:
    """A folder of the user's own, open to everyone (0755), that Synergia did not create."""
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o755)
    return folder


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


# -- modes ---------------------------------------------------------------------------------


def test_a_database_in_an_existing_folder_leaves_that_folders_mode_alone(open_folder, umask_022):
    database = open_folder / "x.db"
    result = run_synergia("models", "list", SYNERGIA_SQLITE_PATH=str(database))
    assert (result.returncode, result.stderr) == (0, "")
    assert _mode(open_folder) == 0o755
    assert _mode(database) == 0o600


def test_a_rejected_database_path_leaves_its_folder_alone(open_folder, umask_022):
    (open_folder / "x.db").mkdir(mode=0o755)  # a folder where the database file should be
    result = run_synergia("models", "list", SYNERGIA_SQLITE_PATH=str(open_folder / "x.db"))
    assert result.returncode == 1
    assert result.stderr.startswith("synergia: Cannot create the database file")
    assert len(result.stderr.splitlines()) == 1
    assert _mode(open_folder) == 0o755
    assert _mode(open_folder / "x.db") == 0o755


def test_folders_synergia_creates_for_the_database_are_private(open_folder, umask_022):
    database = open_folder / "new" / "deeper" / "x.db"
    result = run_synergia("models", "list", SYNERGIA_SQLITE_PATH=str(database))
    assert (result.returncode, result.stderr) == (0, "")
    assert _mode(open_folder) == 0o755
    assert _mode(open_folder / "new") == 0o700
    assert _mode(open_folder / "new" / "deeper") == 0o700
    assert _mode(database) == 0o600


def test_an_existing_database_file_keeps_its_mode(open_folder, umask_022):
    database = open_folder / "x.db"
    assert run_synergia("db", "upgrade", SYNERGIA_SQLITE_PATH=str(database)).returncode == 0
    database.chmod(0o640)  # the owner shares it with a group, on purpose
    result = run_synergia("models", "list", SYNERGIA_SQLITE_PATH=str(database))
    assert (result.returncode, result.stderr) == (0, "")
    assert _mode(database) == 0o640


# -- read-only databases -------------------------------------------------------------------

HEAD = migrations.head_revision()


def _filled_database(path: Path) -> str:
    """A database at head with a model and a chat of two messages; returns the chat id."""
    container = build(settings_for(URL.create("sqlite+pysqlite", database=str(path))))
    try:
        container.ensure_schema()
        model = add_model(container, "gpt")
        chat = container.chats.create_chat(model_id=model.id)
        container.messages.add_user_message(chat.id, "what is a read-only mount?")
        reply = container.messages.start_reply(chat.id, model.id)
        container.messages.finish_reply(reply.id, content="one you cannot write to")
    finally:
        container.close()
    return str(chat.id)


@contextlib.contextmanager
def read_only_mount(folder: Path) -> Iterator[None]:
    """``folder`` mounted read-only over itself: what even root cannot write to."""
    if os.geteuid() != 0:
        pytest.skip("a read-only bind mount needs root")
    mounted = subprocess.run(
        ["mount", "--bind", "-o", "ro", str(folder), str(folder)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot bind-mount here: {mounted.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def _everything_in(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def _commands(database: Path, *argvs: list[str]):  # type: ignore[no-untyped-def]
    env: dict[str, str | None] = {"SYNERGIA_SQLITE_PATH": str(database), "SYNERGIA_USER": "alice"}
    return run_steps([(argv, env, database.parent.parent) for argv in argvs])


def test_a_read_only_database_folder_serves_every_command_that_reads(tmp_path):
    database = tmp_path / "ro" / "synergia.db"
    chat_id = _filled_database(database)
    with read_only_mount(database.parent):
        chats, chats_json, export, models, health, current = _commands(
            database,
            ["chats", "list"],
            ["chats", "list", "--json"],
            ["chats", "export", chat_id, "--format", "json"],
            ["models", "list", "--json"],
            ["health", "--json"],
            ["db", "current"],
        )
        for result in (chats, chats_json, export, models, health, current):
            assert (result.returncode, result.stderr) == (0, ""), result
        assert chat_id in chats.stdout
        assert [chat["id"] for chat in json.loads(chats_json.stdout)] == [chat_id]
        exported = json.loads(export.stdout)
        assert [m["content"] for m in exported["messages"]] == [
            "what is a read-only mount?",
            "one you cannot write to",
        ]
        assert [m["name"] for m in json.loads(models.stdout)] == ["gpt"]
        assert json.loads(health.stdout)["status"] == "healthy"
        assert current.stdout.strip() == f"{HEAD} (head)"
        # The real console script too, not only main().
        listed = run_synergia("chats", "list", SYNERGIA_SQLITE_PATH=str(database))
        assert (listed.returncode, listed.stderr) == (0, "")


def test_commands_that_write_to_a_read_only_database_say_so_in_one_line(tmp_path):
    database = tmp_path / "ro" / "synergia.db"
    chat_id = _filled_database(database)
    with read_only_mount(database.parent):
        before = _everything_in(database.parent)
        results = _commands(
            database,
            ["models", "add", "new", "--provider", "openai", "--model", "gpt-4o-mini"],
            ["models", "disable", "gpt"],
            ["ask", "--model", "gpt", "--chat", chat_id, "hello"],
        )
        for result in results:
            assert result.returncode == 1, result
            assert result.stderr == f"synergia: the database is read-only: {database}\n"
        assert _everything_in(database.parent) == before
    (models,) = _commands(database, ["models", "list", "--json"])
    assert [(m["name"], m["is_enabled"]) for m in json.loads(models.stdout)] == [("gpt", True)]


def test_a_read_only_database_behind_the_code_is_refused_without_migrating(tmp_path):
    database = tmp_path / "ro" / "synergia.db"
    _filled_database(database)
    previous = sorted(migrations.known_revisions())[-2]
    migrations.downgrade(URL.create("sqlite+pysqlite", database=str(database)), previous)
    with read_only_mount(database.parent):
        before = _everything_in(database.parent)
        listed, current = _commands(database, ["chats", "list"], ["db", "current"])
        assert listed.returncode == 1
        assert listed.stderr.startswith(f"synergia: the database is read-only: {database}; ")
        assert f"at revision {previous}" in listed.stderr and "db upgrade" in listed.stderr
        assert len(listed.stderr.splitlines()) == 1
        assert (current.returncode, current.stdout.strip()) == (0, f"{previous} (head is {HEAD})")
        assert _everything_in(database.parent) == before


def test_an_immutable_database_file_is_read_but_not_written(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("chattr +i needs root")
    database = tmp_path / "immutable" / "synergia.db"
    _filled_database(database)
    if subprocess.run(["chattr", "+i", str(database)], check=False).returncode != 0:
        pytest.skip("this filesystem has no immutable attribute")
    try:
        listed, refused = _commands(
            database,
            ["models", "list", "--json"],
            ["models", "add", "new", "--provider", "openai", "--model", "gpt-4o-mini"],
        )
        # What `db upgrade` can ask before Alembic opens the file for writing.
        container = build(settings_for(URL.create("sqlite+pysqlite", database=str(database))))
        try:
            with pytest.raises(StorageError, match="the database is read-only"):
                require_writable(container.db.engine)
        finally:
            container.close()
    finally:
        subprocess.run(["chattr", "-i", str(database)], check=True)
    assert (listed.returncode, listed.stderr) == (0, "")
    assert [m["name"] for m in json.loads(listed.stdout)] == ["gpt"]
    assert (refused.returncode, refused.stderr) == (
        1,
        f"synergia: the database is read-only: {database}\n",
    )


def test_db_upgrade_of_a_read_only_database_says_so_in_one_line(tmp_path):
    database = tmp_path / "ro" / "synergia.db"
    _filled_database(database)
    with read_only_mount(database.parent):
        upgrade, reset = _commands(database, ["db", "upgrade"], ["db", "reset", "--yes"])
    for result in (upgrade, reset):
        assert (result.returncode, result.stderr) == (
            1,
            f"synergia: the database is read-only: {database}\n",
        )
