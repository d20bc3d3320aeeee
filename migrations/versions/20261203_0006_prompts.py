"""system-prompt presets

Named system prompts, one set per user (``prompts``), kept in the database so they follow the
user from host to host on a shared server. A chat copies a preset's text into its own
``system_prompt``; nothing refers to a preset, so removing one is a real delete.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import synergia_tui.models.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "prompts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", synergia_tui.models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", synergia_tui.models.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompts")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_prompts_user_id_name")),
    )


def downgrade() -> None:
    op.drop_table("prompts")
