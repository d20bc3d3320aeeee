"""The sidebar's first page, read with the standard library's sqlite3 before SQLAlchemy loads.

At start-up the chat list would otherwise wait for SQLAlchemy, SQLModel, pydantic-settings and the
services to import (most of a second). For the embedded SQLite database this reads the newest
chats' titles directly, with the query ``ChatRepository.page`` runs, so the list is on screen
while the stack loads; the normal path then replaces the page with its own (the same rows, unless
the database changed meanwhile). Nothing is cached and nothing is written: the file is opened
read-only (never created), and a database that is missing, not at this version's schema revision, or
unreadable in any way gives None, and the normal path opens it and says what is wrong.
``tests/test_first_page.py`` holds this read to the repository's.
"""

from __future__ import annotations

import logging
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from synergia_tui.core.revisions import head_revision

log = logging.getLogger(__name__)

BUSY_TIMEOUT_S = 0.2
"""A writer holding the file (rollback-journal mode) is not waited for: the normal path will."""

_FIRST_PAGE = (
    "SELECT id, title, updated_at FROM chats "
    "WHERE user_id = ? AND is_deleted IS 0 "
    "ORDER BY updated_at DESC, id DESC LIMIT ?"
)


@dataclass(frozen=True, slots=True)
class ChatTitle:
    """What the sidebar shows of a chat before the services are up."""

    id: uuid.UUID
    title: str
    updated_at: datetime


def read_first_page(path: Path, user: str, limit: int) -> list[ChatTitle] | None:
    """``user``'s ``limit`` newest live chats in the SQLite file at ``path``, newest activity
    first; None when the file is missing, its schema is not at head, or it cannot be read."""
    if not path.is_file():
        return None
    try:
        connection = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S
        )
    except sqlite3.Error as exc:
        log.debug("first page not read from %s: %s", path, exc)
        return None
    try:
        connection.isolation_level = None  # explicit BEGIN: both reads see one snapshot
        connection.execute("BEGIN")
        versions = [row[0] for row in connection.execute("SELECT version_num FROM alembic_version")]
        if versions != [head_revision()]:
            return None  # empty, behind or ahead: the normal path migrates or refuses, and says so
        rows = connection.execute(_FIRST_PAGE, (user, limit)).fetchall()
        connection.execute("COMMIT")
        return [
            ChatTitle(uuid.UUID(hex=chat_id), title, _utc(updated_at))
            for chat_id, title, updated_at in rows
        ]
    except (sqlite3.Error, ValueError, TypeError) as exc:  # locked, corrupt, or not our format
        log.debug("first page not read from %s: %s", path, exc)
        return None
    finally:
        connection.close()


def _utc(stored: str) -> datetime:
    """A timestamp as ``UTCDateTime`` stores it on SQLite: naive UTC text."""
    value = datetime.fromisoformat(stored)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
