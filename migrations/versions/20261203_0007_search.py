"""full-text search over messages and chat titles

SQLite: two FTS5 external-content tables (``messages_fts`` over ``messages.content``,
``chats_fts`` over ``chats.title``), keyed by the tables' rowids and kept in step by triggers;
``unicode61`` with diacritics removed, prefix indexes for 2 and 3 characters. The text is not
copied: snippets are read from the tables themselves.

PostgreSQL: a stored generated ``tsvector`` column on each table (the ``simple`` configuration,
so code, names and any language match as written; a message's first ``INDEXED_CHARS``
characters) with a GIN index. Nothing to keep in step.

A later migration that rebuilds ``messages`` or ``chats`` on SQLite (Alembic's batch mode copies
the table) drops these triggers and renumbers rowids: it must create them again and ``rebuild``
the index (``tests/test_search.py`` checks the index is whole at head).

Both backfill what is there as the migration runs (FTS5 ``rebuild``; PostgreSQL computes the
generated column as it adds it).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TOKENIZE = "unicode61 remove_diacritics 2"
INDEXED_CHARS = 100_000
"""PostgreSQL indexes a message's first 100,000 characters: a ``tsvector`` holds at most 1 MB,
and a reply of a megabyte of distinct words would not be stored at all."""


def _sqlite_index(name: str, table: str, column: str) -> list[str]:
    """An external-content FTS5 index of ``table.column`` and the triggers that keep it."""
    return [
        f"CREATE VIRTUAL TABLE {name} USING fts5({column}, content='{table}', "
        f"content_rowid='rowid', tokenize='{_TOKENIZE}', prefix='2 3')",
        f"CREATE TRIGGER {name}_ai AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {name}(rowid, {column}) VALUES (new.rowid, new.{column}); END",
        f"CREATE TRIGGER {name}_ad AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {name}({name}, rowid, {column}) VALUES ('delete', old.rowid, old.{column}); "
        "END",
        f"CREATE TRIGGER {name}_au AFTER UPDATE OF {column} ON {table} BEGIN "
        f"INSERT INTO {name}({name}, rowid, {column}) VALUES ('delete', old.rowid, old.{column}); "
        f"INSERT INTO {name}(rowid, {column}) VALUES (new.rowid, new.{column}); END",
        f"INSERT INTO {name}({name}) VALUES ('rebuild')",
    ]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in [
            *_sqlite_index("messages_fts", "messages", "content"),
            *_sqlite_index("chats_fts", "chats", "title"),
        ]:
            op.execute(statement)
        return
    for table, column in (("messages", "content"), ("chats", "title")):
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN search tsvector "
            f"GENERATED ALWAYS AS (to_tsvector('simple', left(coalesce({column}, ''), {INDEXED_CHARS})))"
            " STORED"
        )
        op.execute(f"CREATE INDEX ix_{table}_search ON {table} USING gin (search)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("messages_fts", "chats_fts"):
            for suffix in ("ai", "ad", "au"):
                op.execute(f"DROP TRIGGER IF EXISTS {name}_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS {name}")
        return
    for table in ("messages", "chats"):
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_search")
        op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS search")
