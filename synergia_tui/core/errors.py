"""The typed errors every layer raises; each carries a message fit to show a user."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from synergia_tui.core.logging import redact, redaction_filter

if TYPE_CHECKING:
    from sqlalchemy.engine import URL


class SynergiaError(Exception):
    """Base of every error Synergia shows to a user; ``str(error)`` is the message."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(SynergiaError):
    """A setting has a value Synergia cannot use."""

    exit_code = 2


class NotFoundError(SynergiaError):
    """The thing asked for does not exist (or is deleted, or belongs to someone else)."""


class ConflictError(SynergiaError):
    """The change clashes with what is stored, e.g. a duplicate model name."""


class ValidationError(SynergiaError):
    """The input breaks a business rule (empty prompt, negative price, ...)."""


class StorageError(SynergiaError):
    """The database could not be reached or refused the work."""


class PermissionDeniedError(SynergiaError):
    """The database refused the user something their role may not do (PostgreSQL's 42501)."""


class SchemaError(StorageError):
    """The database schema is not the revision this version of Synergia expects."""


class ProviderError(SynergiaError):
    """An AI provider failed to answer."""

    retryable = False
    """Whether asking again, after a pause, may well succeed (busy or unreachable provider)."""


class ProviderAuthError(ProviderError):
    """The provider refused the API key (HTTP 401/403) or no key was found."""


class ProviderRateLimitedError(ProviderError):
    """The provider asked us to slow down (HTTP 429)."""

    retryable = True

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ProviderUnavailableError(ProviderError):
    """The provider could not be reached, timed out, or failed on its side (5xx)."""

    retryable = True


class ProviderBadResponseError(ProviderError):
    """The provider answered with something we cannot use (404 model, garbage, error event)."""


class MigrationError(SchemaError):
    """A migration failed; ``revision`` names it (None when it cannot be told)."""

    def __init__(self, message: str, revision: str | None = None) -> None:
        super().__init__(message)
        self.revision = revision


# -- driver failures as typed errors -------------------------------------------------------

# What psycopg says when it never got a session: the server is down, unreachable or unnamed.
_UNREACHABLE = (
    "connection failed",
    "connection to server",
    "could not translate host name",
    "failed to resolve host",
    "connection is bad",
    "invalid port",
    "could not connect",
    "timeout expired",
    "connection refused",
    "no route to host",
    "network is unreachable",
    "the database system is starting up",
    "the database system is shutting down",
)
# What it says when a session it had was cut (a restart, a crash, a pulled cable).
_LOST = ("server closed the connection unexpectedly", "terminating connection", "consuming input")
_LOGIN = ("password authentication failed", "no password supplied", "authentication failed")
_NO_DATABASE = re.compile(r'database "[^"]*" does not exist')
_NO_ROLE = re.compile(r'role "[^"]*" does not exist')

SECRET_MIN = 4
"""Shorter registered secrets are left to the patterns: masking every "b" garbles the reason."""
UNAVAILABLE = "Database unavailable: "
"""How every storage error made from a driver error starts."""


PERMISSION_DENIED = "42501"
"""PostgreSQL's SQLSTATE for a privilege the role does not have."""


def is_permission_denied(exc: BaseException) -> bool:
    """``exc`` (a driver or SQLAlchemy error) is the server refusing a privilege."""
    original = getattr(exc, "orig", None) or exc
    return getattr(original, "sqlstate", None) == PERMISSION_DENIED


