"""The server's roles for a shared PostgreSQL: who is a user of this database, and who an admin.

Roles belong to the server; membership of the two groups (``core/team.py``) is what makes a
login a user here. Names reach SQL as identifiers quoted by the dialect, never as text.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel import Session

from synergia_tui.core.team import ADMINS, MEMBERS


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    can_login: bool
    superuser: bool
    bypasses_rls: bool
    member: bool
    admin: bool

    @property
    def sees_everything(self) -> bool:
        """Row-level security does not hold this role (it would see every user's chats)."""
        return self.superuser or self.bypasses_rls


_ROLES = f"""
SELECT r.rolname AS name, r.rolcanlogin AS can_login, r.rolsuper AS superuser,
       r.rolbypassrls AS bypasses_rls,
       EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
               WHERE m.member = r.oid AND g.rolname = '{MEMBERS}') AS member,
       EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
               WHERE m.member = r.oid AND g.rolname = '{ADMINS}') AS admin
FROM pg_roles r
"""


class RoleRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _quoted(self, name: str) -> str:
        return self.session.get_bind().dialect.identifier_preparer.quote_identifier(name)

    def get(self, name: str) -> Role | None:
        row = self.session.execute(text(_ROLES + " WHERE r.rolname = :name"), {"name": name})
        found = row.mappings().first()
        return Role(**found) if found else None

    def users(self) -> list[Role]:
        """Every role in either group, by name."""
        rows = self.session.execute(
            text(
                f"SELECT * FROM ({_ROLES}) AS roles WHERE (member OR admin) "
                f"AND name NOT IN ('{MEMBERS}', '{ADMINS}') ORDER BY name"
            )
        )
        return [Role(**row) for row in rows.mappings()]

    def groups_exist(self) -> bool:
        count = self.session.execute(
            text("SELECT count(*) FROM pg_roles WHERE rolname IN (:members, :admins)"),
            {"members": MEMBERS, "admins": ADMINS},
        ).scalar_one()
        return int(count) == 2

    def create_login(self, name: str) -> None:
        self.session.execute(text(f"CREATE ROLE {self._quoted(name)} LOGIN"))

    def grant(self, name: str, *, admin: bool) -> None:
        groups = f"{MEMBERS}, {ADMINS}" if admin else MEMBERS
        self.session.execute(text(f"GRANT {groups} TO {self._quoted(name)}"))

    def revoke(self, name: str) -> None:
        self.session.execute(text(f"REVOKE {MEMBERS}, {ADMINS} FROM {self._quoted(name)}"))
