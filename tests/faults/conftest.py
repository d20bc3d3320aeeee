"""Faults as users meet them: a PostgreSQL server of our own to stop and start, a write lock held
by another process, a full filesystem."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from synergia_tui.core import migrations
from tests.support import setup_test_users

PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"))), None)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the moment of asking)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(*command: str) -> list[str]:
    # PostgreSQL refuses to run as root; the tests (and CI) run as root.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


class PrivateCluster:
    """A PostgreSQL cluster in a temporary folder on its own port, that a test may stop."""

    def __init__(self, base: Path | None = None) -> None:
        assert PG_BIN is not None
        self.dir = Path(tempfile.mkdtemp(prefix="synergia-pg-", dir=base))
        self.port = free_port()
        self.data = self.dir / "data"
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        subprocess.run(
            _as_postgres(
                str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"
            ),
            check=True,
            capture_output=True,
        )

    @property
    def server_url(self) -> URL:
        return URL.create(
            "postgresql+psycopg", username="postgres", host="127.0.0.1", port=self.port
        )

    def start(self) -> None:
        subprocess.run(
            _as_postgres(
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.dir / "log"),
                "-o",
                f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off",
                "-w",
                "-t",
                "30",
                "start",
            ),
            check=True,
            capture_output=True,
        )

    def stop(self) -> None:
        """Stop at once, as a crash or a pulled cable would (open connections break)."""
        subprocess.run(
            _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"),
            check=True,
            capture_output=True,
        )

    def create_database(self) -> URL:
        name = f"faults_{os.urandom(4).hex()}"
        engine = create_engine(
            self.server_url.set(database="postgres"), isolation_level="AUTOCOMMIT"
        )
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        url = self.server_url.set(database=name)
        migrations.upgrade(url)
        return url

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def private_cluster() -> Iterator[PrivateCluster]:
    if PG_BIN is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true needs the PostgreSQL server binaries (/usr/lib/postgresql)")
        pytest.skip("no PostgreSQL server binaries here")
    cluster = PrivateCluster()
    cluster.start()
    setup_test_users(cluster.server_url, create=True)  # dropped with the cluster
    yield cluster
    cluster.remove()


@pytest.fixture
def outage_postgres(private_cluster: PrivateCluster) -> Iterator[tuple[PrivateCluster, URL]]:
    """A migrated database on the private cluster; the cluster is running again afterwards."""
    url = private_cluster.create_database()
    yield private_cluster, url
    with contextlib.suppress(subprocess.CalledProcessError):
        private_cluster.start()


# -- the real `synergia` command ----------------------------------------------------------------

SYNERGIA = str(Path(sys.executable).with_name("synergia"))
FAKE_KEY = "sk-faults-fake-provider-0000"
"""The API key the fake provider is added with (read from the variable FAKE_KEY)."""


def synergia_command_env(home: Path | None = None, **extra: str) -> dict[str, str]:
    """The environment to run the real `synergia` in: none of the caller's SYNERGIA_* or
    POSTGRES_* settings, the fake provider's key in FAKE_KEY, then ``extra``.

    With ``home``, the XDG data, state and config folders are ``home``/data, /state and /config;
    otherwise they are the test's own (see ``isolated_env``).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SYNERGIA_", "POSTGRES_"))}
    if home is not None:
        for var, sub in (
            ("XDG_DATA_HOME", "data"),
            ("XDG_STATE_HOME", "state"),
            ("XDG_CONFIG_HOME", "config"),
        ):
            env[var] = str(home / sub)
    env["FAKE_KEY"] = FAKE_KEY
    env.update(extra)
    return env


def add_fake_model(env: dict[str, str], base_url: str, api_model: str = "fake-model-a") -> None:
    """`synergia models add fake`, an OpenAI-compatible model served at ``base_url``."""
    added = subprocess.run(
        [SYNERGIA, "models", "add", "fake", "--provider", "openai", "--model", api_model]
        + ["--base-url", base_url, "--api-key-env", "FAKE_KEY"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert added.returncode == 0, added.stderr


# -- SQLite ------------------------------------------------------------------------------------

_LOCK_HOLDER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
connection.execute("BEGIN IMMEDIATE")  # the write lock, held until told to let go
print("locked", flush=True)
sys.stdin.readline()
connection.execute("ROLLBACK")
"""


@contextlib.contextmanager
def write_lock(database: Path) -> Iterator[None]:
    """Another process holds the SQLite file's write lock while the block runs."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _LOCK_HOLDER, str(database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=10)


@contextlib.contextmanager
def small_filesystem(size: str = "4m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted for the block (root only)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root")
    where = Path(tempfile.mkdtemp(prefix="synergia-full-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
        shutil.rmtree(where, ignore_errors=True)


def fill(folder: Path) -> Path:
    """Fill the filesystem holding ``folder`` to the last byte; returns the filler file."""
    filler = folder / "filler"
    # Unbuffered: every write that does not fit fails here, none is left for close() to flush.
    with open(filler, "wb", buffering=0) as handle:
        for size in (1 << 16, 1 << 12, 1):
            with contextlib.suppress(OSError):
                while True:
                    handle.write(b"\0" * size)
    return filler


def wait_for(condition, *, timeout: float, what: str, step: float = 0.02):  # type: ignore[no-untyped-def]
    """Poll ``condition`` until it is truthy (returned) or ``timeout`` passes (fails)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(step)
