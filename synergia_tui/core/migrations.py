"""Alembic, driven from code: where the schema is, where it should be, and moving it there."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError  # re-exported for the CLI
from sqlalchemy.engine import URL, Engine

from synergia_tui.core import paths
from synergia_tui.core.clock import utcnow
from synergia_tui.core.errors import SchemaError, StorageError

log = logging.getLogger(__name__)


def alembic_config(url: URL | None = None) -> Config:
    """An Alembic config for the bundled migrations; ``url`` reaches env.py without string escaping."""
    config = Config(str(paths.resource("alembic.ini")))
    config.set_main_option("script_location", str(paths.resource("migrations")))
    if url is not None:
        config.attributes["url"] = url
    return config


def head_revision() -> str | None:
    """The newest revision this version of Synergia knows."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


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
    script = ScriptDirectory.from_config(alembic_config())
    known = True
    if current is not None:
        try:
            known = script.get_revision(current) is not None
        except CommandError:
            known = False
    return SchemaState(current=current, head=script.get_current_head(), known=known)


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
    _private_sqlite_file(url)
    command.upgrade(alembic_config(url), revision)


def downgrade(url: URL, revision: str) -> None:
    _private_sqlite_file(url)
    command.downgrade(alembic_config(url), revision)


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
    if state.current is not None and engine.url.get_backend_name() == "sqlite":
        backup = backup_sqlite(engine.url, state.current)
        log.info("backed up the database to %s before migrating", backup)
    upgrade(engine.url)
    return schema_state(engine)


def backup_sqlite(url: URL, revision: str) -> Path:
    """Copy a SQLite database (consistently, through SQLite's backup API) next to itself."""
    source = Path(url.database or "")
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    target = source.with_name(f"{source.name}.{revision}.{stamp}.bak")
    paths.private_file(target)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    target.chmod(0o600)
    return target


def remove_sqlite_files(path: Path) -> None:
    """Delete a SQLite database with its -wal and -shm files."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        candidate = path.with_name(path.name + suffix)
        if candidate.exists():
            candidate.unlink()
