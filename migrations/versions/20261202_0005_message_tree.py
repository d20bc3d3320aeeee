"""messages form a tree: parent, current path, chosen branch

Each message gets the message it follows (``parent_id``) and whether it is on its chat's current
path (``on_path``); ``chosen_at`` remembers which branch was chosen last. Existing chats become
one path each: a prompt follows the message before it, and the replies to one prompt (a reply
regenerated with ctrl+r) become siblings under it, the newest on the path, as it was the one
sent on.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import synergia_tui.models.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2_000

_messages = sa.table(
    "messages",
    sa.column("id", sa.Uuid()),
    sa.column("chat_id", sa.Uuid()),
    sa.column("parent_id", sa.Uuid()),
    sa.column("role", sa.String()),
    sa.column("on_path", sa.Boolean()),
    sa.column("created_at", synergia_tui.models.types.UTCDateTime()),
)


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent_id", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column("on_path", sa.Boolean(), server_default=sa.text("true"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("chosen_at", synergia_tui.models.types.UTCDateTime(), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_messages_parent_id_messages"), "messages", ["parent_id"], ["id"]
        )
    _thread_existing_chats()
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_messages_children"),
            ["chat_id", "parent_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_messages_path",
            ["chat_id", "created_at", "id"],
            unique=False,
            sqlite_where=sa.text("on_path"),
            postgresql_where=sa.text("on_path"),
        )


def _thread_existing_chats() -> None:
    """Give every existing message its parent, chat by chat in reading order (streamed, and
    written in batches: a database of a million messages is threaded in one pass)."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(_messages.c.id, _messages.c.chat_id, _messages.c.role)
        .order_by(_messages.c.chat_id, _messages.c.created_at, _messages.c.id)
        .execution_options(stream_results=True, yield_per=BATCH)
    )
    update = (
        _messages.update()
        .where(_messages.c.id == sa.bindparam("message_id"))
        .values(parent_id=sa.bindparam("parent"), on_path=sa.bindparam("path"))
    )
    changes: list[dict[str, object]] = []
    chat = None
    tip = None  # the last message on the path so far: what a prompt follows
    prompt = None  # the prompt the replies that follow answer
    reply = None  # the newest reply to ``prompt`` so far
    for message_id, chat_id, role in rows:
        if chat_id != chat:
            if reply is not None:  # the last chat's newest reply
                changes.append({"message_id": reply, "parent": prompt, "path": True})
            chat, tip, prompt, reply = chat_id, None, None, None
        if role == "assistant" and prompt is not None:
            if reply is not None:  # an older answer to the same prompt: a sibling, off the path
                changes.append({"message_id": reply, "parent": prompt, "path": False})
            reply = message_id
            tip = message_id
            continue
        if reply is not None:
            changes.append({"message_id": reply, "parent": prompt, "path": True})
            reply = None
        if tip is not None:
            changes.append({"message_id": message_id, "parent": tip, "path": True})
        tip = message_id
        prompt = message_id if role == "user" else None
        if len(changes) >= BATCH:
            bind.execute(update, changes)
            changes = []
    if reply is not None:
        changes.append({"message_id": reply, "parent": prompt, "path": True})
    if changes:
        bind.execute(update, changes)


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_path")
        batch_op.drop_index(batch_op.f("ix_messages_children"))
        batch_op.drop_constraint(batch_op.f("fk_messages_parent_id_messages"), type_="foreignkey")
        batch_op.drop_column("chosen_at")
        batch_op.drop_column("on_path")
        batch_op.drop_column("parent_id")
