"""A PostgreSQL server that restarts between two calls does not break the next call."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.support import add_model


def _cluster_version() -> str:
    versions = sorted(p.name for p in Path("/etc/postgresql").iterdir())
    return versions[-1]


def _wait_until_ready(deadline_s: float = 60) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        ready = subprocess.run(
            ["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"], check=False, timeout=10
        )
        if ready.returncode == 0:
            return
        time.sleep(0.1)
    raise AssertionError("PostgreSQL did not come back within a minute")


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"])
def test_the_call_after_a_server_restart_succeeds(container):
    if shutil.which("pg_ctlcluster") is None or not Path("/etc/postgresql").is_dir():
        pytest.skip("the test server is not a local cluster this test can restart")
    add_model(container, "before")
    assert [m.name for m in container.models.list_models()] == ["before"]
    # The pool now holds a connection that the restart will cut.
    subprocess.run(
        [
            "pg_ctlcluster",
            "--skip-systemctl-redirect",
            _cluster_version(),
            "main",
            "restart",
        ],
        check=True,
        timeout=120,
        capture_output=True,
    )
    _wait_until_ready()
    assert [m.name for m in container.models.list_models()] == ["before"]
    add_model(container, "after")
    assert [m.name for m in container.models.list_models()] == ["after", "before"]
