"""Alembic, driven from code: where the schema is, where it should be, and moving it there.

Finding out where the schema stands (at every start and health check) needs no Alembic: the
revision ids are read from the migration files and from ``alembic_version`` with plain SQL.
Alembic itself (about 14 MiB and a noticeable import) loads only to actually migrate.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import SQLAlchemyError

from synergia_tui.core import paths
from synergia_tui.core.clock import utcnow
from synergia_tui.core.errors import (
    MigrationError,
    SchemaError,
    StorageError,
    driver_reason,
    is_permission_denied,
    permission_denied,
    storage_error,
)

# Re-exported: where the revisions are read lives apart, free of SQLAlchemy (start-up fast path).
from synergia_tui.core.revisions import head_revision as head_revision
from synergia_tui.core.revisions import known_revisions as known_revisions

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)


def alembic_config(url: URL | None = None) -> Config:
    """An Alembic config for the bundled migrations; ``url`` reaches env.py without string escaping."""
    from alembic.config import Config

    config = Config(str(paths.resource("alembic.ini")))
    config.set_main_option("script_location", str(paths.resource("migrations")))
    if url is not None:
        config.attributes["url"] = url
    return config


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with database_errors(engine.url), engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
        return next(iter(sorted(rows)), None)


@contextmanager
def database_errors(url: URL) -> Iterator[None]:
    """Driver errors leave as the StorageError that says what failed and how to fix it."""
    try:
        yield
    except (SQLAlchemyError, sqlite3.Error) as exc:
        if is_permission_denied(exc):
            # A user's role on a database not opened to it (no 0009 yet, or no db add-user).
            denied = permission_denied(exc, url.username)
            raise SchemaError(denied.message) from exc
        raise storage_error(exc, url) from exc


@dataclass(frozen=True, slots=True)
class SchemaState:
    """Where the database schema stands against the code."""

    current: str | None
    head: str | None
    known: bool

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    @property
    def ahead(self) -> bool:
        return self.current is not None and not self.known


def schema_state(engine: Engine) -> SchemaState:
    current = current_revision(engine)
    known = current is None or current in known_revisions()
    return SchemaState(current=current, head=head_revision(), known=known)


def _private_sqlite_file(url: URL) -> None:
    # Alembic's own engine would create a missing SQLite file with the umask's mode (or fail on a
    # missing directory); create it 0600 in a 0700 directory first, as the app's engine does.
    database = url.database or ""
    if url.get_backend_name() == "sqlite" and database not in ("", ":memory:"):
        try:
            paths.private_file(Path(database))
        except OSError as exc:
            raise StorageError(
                f"Cannot create the database file {database}: {exc.strerror or exc}"
            ) from None


def upgrade(url: URL, revision: str = "head") -> None:
    """Migrate up to ``revision``; a failure is a MigrationError naming the migration."""
    from alembic import command

    _private_sqlite_file(url)
    _migrate(command.upgrade, url, revision)


def downgrade(url: URL, revision: str) -> None:
    """Migrate down to ``revision``; a failure is a MigrationError naming the migration."""
    from alembic import command

    _private_sqlite_file(url)
    _migrate(command.downgrade, url, revision)


def _migrate(step: Callable[[Config, str], None], url: URL, revision: str) -> None:
    from alembic.util.exc import CommandError

    try:
        step(alembic_config(url), revision)
    except CommandError as exc:  # an unknown revision, a broken history
        raise SchemaError(f"cannot migrate to {revision}: {driver_reason(exc)}") from None
    except Exception as exc:  # noqa: BLE001 - only those raised inside a migration are ours
        failed = _failing_revision(exc.__traceback__)
        if failed is None:
            if isinstance(exc, SQLAlchemyError | sqlite3.Error):
                # Not inside a migration: the database itself failed (e.g. it is down).
                raise storage_error(exc, url) from exc
            raise
        # A script's own check (or bug) fails the migration like the database refusing it.
        # Its transaction was rolled back: the database is at the revision before it.
        reason = driver_reason(exc)
        if is_permission_denied(exc):
            reason += " (the database's owner migrates it, not a user's role)"
        log.error("migration %s failed: %s", failed, reason, exc_info=True)
        raise MigrationError(f"migration {failed} failed: {reason}", revision=failed) from exc


def _failing_revision(tb: TracebackType | None) -> str | None:
    """The revision whose migration script the traceback went through (the innermost one)."""
    versions = str(paths.resource("migrations") / "versions")
    found = None
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_filename.startswith(versions):
            revision = frame.f_globals.get("revision")
            if isinstance(revision, str):
                found = revision
        tb = tb.tb_next
    return found


def ahead_message(state: SchemaState) -> str:
    return (
        f"The database schema is at revision {state.current}, which this version of Synergia "
        f"(head {state.head}) does not know: it was migrated by a newer Synergia. "
        "Upgrade Synergia; the database was left untouched."
    )


def ensure_schema(engine: Engine, *, auto_upgrade: bool) -> SchemaState:
    """Make sure the schema is usable.

    The embedded SQLite database (``auto_upgrade``) is upgraded by itself, after a backup when it
    already holds data. A server database is never migrated silently: a schema behind the code is
    reported with the command that fixes it. A schema newer than the code is always refused.
    """
    state = schema_state(engine)
    if state.ahead:
        raise SchemaError(ahead_message(state))
    if state.up_to_date:
        return state
    if not auto_upgrade:
        where = "empty" if state.current is None else f"at revision {state.current}"
        raise SchemaError(
            f"The database schema is {where}, behind this version of Synergia ({state.head}). "
            "Run `synergia db upgrade` to migrate it."
        )
    backup = None
    if state.current is not None and engine.url.get_backend_name() == "sqlite":
        backup = backup_sqlite(engine.url, state.current)
        log.info("backed up the database to %s before migrating", backup)
    try:
        upgrade(engine.url)
    except MigrationError as exc:
        if backup is None:
            raise
        raise MigrationError(
            f"{exc.message}; the database as it was is saved in {backup}", revision=exc.revision
        ) from exc
    return schema_state(engine)


def backup_sqlite(url: URL, revision: str) -> Path:
    """Copy a SQLite database (consistently, through SQLite's backup API) next to itself."""
    source = Path(url.database or "")
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    target = source.with_name(f"{source.name}.{revision}.{stamp}.bak")
    paths.private_file(target)
    with database_errors(url), sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    target.chmod(0o600)
    return target


def remove_sqlite_files(path: Path) -> None:
    """Delete a SQLite database with its -wal and -shm files."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        candidate = path.with_name(path.name + suffix)
        if candidate.exists():
            candidate.unlink()
