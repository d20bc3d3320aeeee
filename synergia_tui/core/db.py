"""Engine and session factories, tuned per backend."""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, create_engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from synergia_tui.core import paths
from synergia_tui.core.errors import StorageError

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5
SQLITE_CACHE_KIB = 512
SQLITE_BUSY_TIMEOUT_MS = 10_000
# Execution option that marks a unit of work as a writer: on SQLite it takes the write lock up
# front (BEGIN IMMEDIATE), so two processes queue on the busy timeout instead of failing with
# "database is locked" when a reader later tries to upgrade its lock.
WRITE_OPTION = "synergia_write"
# Engine option holding the path of an SQLite file that can only be read (see read_only_path).
READ_ONLY_OPTION = "synergia_read_only"

_NETWORK_FILESYSTEMS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "9p", "afs", "ceph"}


def backend_name(url: URL) -> str:
    """``sqlite`` or ``postgresql``."""
    return url.get_backend_name()


def create_db_engine(url: URL, *, connect_timeout: float = CONNECT_TIMEOUT_S) -> Engine:
    """An engine for ``url`` with the settings this backend needs."""
    if backend_name(url) == "sqlite":
        return _sqlite_engine(url)
    return create_engine(
        url,
        pool_pre_ping=True,  # a restarted server is reconnected instead of failing the next call
        pool_size=5,
        max_overflow=5,
        pool_timeout=connect_timeout,
        connect_args={"connect_timeout": max(1, int(connect_timeout))},
    )


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:")
    read_only = not in_memory and _cannot_write(Path(database))
    if not in_memory and not read_only:
        try:
            paths.private_file(Path(database))
        except OSError as exc:
            raise StorageError(
                f"Cannot create the database file {database}: {exc.strerror or exc}"
            ) from None
    wal = not in_memory and not read_only and not _on_network_filesystem(Path(database))
    timeout = SQLITE_BUSY_TIMEOUT_MS / 1000
    engine: Engine
    if read_only:
        uri = _read_only_uri(Path(database))
        engine = create_engine(
            url,
            creator=lambda: sqlite3.connect(
                uri, uri=True, check_same_thread=False, timeout=timeout
            ),
        )
        log.info("the database %s can only be read: opened read-only", database)
    else:
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": timeout})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see "begin" below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        # Each pooled connection keeps its own page cache (2 MiB by default). Reads go through
        # indexes and touch few pages, and the OS caches the file for all of them anyway.
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        if wal:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        writer = connection.get_execution_options().get(WRITE_OPTION, False)
        if writer and read_only:
            raise StorageError(read_only_message(database))
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    @event.listens_for(engine, "handle_error")
    def _on_error(context: Any) -> BaseException | None:
        # SQLITE_READONLY: the file, its folder or its filesystem refuses writes (made read-only
        # while we run, or a write that did not go through a writer unit of work).
        original = context.original_exception
        if isinstance(original, sqlite3.OperationalError) and "readonly" in str(original):
            return StorageError(read_only_message(database))
        return None

    # Marked after the listeners are in place, so every view of the engine shares them.
    return engine.execution_options(**{READ_ONLY_OPTION: database}) if read_only else engine


def read_only_message(database: str | Path) -> str:
    return f"the database is read-only: {database}"


def read_only_path(engine: Engine) -> str | None:
    """The SQLite file behind ``engine`` when it was opened read-only, else None."""
    path = engine.get_execution_options().get(READ_ONLY_OPTION)
    return str(path) if path else None


def require_writable(engine: Engine) -> None:
    """Refuse, before anything is attempted, to change a database that can only be read."""
    path = read_only_path(engine)
    if path is not None:
        raise StorageError(read_only_message(path))


def _cannot_write(path: Path) -> bool:
    """An existing database whose file or folder refuses writes (permissions, ``chattr +i``,
    a read-only mount): SQLite needs both, for the file and for its -wal, -shm and -journal."""
    if not path.is_file():
        return False
    return not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))


def _read_only_uri(path: Path) -> str:
    """Open read-only; ``immutable`` when the folder cannot hold the WAL's shared-memory file.

    An immutable open skips locking and never reads a -wal file, so it is used only when none
    exists: then the main file holds every committed change.
    """
    uri = path.resolve().as_uri() + "?mode=ro"
    siblings = [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]
    if not os.access(path.parent, os.W_OK) and not any(p.exists() for p in siblings):
        uri += "&immutable=1"
    return uri


def _on_network_filesystem(path: Path) -> bool:
    """WAL needs shared memory, which network filesystems do not provide reliably."""
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return False
    target = os.path.realpath(path.parent)
    best, fstype = "", ""
    for line in mounts:
        fields = line.split()
        if len(fields) >= 3 and (
            target == fields[1] or target.startswith(fields[1].rstrip("/") + "/")
        ):
            if len(fields[1]) > len(best):
                best, fstype = fields[1], fields[2]
    return fstype in _NETWORK_FILESYSTEMS


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for read-only units of work."""
    return sessionmaker(engine, class_=Session, expire_on_commit=False)


def create_writer_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for units of work that write."""
    return sessionmaker(
        engine.execution_options(**{WRITE_OPTION: True}), class_=Session, expire_on_commit=False
    )
