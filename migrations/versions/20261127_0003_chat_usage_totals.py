"""chat usage totals

Each chat keeps the tokens and cost of its replies, so showing them reads one row instead of
every message of the chat. Existing chats get the sums of what they hold (exact on both
backends: PostgreSQL adds numerics, SQLite's text costs are added in Python).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

import synergia_tui.models.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("prompt_tokens", sa.BigInteger(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "completion_tokens", sa.BigInteger(), server_default=sa.text("0"), nullable=False
            )
        )
        batch_op.add_column(
            sa.Column(
                "cost",
                synergia_tui.models.types.ExactDecimal(20, 12),
                server_default=sa.text("'0'"),
                nullable=False,
            )
        )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql(
            """
            UPDATE chats SET
                prompt_tokens = totals.prompt_tokens,
                completion_tokens = totals.completion_tokens,
                cost = totals.cost
            FROM (
                SELECT chat_id,
                       COALESCE(SUM(prompt_tokens), 0) AS prompt_tokens,
                       COALESCE(SUM(completion_tokens), 0) AS completion_tokens,
                       COALESCE(SUM(cost), 0) AS cost
                FROM messages WHERE NOT is_deleted GROUP BY chat_id
            ) AS totals
            WHERE chats.id = totals.chat_id
            """
        )
        return
    totals: dict[str, list] = defaultdict(lambda: [0, 0, Decimal(0)])
    rows = bind.exec_driver_sql(
        "SELECT chat_id, prompt_tokens, completion_tokens, cost FROM messages "
        "WHERE NOT is_deleted AND (prompt_tokens IS NOT NULL OR completion_tokens IS NOT NULL "
        "OR cost IS NOT NULL)"
    )
    for chat_id, prompt, completion, cost in rows:
        total = totals[chat_id]
        total[0] += prompt or 0
        total[1] += completion or 0
        total[2] += Decimal(cost) if cost is not None else 0
    for chat_id, (prompt, completion, cost) in totals.items():
        bind.exec_driver_sql(
            "UPDATE chats SET prompt_tokens = ?, completion_tokens = ?, cost = ? WHERE id = ?",
            (prompt, completion, format(cost, "f"), chat_id),
        )


def downgrade() -> None:
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.drop_column("cost")
        batch_op.drop_column("completion_tokens")
        batch_op.drop_column("prompt_tokens")
