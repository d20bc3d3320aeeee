"""Shared fixtures: an isolated environment, and databases on SQLite and a real PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from synergia_tui.bootstrap import Container, build
from synergia_tui.core import migrations
from synergia_tui.core.config import Settings
from tests.support import as_user, setup_test_users

BACKENDS = ("sqlite", "postgresql")
_ISOLATED_VARS = (
    "SYNERGIA_DATABASE_URL",
    "POSTGRES_SERVER",
    "POSTGRES_PORT",
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
    "POSTGRES_DB",
    "ENVIRONMENT",
    "LOG_LEVEL",
    "SYNERGIA_USER",
    "SYNERGIA_SQLITE_PATH",
    "SYNERGIA_DEFAULT_PRESET",
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own XDG directories and none of the caller's Synergia settings."""
    home = tmp_path / "home"
    for var, sub in (
        ("XDG_DATA_HOME", "data"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_STATE_HOME", "state"),
    ):
        monkeypatch.setenv(var, str(home / sub))
    for var in _ISOLATED_VARS:
        monkeypatch.delenv(var, raising=False)
    return home


# -- PostgreSQL ------------------------------------------------------------------------------


def _server_url() -> URL | None:
    raw = os.environ.get("SYNERGIA_TEST_POSTGRES_URL")
    return make_url(raw).set(drivername="postgresql+psycopg") if raw else None


def _admin_engine(server: URL):
    return create_engine(
        server.set(database="postgres"),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 3},
    )


def postgres_server_or_skip() -> URL:
    """The test server's URL; skips (fails under CI=true) when there is none to reach."""
    server = _server_url()
    reason = None
    if server is None:
        reason = "SYNERGIA_TEST_POSTGRES_URL is not set"
    else:
        try:
            engine = _admin_engine(server)
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
        except Exception as exc:  # any failure to connect means "no server here"
            reason = f"PostgreSQL at {server.render_as_string(hide_password=True)} unreachable: {exc}".splitlines()[
                0
            ]
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true needs PostgreSQL: {reason}")
        pytest.skip(reason)
    assert server is not None
    return server


class PostgresDatabases:
    """Creates throwaway databases on the test server and drops them all at the end."""

    def __init__(self, server: URL) -> None:
        self.server = server
        self.created: list[str] = []

    def create(self) -> URL:
        name = f"synergia_test_{uuid.uuid4().hex[:12]}"
        engine = _admin_engine(self.server)
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        self.created.append(name)
        return self.server.set(database=name)

    def drop_all(self) -> None:
        engine = _admin_engine(self.server)
        with engine.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    server = postgres_server_or_skip()
    setup_test_users(server, create=True)
    databases = PostgresDatabases(server)
    yield databases
    databases.drop_all()
    setup_test_users(server, create=False)


@pytest.fixture(scope="session")
def postgres_at_head(postgres_databases: PostgresDatabases) -> URL:
    """One migrated database for the whole run; tests empty its tables before they start."""
    url = postgres_databases.create()
    migrations.upgrade(url)
    return url


def _empty_tables(url: URL) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE messages, chats, models, prompts"))
    engine.dispose()


# -- per-test databases --------------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> URL:
    """A database at the schema head, empty, on the backend under test."""
    if backend == "sqlite":
        url = URL.create("sqlite+pysqlite", database=str(tmp_path / "db" / "synergia.db"))
        build(
            Settings(synergia_database_url=url.render_as_string(hide_password=False))
        ).ensure_schema()
        return url
    url = request.getfixturevalue("postgres_at_head")
    _empty_tables(url)
    return url


@pytest.fixture
def empty_db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> URL:
    """A database with no schema at all, on the backend under test (for migration tests)."""
    if backend == "sqlite":
        return URL.create("sqlite+pysqlite", database=str(tmp_path / "empty" / "synergia.db"))
    return request.getfixturevalue("postgres_databases").create()


def settings_for(url: URL, user: str = "alice") -> Settings:
    """Settings for ``user``: on SQLite by SYNERGIA_USER, on PostgreSQL by logging in as the
    user's own role (there the server decides who the session is)."""
    return Settings(
        synergia_database_url=as_user(url, user).render_as_string(hide_password=False),
        synergia_user=user,
    )


@pytest.fixture
def container(db_url: URL) -> Iterator[Container]:
    """Services for user ``alice`` on the database under test."""
    built = build(settings_for(db_url))
    yield built
    built.close()


@pytest.fixture
def other_user(db_url: URL) -> Iterator[Container]:
    """Services for user ``bob`` on the same database."""
    built = build(settings_for(db_url, user="bob"))
    yield built
    built.close()
