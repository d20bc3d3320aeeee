"""Throwaway databases: a SQLite file in a temporary directory, or a fresh PostgreSQL database."""

from __future__ import annotations

import contextlib
import secrets
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import OperationalError

from synergia_tui.bootstrap import Container, build
from synergia_tui.core import migrations
from synergia_tui.core.config import Settings, parse_database_url
from synergia_tui.core.team import ADMINS, MEMBERS

BENCH_USER = "bench"


@dataclass
class BenchDatabase:
    """A migrated database that exists for one benchmark and is dropped afterwards."""

    backend: str
    url: URL
    owner_url: URL | None = None
    """PostgreSQL: the database as its owner (the server's superuser), for what only the owner
    may do (indexes, VACUUM). ``url`` logs in as the member role ``bench``, held by row-level
    security like every user (so the figures are a user's)."""

    @property
    def url_text(self) -> str:
        return self.url.render_as_string(hide_password=False)

    def container(self) -> Container:
        """Synergia's own services over this database, for the bench user."""
        settings = Settings(synergia_database_url=self.url_text, synergia_user=BENCH_USER)
        return build(settings)

    def env(self) -> dict[str, str]:
        """Environment variables that point the real ``synergia`` command at this database."""
        return {"SYNERGIA_DATABASE_URL": self.url_text, "SYNERGIA_USER": BENCH_USER}


@contextlib.contextmanager
def sqlite_database(directory: Path | None = None) -> Iterator[BenchDatabase]:
    """A migrated SQLite file, deleted on exit."""
    with tempfile.TemporaryDirectory(prefix="synergia-bench-", dir=directory) as tmp:
        url = URL.create("sqlite+pysqlite", database=str(Path(tmp) / "bench.db"))
        migrations.upgrade(url)
        yield BenchDatabase("sqlite", url)


@contextlib.contextmanager
def postgres_database(server_url: str) -> Iterator[BenchDatabase]:
    """A fresh, migrated database on the PostgreSQL server at ``server_url``; dropped on exit."""
    server = parse_database_url(server_url)
    name = f"synergia_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(
        server.set(database="postgres"),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 5},
    )
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = server.set(database=name)
        try:
            migrations.upgrade(url)
            member = _bench_member(admin)
            yield BenchDatabase(
                "postgresql", url.set(username=BENCH_USER, password=member), owner_url=url
            )
        finally:
            _drop(admin, name)
    finally:
        admin.dispose()


def _bench_member(admin: Engine) -> str:
    """Make the login role ``bench`` a member and admin (migration 0009's groups) with a fresh
    password, which it returns: the benchmarks run as a user, not as the superuser."""
    password = secrets.token_hex(16)
    with admin.connect() as conn:
        conn.execute(
            text(
                f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{BENCH_USER}') "
                f"THEN CREATE ROLE {BENCH_USER} LOGIN; END IF; END $$"
            )
        )
        conn.execute(text(f"ALTER ROLE {BENCH_USER} PASSWORD '{password}'"))
        conn.execute(text(f"GRANT {MEMBERS}, {ADMINS} TO {BENCH_USER}"))
    return password


def _drop(admin: Engine, name: str) -> None:
    """Drop the throwaway database, riding out a server restart by a neighbour's test suite."""
    for attempt in range(3):
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except OperationalError:
            if attempt == 2:
                raise
            admin.dispose()  # the pooled connections died with the server's restart
            time.sleep(2)


@contextlib.contextmanager
def bench_database(backend: str, postgres_url: str | None) -> Iterator[BenchDatabase]:
    if backend == "sqlite":
        with sqlite_database() as db:
            yield db
    else:
        if not postgres_url:
            raise ValueError("PostgreSQL needs --postgres URL")
        with postgres_database(postgres_url) as db:
            yield db


def postgres_reachable(server_url: str) -> str | None:
    """None when the server answers, else a one-line reason."""
    try:
        engine = create_engine(
            parse_database_url(server_url).set(database="postgres"),
            connect_args={"connect_timeout": 3},
        )
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None
