"""An installed wheel carries its migrations: `synergia db upgrade` works from any directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from synergia_tui.core import migrations
from tests.support import REPO, synergia_env


def _run(*args: str | Path, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=synergia_env(VIRTUAL_ENV=None, **env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _uv_or_skip() -> list[str]:
    """How to run uv: the `uv` command, or the uv module of a Python that has it.

    Without uv the test skips, except under CI=true, where it fails: CI must build the wheel.
    """
    # `uv run` (as `make test` runs pytest) names its own binary in $UV.
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is not None and os.access(uv, os.X_OK):
        return [uv]
    for python in dict.fromkeys(filter(None, (sys.executable, shutil.which("python3")))):
        probe = subprocess.run(
            [python, "-m", "uv", "--version"], capture_output=True, timeout=60, check=False
        )
        if probe.returncode == 0:
            return [python, "-m", "uv"]
    reason = "uv is not installed (neither a `uv` command nor `python3 -m uv`)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true needs uv to build the wheel: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `synergia` of a wheel built from this checkout, installed in a fresh venv."""
    uv = _uv_or_skip()
    out = tmp_path_factory.mktemp("wheel")
    built = _run(*uv, "build", "--wheel", "--quiet", "-o", out, REPO, cwd=out)
    assert built.returncode == 0, built.stderr
    (wheel,) = out.glob("synergia_tui-*.whl")
    venv = out / "venv"
    created = _run(*uv, "venv", "--quiet", venv, cwd=out)
    assert created.returncode == 0, created.stderr
    python = venv / "bin" / "python"
    install = _run(*uv, "pip", "install", "--quiet", "--python", python, wheel, cwd=out)
    assert install.returncode == 0, install.stderr
    return venv / "bin" / "synergia"


def test_an_installed_wheel_migrates_a_database_outside_the_repository(installed, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    url = f"sqlite:///{tmp_path / 'db' / 'synergia.db'}"
    head = migrations.head_revision()

    upgrade = _run(installed, "db", "upgrade", cwd=elsewhere, SYNERGIA_DATABASE_URL=url)
    assert upgrade.returncode == 0, upgrade.stderr
    assert upgrade.stdout.strip() == f"database at {head}"

    current = _run(installed, "db", "current", cwd=elsewhere, SYNERGIA_DATABASE_URL=url)
    assert current.stdout.strip() == f"{head} (head)"

    health = _run(installed, "health", cwd=elsewhere, SYNERGIA_DATABASE_URL=url)
    assert health.returncode == 0, health.stdout + health.stderr


def test_the_wheel_ships_migrations_config_and_styles(installed):
    site = next(installed.parent.parent.glob("lib/python*/site-packages"))
    data = site / "synergia_tui" / "_data"
    assert (data / "alembic.ini").is_file()
    assert (data / "styles.tcss").is_file()
    assert list((data / "migrations" / "versions").glob("*_0001_*.py"))
