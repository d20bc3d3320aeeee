"""The live-sync watcher on its own: what it reports when another session commits.

SQLite reports "something changed" (None), from a file whose path needs quoting in a URI;
PostgreSQL reports the ids of the chats that changed, and only the user's own.
"""

from __future__ import annotations

import queue
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from synergia_tui.bootstrap import build
from synergia_tui.core.config import Settings
from synergia_tui.services.live_sync import LiveSync
from tests.conftest import settings_for

WAIT_S = 10.0


class Heard:
    def __init__(self) -> None:
        self.changes: queue.Queue[frozenset[uuid.UUID] | None] = queue.Queue()
        self.up = threading.Event()

    def state(self, up: bool) -> None:
        if up:
            self.up.set()

    def next(self) -> frozenset[uuid.UUID] | None:
        return self.changes.get(timeout=WAIT_S)


def _watch(url: URL) -> tuple[LiveSync, Heard]:
    heard = Heard()
    watcher = LiveSync(url, heard.changes.put, heard.state)
    watcher.start()
    assert heard.up.wait(WAIT_S), "the watcher never came up"
    return watcher, heard


def test_sqlite_reports_another_connections_commit_at_an_awkward_path(tmp_path: Path):
    path = tmp_path / "odd dir #1?x" / "synergia.db"
    container = build(Settings(synergia_sqlite_path=path, synergia_user="a"))
    container.ensure_schema()
    assert path.exists()
    watcher, heard = _watch(container.settings.database_url)
    try:
        assert heard.changes.empty()
        container.chats.create_chat(title="new")
        assert heard.next() is None  # SQLite cannot say which chat
    finally:
        watcher.stop()
        container.close()


@pytest.mark.parametrize("backend", ["postgresql"])
def test_postgresql_reports_the_changed_chats_of_this_user_only(db_url):
    alice, bob = build(settings_for(db_url)), build(settings_for(db_url, "bob"))
    watcher, heard = _watch(alice.settings.database_url)
    try:
        bob.chats.create_chat(title="bob's")  # another user: nothing for alice
        mine = alice.chats.create_chat(title="mine")
        assert heard.next() == frozenset({mine.id})
        alice.chats.rename_chat(mine.id, "renamed")
        assert heard.next() == frozenset({mine.id})
        assert heard.changes.empty()
    finally:
        watcher.stop()
        alice.close()
        bob.close()
