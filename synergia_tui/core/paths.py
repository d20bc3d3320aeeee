"""Where Synergia keeps its files (XDG base directories) and finds its bundled resources."""

from __future__ import annotations

import os
from pathlib import Path

APP_DIR = "synergia"


def _xdg(var: str, fallback: str) -> Path:
    value = os.environ.get(var)
    # The XDG spec says relative paths are invalid and must be ignored.
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / fallback


def data_dir() -> Path:
    """Directory of the embedded database."""
    return _xdg("XDG_DATA_HOME", ".local/share") / APP_DIR


def config_dir() -> Path:
    """Directory of the user's ``config.toml``."""
    return _xdg("XDG_CONFIG_HOME", ".config") / APP_DIR


def state_dir() -> Path:
    """Directory of the log files."""
    return _xdg("XDG_STATE_HOME", ".local/state") / APP_DIR


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if needed and make sure only the owner can enter it."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty if missing, readable and writable by its owner only."""
    private_dir(path.parent)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)
    return path


def resource(name: str) -> Path:
    """A file shipped with Synergia: ``migrations``, ``alembic.ini`` or ``styles.tcss``.

    An installed wheel carries them in ``synergia_tui/_data``; a source checkout has them at the
    top of the repository.
    """
    package = Path(__file__).resolve().parent.parent
    bundled = package / "_data" / name
    if bundled.exists():
        return bundled
    return package.parent / name
