"""The start-up first page (stdlib sqlite3) reads exactly what ``ChatService.list_chats`` reads,
and gives up, reading nothing and writing nothing, whenever the database is not ready for it."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL

from synergia_tui.bootstrap import Container, build
from synergia_tui.core import migrations
from synergia_tui.core.config import Settings
from synergia_tui.core.first_page import read_first_page

USER = "alice"


def _container(path: Path, user: str = USER) -> Container:
    url = URL.create("sqlite+pysqlite", database=str(path))
    return build(Settings(synergia_database_url=url.render_as_string(), synergia_user=user))


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """A migrated SQLite file holding alice's chats (some deleted, some tied in time) and bob's."""
    path = tmp_path / "synergia.db"
    alice, bob = _container(path), _container(path, "bob")
    try:
        alice.ensure_schema()
        titles = [f"Chat {i:03d}" for i in range(60)] + ["naïve ☃ 'quotes' [b]x[/b]"]
        chats = [alice.chats.create_chat(title=title) for title in titles]
        for doomed in chats[5:8]:
            alice.chats.delete_chat(doomed.id)
        bob.chats.create_chat(title="Bob's secret")
        tied = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
        with alice.db.engine.begin() as connection:
            # Equal activity times: the id breaks the tie, on both paths alike.
            for chat in chats[10:14]:
                connection.execute(
                    text("UPDATE chats SET updated_at = :at WHERE id = :id"),
                    {"at": tied.replace(tzinfo=None).isoformat(" "), "id": chat.id.hex},
                )
            connection.execute(
                text("UPDATE chats SET updated_at = :at WHERE id = :id"),
                {"at": (tied - timedelta(days=900)).isoformat(" ")[:19], "id": chats[20].id.hex},
            )
    finally:
        alice.close()
        bob.close()
    return path


def _normal_page(path: Path, limit: int) -> list[tuple]:
    container = _container(path)
    try:
        page = container.chats.list_chats(limit=limit)
    finally:
        container.close()
    return [(c.id, c.title, c.updated_at) for c in page.chats]


@pytest.mark.parametrize("limit", [1, 8, 50])
def test_the_first_page_is_the_services_first_page(database, limit):
    first = read_first_page(database, USER, limit)
    assert first is not None
    assert [(c.id, c.title, c.updated_at) for c in first] == _normal_page(database, limit)
    assert all(c.updated_at.tzinfo is UTC for c in first)


def test_only_the_users_own_live_chats_are_read(database):
    titles = [c.title for c in read_first_page(database, USER, 100) or []]
    assert len(titles) == 61 - 3
    assert "Bob's secret" not in titles
    assert {"Chat 005", "Chat 006", "Chat 007"}.isdisjoint(titles)
    assert [c.title for c in read_first_page(database, "bob", 100) or []] == ["Bob's secret"]
    assert read_first_page(database, "nobody", 100) == []


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_nothing_is_written(database):
    before = _digest(database)
    assert read_first_page(database, USER, 50)
    assert _digest(database) == before


def test_a_missing_file_is_not_created(tmp_path):
    path = tmp_path / "nowhere" / "synergia.db"
    assert read_first_page(path, USER, 50) is None
    assert not path.exists() and not path.parent.exists()


def test_a_schema_behind_the_code_is_left_to_the_normal_path(tmp_path):
    path = tmp_path / "old.db"
    url = URL.create("sqlite+pysqlite", database=str(path))
    previous = sorted(migrations.known_revisions())[-2]
    migrations.upgrade(url, previous)
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO chats (id, user_id, title, is_deleted, created_at, updated_at) "
            "VALUES ('0123456789abcdef0123456789abcdef', ?, 'Old chat', 0, "
            "'2025-01-01 00:00:00.000000', '2025-01-01 00:00:00.000000')",
            (USER,),
        )
    assert read_first_page(path, USER, 50) is None


def test_a_schema_ahead_of_the_code_is_left_to_the_normal_path(database):
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_newer'")
    assert read_first_page(database, USER, 50) is None


@pytest.mark.parametrize(
    "content",
    [b"", b"this is not a database at all" * 100, b"SQLite format 3\x00" + b"\xff" * 4000],
    ids=["empty file", "not a database", "corrupt header"],
)
def test_an_empty_or_broken_file_is_left_to_the_normal_path(tmp_path, content):
    path = tmp_path / "broken.db"
    path.write_bytes(content)
    assert read_first_page(path, USER, 50) is None
    assert path.read_bytes() == content


def test_a_schema_without_the_chats_table_is_left_to_the_normal_path(tmp_path):
    path = tmp_path / "odd.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32))")
        connection.execute("INSERT INTO alembic_version VALUES (?)", (migrations.head_revision(),))
    assert read_first_page(path, USER, 50) is None


def test_a_database_locked_by_a_writer_is_not_waited_for(tmp_path):
    path = tmp_path / "locked.db"
    container = _container(path)
    container.ensure_schema()
    container.close()
    with sqlite3.connect(path, isolation_level=None) as writer:
        writer.execute("PRAGMA journal_mode = DELETE")
        writer.execute("BEGIN EXCLUSIVE")
        started = datetime.now(UTC)
        assert read_first_page(path, USER, 50) is None
        assert datetime.now(UTC) - started < timedelta(seconds=2)
        writer.execute("ROLLBACK")
