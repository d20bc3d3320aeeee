"""The embedded SQLite database: private files, and several processes writing at once."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from synergia_tui.bootstrap import build
from synergia_tui.core.config import Settings
from tests.conftest import settings_for
from tests.support import add_model, synergia_env, url_text

WRITER = """
import os, sys, time
from pathlib import Path
from sqlalchemy.engine import make_url
from synergia_tui.bootstrap import build
from synergia_tui.core.config import Settings

container = build(Settings(synergia_database_url=os.environ["SYNERGIA_DATABASE_URL"]))
model = container.models.list_models()[0]
chat = container.chats.create_chat(title=sys.argv[1], model_id=model.id)
go = Path(sys.argv[2])
deadline = time.monotonic() + 30
while not go.exists() and time.monotonic() < deadline:
    time.sleep(0.005)
for n in range(200):
    container.messages.add_user_message(chat.id, f"{sys.argv[1]} message {n}")
    container.chats.list_chats(limit=5)
print(chat.id)
"""


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_the_default_database_and_its_wal_files_are_private(isolated_env, umask_022):
    container = build(Settings(synergia_user="alice"))
    container.ensure_schema()
    add_model(container)  # a write, so the -wal and -shm files exist
    path = container.settings.sqlite_path
    assert path == isolated_env / "data" / "synergia" / "synergia.db"
    try:
        assert _mode(path.parent) == 0o700
        files = [path, path.with_name("synergia.db-wal"), path.with_name("synergia.db-shm")]
        for file in files:
            assert file.exists(), file
            assert _mode(file) == 0o600, file
    finally:
        container.close()


def test_two_processes_writing_at_once_never_see_database_is_locked(tmp_path):
    url = URL.create("sqlite+pysqlite", database=str(tmp_path / "shared" / "synergia.db"))
    container = build(settings_for(url))
    container.ensure_schema()
    add_model(container)
    go = tmp_path / "go"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, name, str(go)],
            env=synergia_env(SYNERGIA_DATABASE_URL=url_text(url), SYNERGIA_USER="alice"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("first", "second")
    ]
    # Both have started (and created their chat) before either writes its messages.
    deadline = time.monotonic() + 60
    while len(container.chats.list_chats().chats) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    go.touch()
    outputs = [w.communicate(timeout=120) for w in writers]
    for writer, (_, stderr) in zip(writers, outputs, strict=True):
        assert "database is locked" not in stderr
        assert writer.returncode == 0, stderr
    for chat in container.chats.list_chats().chats:
        page = container.messages.list_messages(chat.id, limit=500)
        assert len(page.messages) == 200
        assert page.messages[-1].content == f"{chat.title} message 199"
    container.close()
