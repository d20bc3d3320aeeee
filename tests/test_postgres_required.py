"""Without a reachable PostgreSQL the server cases skip, except under CI=true, where they fail."""

from __future__ import annotations

import subprocess
import sys

from tests.support import REPO, synergia_env

# A cheap test that needs the server (and nothing else).
SERVER_CASE = "tests/test_health.py::test_a_reachable_database_at_head_is_healthy[postgresql]"
NOWHERE = "postgresql://postgres@127.0.0.1:1/postgres"


def _pytest(**env: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", SERVER_CASE],
        cwd=REPO,
        env=synergia_env(SYNERGIA_TEST_POSTGRES_URL=NOWHERE, **env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_missing_server_fails_the_run_under_ci():
    result = _pytest(CI="true")
    assert result.returncode == 1, result.stdout
    assert "CI=true needs PostgreSQL" in result.stdout


def test_a_missing_server_skips_the_server_cases_outside_ci():
    result = _pytest(CI=None)
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
