"""live sync between sessions: notifications of changed chats, on a channel only their owner knows

PostgreSQL only (SQLite sessions notice each other by ``PRAGMA data_version``).

Every listener can hear every channel it names, so a channel must not be guessable: each user's
is a random name in ``sync_channels``, a table held by row-level security like the user's other
rows (a user reads only their own). A session makes its row the first time it listens.

After every statement that changes ``chats`` or ``messages``, a trigger sends each changed chat's
id, and nothing else, on its owner's channel (when that owner listens at all): the receiving
session reads what changed itself, under the same policies. The trigger runs as the writer, who
can only write their own rows, and so only ever reads their own channel. Statement triggers with
transition tables: a statement that writes many rows (an import) sends one notification a chat.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MEMBERS = "synergia_member"
_NOTIFY = """
CREATE FUNCTION synergia_notify_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(s.channel, changed.chat::text)
    FROM (SELECT DISTINCT user_id, {chat} AS chat FROM changed) AS changed
    JOIN sync_channels s ON s.user_id = changed.user_id;
    RETURN NULL;
END $$
"""
TABLES = {"chats": "id", "messages": "chat_id"}
EVENTS = {"INSERT": "NEW", "UPDATE": "NEW", "DELETE": "OLD"}


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute(
        "CREATE TABLE sync_channels ("
        " user_id varchar(200) PRIMARY KEY DEFAULT current_user,"
        " channel text NOT NULL UNIQUE"
        "  DEFAULT 'synergia_' || replace(gen_random_uuid()::text, '-', ''))"
    )
    op.execute("ALTER TABLE sync_channels ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE sync_channels FORCE ROW LEVEL SECURITY")
    owned = "user_id = current_user"
    op.execute(
        f"CREATE POLICY sync_channels_owner ON sync_channels USING ({owned}) WITH CHECK ({owned})"
    )
    op.execute(f"GRANT SELECT, INSERT ON sync_channels TO {MEMBERS}")
    for table, chat in TABLES.items():
        op.execute(_NOTIFY.format(table=table, chat=chat))
        for event, rows in EVENTS.items():
            op.execute(
                f"CREATE TRIGGER {table}_notify_{event.lower()} AFTER {event} ON {table} "
                f"REFERENCING {rows} TABLE AS changed FOR EACH STATEMENT "
                f"EXECUTE FUNCTION synergia_notify_{table}()"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table in TABLES:
        for event in EVENTS:
            op.execute(f"DROP TRIGGER {table}_notify_{event.lower()} ON {table}")
        op.execute(f"DROP FUNCTION synergia_notify_{table}()")
    op.execute("DROP TABLE sync_channels")
