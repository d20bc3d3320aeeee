"""At start-up the newest chats are on screen before the database stack loads (read with the
standard library), and the stack, once up, shows exactly the same; a database the fast path
cannot vouch for is left to the normal path, which says what is wrong."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import URL

from synergia_tui.bootstrap import Container
from synergia_tui.core import migrations
from synergia_tui.core.config import Settings
from synergia_tui.core.first_page import ChatTitle
from synergia_tui.ui.app import SynergiaApp
from synergia_tui.ui.launch import first_page_reader
from tests.ui.conftest import TEST_VERSION, clock_after, screen_text, settle

SIZE = (100, 30)


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set it to let the database stack load (until then the app shows only the first page)."""
    event = threading.Event()
    yield event
    event.set()


def _app(
    settings: Settings,
    read: Callable[[int], list[ChatTitle] | None],
    release: threading.Event | None = None,
    **kwargs: Any,
) -> SynergiaApp:
    def load() -> Settings:
        if release is not None:
            release.wait(30)
        return settings

    kwargs.setdefault("clock", lambda: datetime(2030, 1, 1, tzinfo=UTC))
    return SynergiaApp(
        settings_loader=load,
        first_page=read,
        version=TEST_VERSION,
        health_interval=None,
        **kwargs,
    )


def _recording(read: Callable[[int], list[ChatTitle] | None], into: list[Any]):
    def recorded(limit: int) -> list[ChatTitle] | None:
        into.append(result := read(limit))
        return result

    return recorded


async def _until(pilot: Any, condition: Callable[[], bool], what: str) -> None:
    for _ in range(400):
        if condition():
            return
        await pilot.pause(0.025)
    raise AssertionError(f"timed out waiting for {what}")


def _sidebar_text(app: SynergiaApp) -> list[str]:
    region = app.main_screen.sidebar.region
    lines = screen_text(app).splitlines()[region.y : region.bottom]
    return [line[region.x : region.right] for line in lines]


def _database(container: Container) -> Path:
    return Path(container.settings.database_url.database or "")


async def test_the_newest_chats_show_before_the_stack_and_the_stack_shows_the_same(
    ui_container, release
):
    for i in range(70):
        ui_container.chats.create_chat(title=f"Chat number {i:02d}")
    expected = [c.title for c in ui_container.chats.list_chats(limit=50).chats]
    read = first_page_reader(_database(ui_container), "alice")
    app = _app(ui_container.settings, read, release, clock=clock_after(ui_container))
    async with app.run_test(size=SIZE) as pilot:
        sidebar = app.main_screen.sidebar
        await _until(pilot, lambda: sidebar.chat_list.option_count > 0, "the first page")
        await pilot.pause()
        assert app.services is None  # shown by the fast path: the stack is not even loaded
        assert sidebar.chat_list.option_count == 50
        early = _sidebar_text(app)
        assert "Chat number 69" in "\n".join(early)

        release.set()
        await _until(pilot, lambda: bool(sidebar.chats), "the services' first page")
        await settle(pilot)
        assert [c.title for c in sidebar.chats] == expected
        assert _sidebar_text(app) == early  # the hand-over changes nothing on screen
        assert sidebar.has_more  # and paging goes on from the services' page


async def test_a_chat_picked_in_the_first_page_opens_once_the_stack_is_up(ui_container, release):
    older = ui_container.chats.create_chat(title="Older chat")
    ui_container.chats.create_chat(title="Newest chat")
    read = first_page_reader(_database(ui_container), "alice")
    app = _app(ui_container.settings, read, release, clock=clock_after(ui_container))
    async with app.run_test(size=SIZE) as pilot:
        sidebar = app.main_screen.sidebar
        await _until(pilot, lambda: sidebar.chat_list.option_count == 2, "the first page")
        sidebar.chat_list.focus()
        sidebar.chat_list.highlighted = 1  # "Older chat"
        await pilot.press("enter")
        await pilot.pause()
        assert app.main_screen.current_chat is None  # nothing can open yet

        release.set()
        await _until(pilot, lambda: app.main_screen.current_chat is not None, "the chat to open")
        await settle(pilot)
        assert app.main_screen.current_chat.id == older.id
        assert sidebar.highlighted_chat is not None and sidebar.highlighted_chat.id == older.id


def _old_schema_database(path: Path) -> Settings:
    """A SQLite file one migration behind, holding one chat of alice's."""
    url = URL.create("sqlite+pysqlite", database=str(path))
    migrations.upgrade(url, sorted(migrations.known_revisions())[-2])
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO chats (id, user_id, title, is_deleted, created_at, updated_at) "
            "VALUES (?, 'alice', 'Old schema chat', 0, "
            "'2025-01-01 00:00:00.000000', '2025-01-01 00:00:00.000000')",
            (uuid.uuid4().hex,),
        )
    return Settings(synergia_database_url=url.render_as_string(), synergia_user="alice")


async def test_a_pending_migration_skips_the_fast_path_and_the_migrated_list_shows(
    tmp_path, release
):
    path = tmp_path / "old.db"
    settings = _old_schema_database(path)
    reads: list[Any] = []
    app = _app(settings, _recording(first_page_reader(path, "alice"), reads), release)
    async with app.run_test(size=SIZE) as pilot:
        await _until(pilot, lambda: bool(reads), "the fast path to try")
        await pilot.pause()
        assert reads == [None]
        assert app.main_screen.sidebar.chat_list.option_count == 0
        assert "Old schema chat" not in screen_text(app)

        release.set()
        await _until(pilot, lambda: app.services is not None, "the stack")
        await settle(pilot)
        assert "Old schema chat" in screen_text(app)  # upgraded (the embedded file)
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (migrations.head_revision(),)
        ]


async def test_a_schema_newer_than_the_code_shows_no_chats_and_says_why(tmp_path):
    path = tmp_path / "newer.db"
    url = URL.create("sqlite+pysqlite", database=str(path))
    migrations.upgrade(url)
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_newer'")
    settings = Settings(synergia_database_url=url.render_as_string(), synergia_user="alice")
    reads: list[Any] = []
    app = _app(settings, _recording(first_page_reader(path, "alice"), reads))
    async with app.run_test(size=SIZE) as pilot:
        await _until(pilot, lambda: app.main_screen.column.unavailable is not None, "refusal")
        await settle(pilot)
        assert reads == [None]
        assert app.main_screen.sidebar.chat_list.option_count == 0
        assert "Upgrade Synergia" in " ".join(screen_text(app).split())


async def test_a_first_page_is_taken_away_when_the_database_turns_out_unusable(tmp_path):
    path = tmp_path / "newer.db"
    url = URL.create("sqlite+pysqlite", database=str(path))
    migrations.upgrade(url)
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_newer'")
    settings = Settings(synergia_database_url=url.render_as_string(), synergia_user="alice")
    shown = [ChatTitle(uuid.uuid4(), "Read just before", datetime(2029, 12, 31, tzinfo=UTC))]
    app = _app(settings, lambda _limit: shown)
    async with app.run_test(size=SIZE) as pilot:
        await _until(pilot, lambda: app.main_screen.column.unavailable is not None, "refusal")
        await settle(pilot)
        assert app.main_screen.sidebar.chat_list.option_count == 0
        assert "Read just before" not in screen_text(app)
