"""Where Synergia keeps its files (XDG base directories) and finds its bundled resources."""

from __future__ import annotations

import errno
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
    """Create ``path`` and any missing parents, each only its owner can enter (0700).

    Folders that already exist keep their mode: Synergia changes the mode only of what it
    creates (a database pointed at ``/tmp/x.db`` must not close ``/tmp`` to everyone else).
    """
    missing: list[Path] = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            continue  # created meanwhile by someone else: theirs, left alone
        os.chmod(folder, 0o700)  # the umask may have taken bits away from the owner
    if not path.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path))
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty if missing, readable and writable by its owner only (0600).

    An existing file is left as it is: its mode, and whether it can be written at all.
    """
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path)) from None
        return path
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
