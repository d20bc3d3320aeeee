"""The users of a shared PostgreSQL: adding and removing them, and listing who they are.

Run by whoever keeps the server (a role that may create roles and grant the two groups of
``core/team.py``): a user is a login role in ``synergia_member``; an admin is also in
``synergia_admin``. What each may see is then up to the database (migration 0009).
"""

from __future__ import annotations

from dataclasses import dataclass

from synergia_tui.core.errors import ConfigError, NotFoundError, SchemaError, ValidationError
from synergia_tui.core.team import ADMINS, MEMBERS, valid_role_name
from synergia_tui.repositories import Role
from synergia_tui.services.unit_of_work import Database, UnitOfWork


@dataclass(frozen=True, slots=True)
class UserChange:
    """What ``add_user`` did: ``created`` the login role, and the user's role now."""

    user: Role
    created: bool
    was_member: bool
    was_admin: bool


class TeamService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _session(self, *, write: bool = False) -> UnitOfWork:
        if self.db.backend != "postgresql":
            raise ConfigError(
                "users are for a shared PostgreSQL database; the embedded SQLite database "
                "has one user (set SYNERGIA_DATABASE_URL or POSTGRES_SERVER)"
            )
        uow = self.db.unit_of_work(write=write)
        return uow

    def _require_groups(self, uow: UnitOfWork) -> None:
        if not uow.roles.groups_exist():
            raise SchemaError(
                f"the server has no {MEMBERS} / {ADMINS} roles yet: run `synergia db upgrade` "
                "first, as the database's owner"
            )

    def add_user(self, name: str, *, admin: bool = False) -> UserChange:
        """Make ``name`` a user (an admin too with ``admin``); creates the login role if the
        server has none of that name. Never takes the admin role away (``remove_user`` does)."""
        problem = valid_role_name(name)
        if problem:
            raise ValidationError(problem)
        with self._session(write=True) as uow:
            self._require_groups(uow)
            before = uow.roles.get(name)
            if before is None:
                uow.roles.create_login(name)
            uow.roles.grant(name, admin=admin)
            after = uow.roles.get(name)
            uow.commit()
        assert after is not None
        return UserChange(
            user=after,
            created=before is None,
            was_member=bool(before and before.member),
            was_admin=bool(before and before.admin),
        )

    def remove_user(self, name: str) -> Role:
        """Take ``name`` out of both groups. The login role and the user's rows stay: the
        rows are theirs again if they are added back."""
        with self._session(write=True) as uow:
            self._require_groups(uow)
            role = uow.roles.get(name)
            if role is None or not (role.member or role.admin):
                raise NotFoundError(f"{name!r} is not a user of this database")
            uow.roles.revoke(name)
            uow.commit()
        return role

    def users(self) -> list[Role]:
        with self._session() as uow:
            self._require_groups(uow)
            return uow.roles.users()
