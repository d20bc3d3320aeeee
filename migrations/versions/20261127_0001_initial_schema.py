"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import synergia_tui.models.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "models",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("api_model", sa.String(length=200), nullable=False),
        sa.Column("base_url", sa.String(length=500), nullable=True),
        sa.Column("api_key_env", sa.String(length=200), nullable=True),
        sa.Column(
            "price_per_million_tokens",
            synergia_tui.models.types.ExactDecimal(14, 6),
            nullable=False,
        ),
        sa.Column(
            "output_price_per_million_tokens",
            synergia_tui.models.types.ExactDecimal(14, 6),
            nullable=True,
        ),
        sa.Column("context_window", sa.Integer(), nullable=True),
        sa.Column("is_enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("is_deleted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", synergia_tui.models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", synergia_tui.models.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "provider IN ('openai', 'anthropic', 'ollama')", name=op.f("ck_models_known_provider")
        ),
        sa.CheckConstraint(
            "CAST(price_per_million_tokens AS REAL) >= 0", name=op.f("ck_models_price_not_negative")
        ),
        sa.CheckConstraint(
            "output_price_per_million_tokens IS NULL OR CAST(output_price_per_million_tokens AS REAL) >= 0",
            name=op.f("ck_models_output_price_not_negative"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_models")),
    )
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.create_index(
            "uq_models_name_live",
            ["name"],
            unique=True,
            sqlite_where=sa.text("is_deleted = false"),
            postgresql_where=sa.text("is_deleted = false"),
        )

    op.create_table(
        "chats",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("model_id", sa.Uuid(), nullable=True),
        sa.Column("system_prompt", sa.Text(), nullable=True),
        sa.Column("is_deleted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", synergia_tui.models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", synergia_tui.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["models.id"], name=op.f("fk_chats_model_id_models")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chats")),
    )
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.create_index(
            "ix_chats_user_recent", ["user_id", "is_deleted", "updated_at"], unique=False
        )

    op.create_table(
        "messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("chat_id", sa.Uuid(), nullable=False),
        sa.Column("model_id", sa.Uuid(), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        sa.Column("cost", synergia_tui.models.types.ExactDecimal(20, 12), nullable=True),
        sa.Column("created_at", synergia_tui.models.types.UTCDateTime(), nullable=False),
        sa.Column("is_deleted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.CheckConstraint(
            "role IN ('system', 'user', 'assistant')", name=op.f("ck_messages_known_role")
        ),
        sa.CheckConstraint(
            "status IN ('complete', 'streaming', 'cancelled', 'error')",
            name=op.f("ck_messages_known_status"),
        ),
        sa.ForeignKeyConstraint(["chat_id"], ["chats.id"], name=op.f("fk_messages_chat_id_chats")),
        sa.ForeignKeyConstraint(
            ["model_id"], ["models.id"], name=op.f("fk_messages_model_id_models")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_messages_chat_created", ["chat_id", "created_at", "id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_chat_created")

    op.drop_table("messages")
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.drop_index("ix_chats_user_recent")

    op.drop_table("chats")
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_models_name_live",
            sqlite_where=sa.text("is_deleted = false"),
            postgresql_where=sa.text("is_deleted = false"),
        )

    op.drop_table("models")