def permission_denied(exc: BaseException, user: str | None) -> PermissionDeniedError:
    """The one line for a privilege refused to ``user``: the catalogue is kept by admins, the
    schema by the database's owner, a user's tables are opened to them by ``db add-user``."""
    reason = driver_reason(exc)
    who = user or "this role"
    if "table models" in reason:
        return PermissionDeniedError(
            f"only admins change the model catalogue, and {who} is not one "
            f"(the server's owner runs `synergia db add-user {who} --admin`)"
        )
    if "role" in reason:  # "permission denied to create role", "must have admin option on role"
        return PermissionDeniedError(
            f"{who} may not manage users: {reason} (the server's owner, or a role with "
            "CREATEROLE, runs `synergia db add-user`)"
        )
    if "schema" in reason:
        return PermissionDeniedError(
            f"{who} may not change the database schema: {reason} "
            "(the database's owner runs `synergia db upgrade`)"
        )
    return PermissionDeniedError(
        f"{who} may not use this database: {reason} (its owner runs `synergia db upgrade`, "
        f"then `synergia db add-user {who}`)"
    )


def driver_reason(exc: BaseException, secrets: Iterable[str] | None = None) -> str:
    """The driver's own one-line reason for ``exc``, secret-free and without SQLAlchemy's links.

    ``secrets`` defaults to those the settings registered (the password, API keys).
    """
    if secrets is None:
        secrets = [s for s in redaction_filter().secrets if len(s) >= SECRET_MIN]
    original = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(original).strip().splitlines() if line.strip()]
    reason = lines[0] if lines else type(original).__name__
    reason = re.sub(r"\s*\(Background on this error at: [^)]*\)", "", reason)
    return redact(reason, secrets)[:300]


def _server_reason(reason: str) -> str:
    # 'connection failed: connection to server at "h", port 1 failed: Connection refused'
    # says the same thing three times; the part after the last "failed:" is the news.
    tail = reason.rsplit("failed: ", 1)[-1]
    return re.sub(r"^(?:FATAL|ERROR):\s+", "", tail).strip() or reason


def storage_error(exc: BaseException, url: URL | None = None) -> StorageError:
    """``exc`` (a driver or SQLAlchemy error) as the StorageError a user can act on.

    The message names what failed and, where there is one, the fix: the settings to check for a
    server that cannot be reached or refuses the login, the path of an SQLite file that is not a
    database. Passwords never appear in it.
    """
    return StorageError(UNAVAILABLE + explain_database_error(exc, url))


def explain_database_error(exc: BaseException, url: URL | None) -> str:
    """The one-line reason for ``exc`` that names the fix (without storage_error's prefix)."""
    return _explain(driver_reason(exc), url)


def postgres_unreachable(where: str, reason: str) -> str:
    """The line for a PostgreSQL server that does not answer at ``where`` (host:port).

    Every command, the health check and the TUI say it in these words, with the settings that
    point Synergia at the server.
    """
    return (
        f"cannot connect to PostgreSQL at {where}: {reason} (check POSTGRES_SERVER / POSTGRES_PORT)"
    )


def _explain(reason: str, url: URL | None) -> str:
    lowered = reason.lower()
    backend = url.get_backend_name() if url is not None else ""
    if backend == "sqlite" and url is not None:
        path = url.database or ":memory:"
        if "file is not a database" in lowered:
            return f"the file is not an SQLite database: {path}"
        if "malformed" in lowered:
            return f"the SQLite database is damaged (truncated or corrupt): {path} ({reason})"
        if "unable to open database file" in lowered:
            return f"cannot open the SQLite database {path}: {reason}"
        return f"SQLite database {path}: {reason}"
    if backend == "postgresql" and url is not None:
        where = f"{url.host or 'localhost'}:{url.port or 5432}"
        said = _server_reason(reason)
        if any(marker in lowered for marker in _LOGIN) or _NO_ROLE.search(reason):
            who = url.username or "the OS user"
            return (
                f"PostgreSQL at {where} refused the login as {who}: {said} "
                "(check POSTGRES_USER / POSTGRES_PASSWORD)"
            )
        if _NO_DATABASE.search(reason):
            return (
                f"PostgreSQL at {where} has no database {url.database}: {said} (check POSTGRES_DB)"
            )
        if any(marker in lowered for marker in _LOST):
            return f"lost the connection to PostgreSQL at {where}: {said}"
        if any(marker in lowered for marker in _UNREACHABLE):
            return postgres_unreachable(where, said)
    return reason
