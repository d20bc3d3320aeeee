"""index messages by time, for PostgreSQL's search windows

PostgreSQL ranks a search's matches a window of recent messages at a time (see
``synergia_tui/repositories/search_postgres.py``): the windows are ranges of ``created_at``,
cut and read through this index. SQLite cuts its windows by rowid in the FTS5 index and needs
nothing. Like 0007's indexes, it is named ``*_search`` and left out of ``alembic check``
(``migrations/env.py``): it belongs to the search, not to the models.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.create_index("ix_messages_created_at_search", "messages", ["created_at"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_index("ix_messages_created_at_search", table_name="messages")
