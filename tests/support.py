"""Helpers shared by the foundation tests: model fixtures and running the real `synergia`."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy.engine import URL

from synergia_tui.bootstrap import Container
from synergia_tui.core.team import ADMINS, MEMBERS
from synergia_tui.models import AIModelCreate, AIModelRead


class Result(NamedTuple):
    """Exit code and output of one command."""

    returncode: int
    stdout: str
    stderr: str


ISOLATED_VARS = (
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
)
REPO = Path(__file__).resolve().parent.parent
SYNERGIA = REPO / ".venv" / "bin" / "synergia"


def add_model(
    container: Container,
    name: str = "gpt",
    *,
    price: str = "0.15",
    output_price: str | None = None,
    enabled: bool = True,
) -> AIModelRead:
    """A model in the catalogue with exact decimal prices."""
    return container.models.add_model(
        AIModelCreate(
            name=name,
            provider="openai",
            api_model="gpt-4o-mini",
            price_per_million_tokens=Decimal(price),
            output_price_per_million_tokens=Decimal(output_price) if output_price else None,
            is_enabled=enabled,
        )
    )


TEST_USERS = ("alice", "bob")
"""On PostgreSQL, login roles made for the run (see ``tests/conftest.py``)."""


def url_text(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def _role_sql(name: str, options: str) -> str:
    return (
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{name}') "
        f"THEN CREATE ROLE {name} {options}; END IF; END $$"
    )


def setup_test_users(server: URL, *, create: bool) -> None:
    """Make (or drop) the login roles tests connect as on PostgreSQL (``TEST_USERS``) on the
    server at ``server`` (a superuser's URL): members and admins of a shared server, as people
    are, never superusers, so row-level security holds them. The groups are migration 0009's."""
    from sqlalchemy import create_engine, text

    engine = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if create:
            for group in (MEMBERS, ADMINS):
                conn.execute(text(_role_sql(group, "NOLOGIN NOBYPASSRLS")))
            for name in TEST_USERS:
                conn.execute(text(_role_sql(name, "LOGIN NOBYPASSRLS")))
                conn.execute(text(f"GRANT {MEMBERS}, {ADMINS} TO {name}"))
        else:
            for name in TEST_USERS:
                # Kept while another run on the same server is connected as it, or a database
                # this run did not make still refers to it.
                busy = conn.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE usename = :name"),
                    {"name": name},
                ).scalar_one()
                if busy:
                    continue
                with contextlib.suppress(Exception):
                    conn.execute(text(f"DROP ROLE IF EXISTS {name}"))
    engine.dispose()


def past_policies(url: URL) -> URL:
    """``url`` as the test server's superuser, whom row-level security does not hold: for
    looking at what is stored, whoever owns it."""
    if url.get_backend_name() != "postgresql":
        return url
    from sqlalchemy.engine import make_url

    server = make_url(os.environ["SYNERGIA_TEST_POSTGRES_URL"])
    return url.set(username=server.username, password=server.password)


def as_user(url: URL, user: str = "alice") -> URL:
    """``url`` for ``user``: on PostgreSQL, logging in as the user's role (one of
    ``TEST_USERS``); SQLite URLs are the same for everyone (SYNERGIA_USER says who)."""
    if url.get_backend_name() == "postgresql":
        assert user in TEST_USERS, f"no test role {user!r}"
        return url.set(username=user)
    return url


def synergia_env(**extra: str | None) -> dict[str, str]:
    """The current (isolated) environment plus ``extra``; a None value removes the variable."""
    env = dict(os.environ)
    env.pop("COLUMNS", None)
    if "HOME_FOR_XDG" in extra:
        home = Path(str(extra.pop("HOME_FOR_XDG")))
        for var in ISOLATED_VARS:
            env.pop(var, None)
        for var, sub in (
            ("XDG_DATA_HOME", "data"),
            ("XDG_CONFIG_HOME", "config"),
            ("XDG_STATE_HOME", "state"),
        ):
            env[var] = str(home / sub)
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_synergia(
    *args: str,
    cwd: Path | None = None,
    timeout: float = 60,
    input: str | None = None,
    **env: str | None,
) -> subprocess.CompletedProcess[str]:
    """Run the installed `synergia` entry point of this checkout, capturing its output."""
    return subprocess.run(
        [str(SYNERGIA), *args],
        cwd=cwd,
        env=synergia_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input,
        check=False,
    )


def run_python(code: str, *, cwd: Path | None = None, **env: str | None):
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=synergia_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def start_synergia(*args: str, cwd: Path | None = None, **env: str | None) -> subprocess.Popen[str]:
    """Start the real `synergia` without waiting (to run several at once)."""
    return subprocess.Popen(
        [str(SYNERGIA), *args],
        cwd=cwd,
        env=synergia_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


_DRIVER = """
import contextlib, io, json, os, sys
from synergia_tui.main import main

results = []
for step in json.loads(sys.argv[1]):
    saved = dict(os.environ)
    for key, value in step["env"].items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    os.chdir(step["cwd"])
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(step["argv"])
        except SystemExit as exc:
            code = exc.code
    os.environ.clear()
    os.environ.update(saved)
    results.append([code, out.getvalue(), err.getvalue()])
sys.stdout.write(json.dumps(results))
"""


def run_steps(steps: list[tuple[list[str], dict[str, str | None], Path]]) -> list[Result]:
    """Run several `synergia` commands through ``main()`` in ONE fresh interpreter.

    Each step is (argv, environment changes, working directory). Starting the command costs
    about a second of imports, so a scenario of many commands shares one process; the console
    script itself is exercised by a few tests that run the binary.
    """
    payload = [{"argv": argv, "env": env, "cwd": str(cwd)} for argv, env, cwd in steps]
    result = subprocess.run(
        [sys.executable, "-c", _DRIVER, json.dumps(payload)],
        env=synergia_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return [Result(*r) for r in json.loads(result.stdout)]


def run_commands(
    url: URL, *commands: list[str], cwd: Path | None = None, user: str | None = "alice"
) -> list[Result]:
    """``run_steps`` for several commands against one database, as ``user`` (None: as ``url``
    says, e.g. the database's owner)."""
    env: dict[str, str | None] = {"SYNERGIA_DATABASE_URL": url_text(url)}
    if user is not None:
        env = {"SYNERGIA_DATABASE_URL": url_text(as_user(url, user)), "SYNERGIA_USER": user}
    return run_steps([(list(argv), env, cwd or REPO) for argv in commands])


def one_path(messages: list[Any]) -> list[Any]:
    """``messages`` (of one chat, in reading order) threaded as one path, each following the
    one before, as Synergia stores a conversation; returned for ``add_all``."""
    for before, message in zip(messages, messages[1:], strict=False):
        message.parent_id = before.id
    return messages
