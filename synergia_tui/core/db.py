"""Engine and session factories, tuned per backend."""

from __future__ import annotations

import logging
import os
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
    if not in_memory:
        try:
            paths.private_file(Path(database))
        except OSError as exc:
            raise StorageError(
                f"Cannot create the database file {database}: {exc.strerror or exc}"
            ) from None
    wal = not in_memory and not _on_network_filesystem(Path(database))
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )

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
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine


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
