"""A shared PostgreSQL: who may connect, and what the database lets each of them see.

Each person connects as their own login role. Two group roles, made by migration 0009, say what
a login may do: every user is a member of ``MEMBERS``; the people who keep the model catalogue
are also in ``ADMINS``. Neither group can log in or bypass row-level security.

Row-level security does the rest, on the server: every table a user owns rows of (``USER_TABLES``)
has it enabled and forced, with a policy on ``current_user``; the catalogue is readable by every
member and writable by admins alone (plain grants). Nothing the client sets, ``SYNERGIA_USER``
included, widens what a session sees. SQLite stays single-user.
"""

from __future__ import annotations

MEMBERS = "synergia_member"
ADMINS = "synergia_admin"

USER_TABLES = ("chats", "messages", "prompts", "sync_channels")
"""Tables whose rows belong to one user: row-level security, enabled and forced (see 0009).
A later table that holds a user's rows is added here, and to a migration's policies."""

SHARED_TABLES = ("models", "alembic_version")
"""Tables every member reads: the catalogue and the schema revision."""

ROLE_NAME_MAX = 63
"""PostgreSQL's identifier limit (NAMEDATALEN - 1)."""


def valid_role_name(name: str) -> str | None:
    """Why ``name`` cannot be a user's role, or None when it can.

    A user's name is also the owner of their rows (``chats.user_id``), so it is kept to what
    needs no quoting anywhere: lower-case letters, digits and ``_``, starting with a letter.
    """
    if not name:
        return "a user name cannot be empty"
    if len(name) > ROLE_NAME_MAX:
        return f"a user name is at most {ROLE_NAME_MAX} characters"
    if not (name[0].isascii() and name[0].islower() and name[0].isalpha()):
        return "a user name starts with a lower-case letter (a-z)"
    if not all(c.isascii() and (c.islower() or c.isdigit() or c == "_") for c in name):
        return "a user name holds only a-z, 0-9 and _"
    if name.startswith("pg_") or name in (MEMBERS, ADMINS):
        return f"{name!r} is reserved"
    return None
