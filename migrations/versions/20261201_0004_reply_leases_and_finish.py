"""reply leases, finish reasons, estimated tokens, output caps

A ``streaming`` reply now carries a lease (its owner process and until when the claim holds), so
a start-up marks only replies whose owner is gone as interrupted. Replies keep the provider's
finish reason (a reply cut at the token limit is stored as ``cut``, not ``complete``) and say when token counts were
estimated. Models get an optional cap on a reply's length.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import synergia_tui.models.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "tokens_estimated", sa.Boolean(), server_default=sa.text("false"), nullable=False
            )
        )
        batch_op.add_column(sa.Column("finish_reason", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("lease_expires_at", synergia_tui.models.types.UTCDateTime(), nullable=True)
        )
        # A reply cut at the output token limit is stored as ``cut``, not ``complete``.
        batch_op.drop_constraint("known_status", type_="check")
        batch_op.create_check_constraint(
            "known_status", "status IN ('complete', 'cut', 'streaming', 'cancelled', 'error')"
        )
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.add_column(sa.Column("max_output_tokens", sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            "max_output_tokens_positive", "max_output_tokens IS NULL OR max_output_tokens > 0"
        )
    # Replies left streaming by an older version have no owner: the next start treats them as
    # interrupted, as that version did.


def downgrade() -> None:
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.drop_constraint("max_output_tokens_positive", type_="check")
        batch_op.drop_column("max_output_tokens")
    op.execute("UPDATE messages SET status = 'complete' WHERE status = 'cut'")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_constraint("known_status", type_="check")
        batch_op.create_check_constraint(
            "known_status", "status IN ('complete', 'streaming', 'cancelled', 'error')"
        )
        batch_op.drop_column("lease_expires_at")
        batch_op.drop_column("lease_owner")
        batch_op.drop_column("finish_reason")
        batch_op.drop_column("tokens_estimated")
