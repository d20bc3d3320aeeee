"""Files and folders as the real `synergia` meets them: modes it may change, read-only databases."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.support import run_synergia


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_folder(tmp_path: Path) -> Path:
    """A folder of the user's own, open to everyone (0755), that Synergia did not create."""
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o755)
    return folder


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


# -- modes ---------------------------------------------------------------------------------


def test_a_database_in_an_existing_folder_leaves_that_folders_mode_alone(open_folder, umask_022):
    database = open_folder / "x.db"
    result = run_synergia("models", "list", SYNERGIA_SQLITE_PATH=str(database))
    assert (result.returncode, result.stderr) == (0, "")
    assert _mode(open_folder) == 0o755
    assert _mode(database) == 0o600


def test_a_rejected_database_path_leaves_its_folder_alone(open_folder, umask_022):
    (open_folder / "x.db").mkdir(mode=0o755)  # a folder where the database file should be
    result = run_synergia("models", "list", SYNERGIA_SQLITE_PATH=str(open_folder / "x.db"))
    assert result.returncode == 1
    assert result.stderr.startswith("synergia: Cannot create the database file")
    assert len(result.stderr.splitlines()) == 1
    assert _mode(open_folder) == 0o755
    assert _mode(open_folder / "x.db") == 0o755


def test_folders_synergia_creates_for_the_database_are_private(open_folder, umask_022):
    database = open_folder / "new" / "deeper" / "x.db"
    result = run_synergia("models", "list", SYNERGIA_SQLITE_PATH=str(database))
    assert (result.returncode, result.stderr) == (0, "")
    assert _mode(open_folder) == 0o755
    assert _mode(open_folder / "new") == 0o700
    assert _mode(open_folder / "new" / "deeper") == 0o700
    assert _mode(database) == 0o600


def test_an_existing_database_file_keeps_its_mode(open_folder, umask_022):
    database = open_folder / "x.db"
    assert run_synergia("db", "upgrade", SYNERGIA_SQLITE_PATH=str(database)).returncode == 0
    database.chmod(0o640)  # the owner shares it with a group, on purpose
    result = run_synergia("models", "list", SYNERGIA_SQLITE_PATH=str(database))
    assert (result.returncode, result.stderr) == (0, "")
    assert _mode(database) == 0o640
