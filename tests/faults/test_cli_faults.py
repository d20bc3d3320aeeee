"""Every `synergia` subcommand against a broken database: one line on stderr, never a traceback.

The subcommands are read from the argument parser itself, so a command added later is walked
too (the test fails until it has an entry in ``ARGV``). Each fault is a database a user can end
up with: a PostgreSQL server that is not there, an SQLite file that is not a database (random
bytes, a truncated copy), and a migration that fails because a table is in its way.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from synergia_tui.cli.parser import build_parser
from synergia_tui.core import migrations
from tests.conftest import postgres_server_or_skip
from tests.support import SYNERGIA, Result, run_steps, synergia_env, url_text

PASSWORD = "Sup3r-Secret-pw"
CHAT_PREFIX = "0123abcd"

# A full command line for every subcommand, with whatever arguments it requires.
ARGV: dict[tuple[str, ...], list[str]] = {
    ("health",): ["health"],
    ("db", "upgrade"): ["db", "upgrade"],
    ("db", "downgrade"): ["db", "downgrade", "base"],
    ("db", "current"): ["db", "current"],
    ("db", "history"): ["db", "history"],
    ("db", "reset"): ["db", "reset", "--yes"],
    ("db", "add-user"): ["db", "add-user", "fault_user"],
    ("db", "remove-user"): ["db", "remove-user", "fault_user"],
    ("db", "users"): ["db", "users", "--json"],
    ("models", "list"): ["models", "list", "--json"],
    ("models", "add"): ["models", "add", "m", "--provider", "openai", "--model", "gpt-4o-mini"],
    ("models", "edit"): ["models", "edit", "m", "--price", "1"],
    ("models", "enable"): ["models", "enable", "m"],
    ("models", "disable"): ["models", "disable", "m"],
    ("models", "rm"): ["models", "rm", "m"],
    # Asks a server first (none listens here), so it never reaches the database.
    ("models", "discover"): [
        "models",
        "discover",
        "--provider",
        "ollama",
        "--base-url",
        "http://127.0.0.1:1",
    ],
    ("chats", "list"): ["chats", "list"],
    ("chats", "export"): ["chats", "export", CHAT_PREFIX, "--format", "json"],
    ("chats", "system"): ["chats", "system", CHAT_PREFIX, "Be brief."],
    ("chats", "rename"): ["chats", "rename", CHAT_PREFIX, "New title"],
    ("chats", "rm"): ["chats", "rm", CHAT_PREFIX],
    ("chats", "trash"): ["chats", "trash", "--json"],
    ("chats", "restore"): ["chats", "restore", CHAT_PREFIX],
    ("chats", "purge"): ["chats", "purge", "--older-than", "30", "--yes"],
    ("prompts", "list"): ["prompts", "list", "--json"],
    ("prompts", "show"): ["prompts", "show", "terse"],
    ("prompts", "set"): ["prompts", "set", "terse", "Be brief."],
    ("prompts", "rm"): ["prompts", "rm", "terse"],
    ("search",): ["search", "hello"],
    ("usage",): ["usage", "--by", "model", "--json"],
    ("ask",): ["ask", "hello"],
    ("export",): ["export", "--format", "json"],
    ("import",): ["import", "chats.json"],
}
# Commands that need no database: they do their job whatever state it is in.
NO_DATABASE = {("db", "history"), ("models", "discover")}


def subcommands(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> set[tuple[str, ...]]:
    """Every runnable command path of ``parser``, e.g. ("db", "upgrade")."""
    found: set[tuple[str, ...]] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found |= subcommands(child, (*prefix, name)) or {(*prefix, name)}
    return found


def test_every_subcommand_is_walked():
    assert set(ARGV) == subcommands(build_parser())


@dataclass
class Fault:
    """A broken database, the environment that points Synergia at it, and what users are told."""

    env: dict[str, str | None]
    told: Callable[[tuple[str, ...], str], str]
    """The words the one line must hold, for a command and the SQLite file it was given."""
    succeeds: set[tuple[str, ...]] = field(default_factory=set)
    """Commands that legitimately succeed (they do not need what is broken)."""
    health_says_it: bool = False
    """`health` reports the same words (a server that does not answer, and how to fix it)."""
    sqlite_file: Path | None = None
    """The broken SQLite file: each command gets its own copy, so none repairs or changes it
    for the next (`db reset` replaces it, the upgrade at start backs it up)."""

    def for_command(self, number: int) -> tuple[dict[str, str | None], str]:
        """The environment for the ``number``-th command, and its SQLite file (or "")."""
        if self.sqlite_file is None:
            return self.env, ""
        copy = self.sqlite_file.parent / f"command-{number}" / self.sqlite_file.name
        copy.parent.mkdir()
        shutil.copyfile(self.sqlite_file, copy)
        return {**self.env, "SYNERGIA_SQLITE_PATH": str(copy)}, str(copy)


def _sqlite(path: Path, told: Callable[[tuple[str, ...], str], str], **kwargs: Any) -> Fault:
    env: dict[str, str | None] = {"SYNERGIA_DATABASE_URL": None}
    return Fault(env, told, sqlite_file=path, **kwargs)


def _random_bytes(tmp_path: Path) -> Fault:
    path = tmp_path / "random.db"
    path.write_bytes(os.urandom(16384))
    return _sqlite(path, lambda _, db: f"the file is not an SQLite database: {db}")


def _truncated(tmp_path: Path) -> Fault:
    good = tmp_path / "good.db"
    migrations.upgrade(URL.create("sqlite+pysqlite", database=str(good)))
    path = tmp_path / "truncated.db"
    path.write_bytes(good.read_bytes()[:5000])
    return _sqlite(path, lambda _, db: f"damaged (truncated or corrupt): {db}")


def _postgres_unreachable(_tmp_path: Path) -> Fault:
    # Nothing listens on port 1; the settings are the original backend's variables.
    env: dict[str, str | None] = {
        "SYNERGIA_DATABASE_URL": None,
        "POSTGRES_SERVER": "127.0.0.1",
        "POSTGRES_PORT": "1",
        "POSTGRES_USER": "alice",
        "POSTGRES_PASSWORD": PASSWORD,
        "POSTGRES_DB": "synergia",
    }
    return Fault(
        env,
        lambda _, __: (
            "cannot connect to PostgreSQL at 127.0.0.1:1: Connection refused "
            "(check POSTGRES_SERVER / POSTGRES_PORT)"
        ),
        health_says_it=True,
    )


def _postgres_url_unreachable(_tmp_path: Path) -> Fault:
    url = URL.create(
        "postgresql+psycopg", username="alice", password=PASSWORD, host="127.0.0.1", port=1
    )
    return Fault(
        {"SYNERGIA_DATABASE_URL": url_text(url.set(database="synergia"))},
        lambda _, __: "cannot connect to PostgreSQL at 127.0.0.1:1",
        health_says_it=True,
    )


def _postgres_no_such_database(_tmp_path: Path) -> Fault:
    server = postgres_server_or_skip()
    missing = f"synergia_missing_{os.urandom(4).hex()}"
    return Fault(
        {"SYNERGIA_DATABASE_URL": url_text(server.set(database=missing))},
        lambda _, __: (
            f'has no database {missing}: database "{missing}" does not exist (check POSTGRES_DB)'
        ),
    )


def _table_in_the_way(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE chats (id INTEGER PRIMARY KEY)")


def _sqlite_migration_fails(tmp_path: Path) -> Fault:
    # The embedded database migrates itself: every command that opens it runs the migration.
    path = tmp_path / "in-the-way.db"
    _table_in_the_way(path)
    return _sqlite(
        path,
        lambda _, __: "migration 0001 failed: table chats already exists",
        # An empty schema has nothing to show or to downgrade.
        succeeds={("db", "current"), ("db", "downgrade")},
    )


def _sqlite_later_migration_fails(tmp_path: Path) -> Fault:
    # A database at 0003 where an interrupted batch migration left its temporary table: 0004
    # cannot copy `messages` aside. The auto-upgrade backs the file up first and says where.
    path = tmp_path / "at-0003.db"
    migrations.upgrade(URL.create("sqlite+pysqlite", database=str(path)), "0003")
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE _alembic_tmp_messages (id INTEGER)")
    told = "migration 0004 failed: table _alembic_tmp_messages already exists"
    return _sqlite(
        path,
        lambda command, db: (
            told
            if command in {("db", "upgrade"), ("db", "reset")}  # no backup: asked for by name
            else f"{told}; the database as it was is saved in {db}.0003."
        ),
        # 0003 is known: shown, and downgraded from, as asked.
        succeeds={("db", "current"), ("db", "downgrade")},
    )


FAULTS: dict[str, Callable[[Path], Fault]] = {
    "postgres-unreachable": _postgres_unreachable,
    "postgres-url-unreachable": _postgres_url_unreachable,
    "postgres-no-such-database": _postgres_no_such_database,
    "sqlite-random-bytes": _random_bytes,
    "sqlite-truncated": _truncated,
    "sqlite-migration-fails": _sqlite_migration_fails,
    "sqlite-later-migration-fails": _sqlite_later_migration_fails,
}


@pytest.fixture
def postgres_table_in_the_way(postgres_databases) -> Iterator[URL]:  # type: ignore[no-untyped-def]
    url = postgres_databases.create()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE chats (id integer PRIMARY KEY)"))
    engine.dispose()
    yield url


def assert_one_clear_line(
    path: tuple[str, ...], result: Result, fault: Fault, sqlite_file: str = ""
) -> None:
    where = " ".join(path)
    everything = result.stdout + result.stderr
    assert "Traceback" not in everything, where
    assert PASSWORD not in everything, where
    if path in NO_DATABASE or path in fault.succeeds:
        if path == ("models", "discover"):
            assert result.returncode == 1 and len(result.stderr.splitlines()) == 1, where
        else:
            assert result.returncode == 0, (where, result.stderr)
        return
    if path == ("health",):
        # health reports on stdout, whatever the state; the exit code says it is not healthy.
        assert result.returncode == 1, (where, result.stdout)
        assert result.stderr == "", where
        assert result.stdout.split()[:2] in (["status:", "unhealthy"], ["status:", "degraded"])
        if fault.health_says_it:
            assert f"reachable: no: {fault.told(path, sqlite_file)}" in result.stdout, where
        return
    assert result.returncode == 1, (where, result.returncode, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, (where, result.stderr)
    assert lines[0].startswith("synergia: "), where
    assert fault.told(path, sqlite_file) in lines[0], (where, lines[0])


def _walk(fault: Fault, cwd: Path) -> dict[tuple[str, ...], Result]:
    """Run every subcommand against ``fault`` and check what each one said."""
    # One interpreter runs them all through main() (a second each otherwise); `ask` reads a
    # piped stdin, so it runs on its own with an empty one.
    paths = [path for path in ARGV if path != ("ask",)]
    setups = [fault.for_command(number) for number in range(len(ARGV))]
    steps = [(ARGV[path], env, cwd) for path, (env, _) in zip(paths, setups, strict=False)]
    results = dict(zip(paths, run_steps(steps), strict=True))
    ask_env, ask_file = setups[-1]
    results[("ask",)] = _finish(_run(ARGV[("ask",)], ask_env, cwd))
    files = dict(zip([*paths, ("ask",)], [db for _, db in setups], strict=True))
    for path, result in results.items():
        assert_one_clear_line(path, result, fault, files[path])
    return results


def _finish(process: subprocess.Popen[str]) -> Result:
    stdout, stderr = process.communicate(timeout=60)
    return Result(process.returncode, stdout, stderr)


def _run(argv: list[str], env: dict[str, str | None], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(SYNERGIA), *argv],
        cwd=cwd,
        env=synergia_env(**env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("make_fault", FAULTS.values(), ids=FAULTS.keys())
def test_every_subcommand_says_one_clear_line(make_fault, tmp_path):
    _walk(make_fault(tmp_path), tmp_path)


def test_a_server_schema_behind_or_a_failing_migration_on_postgres(
    postgres_table_in_the_way, tmp_path
):
    # A server database is never migrated silently: commands point to `db upgrade`, and that
    # (or `db reset`) names the migration that failed and why.
    migrating = {("db", "upgrade"), ("db", "reset")}
    fault = Fault(
        {"SYNERGIA_DATABASE_URL": url_text(postgres_table_in_the_way)},
        lambda path, _: (
            'migration 0001 failed: relation "chats" already exists'
            if path in migrating
            else "Run `synergia db upgrade`"
        ),
        succeeds={("db", "current"), ("db", "downgrade")},
    )
    results = _walk(fault, tmp_path)
    assert "degraded" in results[("health",)].stdout
    # The failed migration left nothing behind: the schema is still empty.
    assert migrations.current_revision(create_engine(postgres_table_in_the_way)) is None


@pytest.mark.parametrize("make_fault", FAULTS.values(), ids=FAULTS.keys())
def test_the_installed_command_says_one_line_too(make_fault, tmp_path):
    # The walk above calls main(); here the console script itself runs, excepthooks and all.
    fault = make_fault(tmp_path)
    picked = [("chats", "list"), ("db", "upgrade"), ("ask",)]
    setups = {path: fault.for_command(number) for number, path in enumerate(picked)}
    processes = {path: _run(ARGV[path], setups[path][0], tmp_path) for path in picked}
    for path, process in processes.items():
        assert_one_clear_line(path, _finish(process), fault, setups[path][1])


def test_a_bad_port_in_the_url_names_the_setting_and_a_short_password_garbles_nothing(tmp_path):
    # The password "b" is masked where it appears as a password, not in every word with a "b".
    url = "postgresql+psycopg://alice:b@127.0.0.1:99999/synergia"
    result = _finish(_run(["chats", "list"], {"SYNERGIA_DATABASE_URL": url}, tmp_path))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "synergia: Database unavailable: cannot connect to PostgreSQL at 127.0.0.1:99999: "
        'connection is bad: invalid port number: "99999" (check POSTGRES_SERVER / POSTGRES_PORT)'
    ]
