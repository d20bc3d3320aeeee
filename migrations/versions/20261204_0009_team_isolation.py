"""one PostgreSQL for a team: row-level security on current_user

PostgreSQL only (SQLite is single-user and unchanged). See ``synergia_tui/core/team.py``.

- Two group roles, made here when the server has none yet (roles belong to the server, not to
  one database, so a downgrade leaves them): ``synergia_member`` and ``synergia_admin``, both
  NOLOGIN and without BYPASSRLS. Making them needs CREATEROLE: run ``synergia db upgrade`` as
  the database's owner (a superuser, or a role with CREATEROLE and BYPASSRLS), never as a user.
- The owner column of each user's rows defaults to ``current_user``. A message gets one too
  (``messages.user_id``, PostgreSQL only, like the ``search`` columns, and left out of
  ``alembic check``): a trigger copies it from the message's chat as the writer sees that chat,
  so a policy on a message is one comparison instead of a look-up of its chat for every row.
- ``chats``, ``messages`` and ``prompts`` get row-level security, enabled and **forced** (so it
  holds for the table owner too), with one policy each: a row is yours when its owner is
  ``current_user``, for reading and for writing alike. A message written into a chat the writer
  cannot see gets no owner, and the policy refuses it.
- Members may read and write those tables (rows filtered by the policies), read the catalogue
  and the schema revision; admins may also write the catalogue.
- The search's ``@@`` (``ts_match_vq``) is marked LEAKPROOF in this database when a superuser
  migrates it. PostgreSQL lets only leakproof operators reach an index ahead of a policy, so
  without it a member's search reads every one of their messages instead of the GIN index. It
  is leakproof in fact: it reads its two arguments and answers true or false, and the only
  errors it can raise come from the query, which is the caller's own. (``pg_proc`` belongs to
  the database, so no other database on the server is touched.)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MEMBERS = "synergia_member"
ADMINS = "synergia_admin"
OWNED = ("chats", "messages", "prompts")
_MESSAGE_OWNER = """
CREATE FUNCTION synergia_message_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- As the writer sees the chat: one that is not theirs gives no owner (and the policy
    -- refuses the row).
    NEW.user_id := (SELECT c.user_id FROM chats c WHERE c.id = NEW.chat_id);
    RETURN NEW;
END $$
"""
_LEAKPROOF = """
DO $$ BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) LEAKPROOF;
    ELSE
        RAISE WARNING 'synergia: not a superuser, so ts_match_vq stays not leakproof and a '
            'member''s search cannot use the search index (slower, still correct)';
    END IF;
END $$
"""


def _on_database(statement: str) -> str:
    """``statement`` with ``%I`` the name of the database being migrated."""
    return f"DO $$ BEGIN EXECUTE format('{statement}', current_database()); END $$"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for role in (MEMBERS, ADMINS):
        op.execute(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') "
            f"THEN CREATE ROLE {role} NOLOGIN NOBYPASSRLS; END IF; END $$"
        )
    op.execute("ALTER TABLE chats ALTER COLUMN user_id SET DEFAULT current_user")
    op.execute("ALTER TABLE prompts ALTER COLUMN user_id SET DEFAULT current_user")
    op.execute("ALTER TABLE messages ADD COLUMN user_id varchar(200)")
    op.execute("UPDATE messages m SET user_id = c.user_id FROM chats c WHERE c.id = m.chat_id")
    op.execute(_MESSAGE_OWNER)
    op.execute(
        "CREATE TRIGGER messages_owner BEFORE INSERT OR UPDATE OF chat_id ON messages "
        "FOR EACH ROW EXECUTE FUNCTION synergia_message_owner()"
    )
    for table in OWNED:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        owned = "user_id = current_user"
        op.execute(f"CREATE POLICY {table}_owner ON {table} USING ({owned}) WITH CHECK ({owned})")
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {MEMBERS}")
    op.execute(f"GRANT SELECT ON models, alembic_version TO {MEMBERS}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON models TO {ADMINS}")
    op.execute(_on_database(f"GRANT CONNECT ON DATABASE %I TO {MEMBERS}"))
    op.execute(_LEAKPROOF)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    # ts_match_vq keeps its LEAKPROOF mark: another database object may rely on it by now.
    op.execute(_on_database(f"REVOKE CONNECT ON DATABASE %I FROM {MEMBERS}"))
    op.execute(f"REVOKE ALL ON models FROM {ADMINS}")
    op.execute(f"REVOKE ALL ON models, alembic_version FROM {MEMBERS}")
    for table in OWNED:
        op.execute(f"REVOKE ALL ON {table} FROM {MEMBERS}")
        op.execute(f"DROP POLICY {table}_owner ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute("DROP TRIGGER messages_owner ON messages")
    op.execute("DROP FUNCTION synergia_message_owner()")
    op.execute("ALTER TABLE messages DROP COLUMN user_id")
    op.execute("ALTER TABLE prompts ALTER COLUMN user_id DROP DEFAULT")
    op.execute("ALTER TABLE chats ALTER COLUMN user_id DROP DEFAULT")
