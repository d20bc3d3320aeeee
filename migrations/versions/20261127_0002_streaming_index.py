"""index the replies still streaming

Start-up looks for replies a crash left ``streaming``. Without an index that is a scan of every
message ever stored; this partial index holds only the (few, usually no) streaming rows.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STREAMING = sa.text("status = 'streaming'")


def upgrade() -> None:
    op.create_index(
        "ix_messages_streaming",
        "messages",
        ["status"],
        unique=False,
        sqlite_where=STREAMING,
        postgresql_where=STREAMING,
    )


def downgrade() -> None:
    op.drop_index("ix_messages_streaming", table_name="messages")
