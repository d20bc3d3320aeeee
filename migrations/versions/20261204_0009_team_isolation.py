"""one PostgreSQL for a team: row-level security on current_user

PostgreSQL only (SQLite is single-user and unchanged). See ``synergia_tui/core/team.py``.

- Two group roles, made here when the server has none yet (roles belong to the server, not to
  one database, so a downgrade leaves them): ``synergia_member`` and ``synergia_admin``, both
  NOLOGIN and without BYPASSRLS. Making them needs CREATEROLE: run ``synergia db upgrade`` as
  the database's owner (a superuser, or a role with CREATEROLE and BYPASSRLS), never as a user.
- The owner column of each user's rows defaults to ``current_user``.
- ``chats``, ``messages`` and ``prompts`` get row-level security, enabled and **forced** (so it
  holds for the table owner too), with one policy each: a row is yours when its owner (for a
  message: its chat's owner) is ``current_user``, for reading and for writing alike.
- Members may read and write those tables (rows filtered by the policies), read the catalogue
  and the schema revision; admins may also write the catalogue.

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
OWNED = {
    "chats": "user_id = current_user",
    "prompts": "user_id = current_user",
    # The chats visible here are already the user's own (their policy applies inside this one).
    "messages": "EXISTS (SELECT 1 FROM chats c WHERE c.id = messages.chat_id)",
}


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
    for table, owned in OWNED.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY {table}_owner ON {table} USING ({owned}) WITH CHECK ({owned})")
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {MEMBERS}")
    op.execute(f"GRANT SELECT ON models, alembic_version TO {MEMBERS}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON models TO {ADMINS}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute(f"REVOKE ALL ON models FROM {ADMINS}")
    op.execute(f"REVOKE ALL ON models, alembic_version FROM {MEMBERS}")
    for table in OWNED:
        op.execute(f"REVOKE ALL ON {table} FROM {MEMBERS}")
        op.execute(f"DROP POLICY {table}_owner ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE prompts ALTER COLUMN user_id DROP DEFAULT")
    op.execute("ALTER TABLE chats ALTER COLUMN user_id DROP DEFAULT")
