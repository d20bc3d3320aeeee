"""The settings read with the standard library only, so the TUI can vouch for them before it paints.

``Settings`` (pydantic-settings, ``core.config``) stays the source of truth, but importing it takes
most of a second, which the first frame must not wait for; nor may a bad value show up only after
the terminal has switched screens. So the launcher first reads the same sources (environment >
``.env`` in the working directory > the user's ``config.toml``) here and checks every rule a user
can break: types, the port's range, the allowed values, the database URL's form and backend, a
``config.toml`` that cannot be read or parsed. Whenever this finds something wrong, or something it
cannot judge, the launcher loads ``Settings`` before any paint and lets pydantic say what is wrong
in its own words. ``tests/test_config_check.py`` holds the two to the same verdicts.
"""

from __future__ import annotations

import getpass
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from synergia_tui.core import paths

TEXT_FIELDS = (
    "synergia_database_url",
    "postgres_server",
    "postgres_user",
    "postgres_password",
    "postgres_db",
    "synergia_sqlite_path",
    "synergia_default_preset",
)
FIELDS = (*TEXT_FIELDS, "postgres_port", "environment", "log_level", "synergia_user")
"""Every field of ``Settings``, by the name used in the environment, ``.env`` and ``config.toml``."""
ENVIRONMENTS = ("local", "staging", "production", "test")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
PORT_RANGE = (1, 65535)
PRESET_NAME_LENGTH = 100
BACKENDS = ("postgresql", "postgres", "sqlite")

# pydantic's reading of a string as an int: surrounding whitespace, a sign, digits with single
# underscores between them, and a fraction of zeros only.
_INT_TEXT = re.compile(r"[+-]?[0-9]+(?:_[0-9]+)*(?:\.0+)?")
# SQLAlchemy's make_url pattern (sqlalchemy.engine.url._parse_url), verbatim.
_URL = re.compile(
    r"""
        (?P<name>[\w\+]+)://
        (?:
            (?P<username>[^:/]*)
            (?::(?P<password>[^@]*))?
        @)?
        (?:
            (?:
                \[(?P<ipv6host>[^/\?]+)\] |
                (?P<ipv4host>[^/:\?]+)
            )?
            (?::(?P<port>[^/\?]*))?
        )?
        (?:/(?P<database>[^\?]*))?
        (?:\?(?P<query>.*))?
        """,
    re.X,
)


def login_name() -> str:
    """The default owner of chats: the OS login name."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        # No passwd entry (some containers): still give every chat an owner.
        return "user"


@dataclass(frozen=True)
class QuickSettings:
    """The raw values of the settings (by field name, the winning source's), and a verdict."""

    values: Mapping[str, object]
    problem: str | None
    """What looks wrong, or what this reading cannot judge; None when every rule holds."""

    @property
    def user(self) -> str:
        """``Settings.synergia_user``."""
        user = self.values.get("synergia_user")
        return user if isinstance(user, str) else login_name()

    @property
    def sqlite_file(self) -> Path | None:
        """The SQLite file ``Settings.database_url`` points at; None for PostgreSQL, an in-memory
        database, or a URL with options (left to SQLAlchemy to read)."""
        url = self.values.get("synergia_database_url")
        if isinstance(url, str):
            match = _URL.match(url.strip())
            if match is None or _backend(match) != "sqlite" or match["query"] is not None:
                return None
            database = match["database"]
            return None if database in (None, "", ":memory:") else Path(database)
        if self.values.get("postgres_server"):
            return None
        path = self.values.get("synergia_sqlite_path")
        return Path(path) if isinstance(path, str) else paths.data_dir() / "synergia.db"


def quick_settings(environ: Mapping[str, str] | None = None) -> QuickSettings:
    """Read the settings' sources and check them; never raises."""
    environ = os.environ if environ is None else environ
    values: dict[str, object] = {}
    try:
        values.update(_config_toml())
    except (OSError, ValueError) as exc:  # unreadable, not UTF-8, or not TOML
        return QuickSettings(values, f"config.toml: {exc}")
    dotenv = Path(".env")
    if dotenv.is_fifo():
        # A pipe can be read once: leave it to Settings.
        return QuickSettings(values, ".env is a pipe")
    if dotenv.is_file():
        try:
            values.update(_dotenv(dotenv))
        except (OSError, ValueError) as exc:
            return QuickSettings(values, f".env: {exc}")
    values.update(_fields(environ))
    return QuickSettings(values, problem(values))


def problem(values: Mapping[str, object]) -> str | None:
    """The first rule of ``Settings`` that ``values`` (raw, by field name) break, else None."""
    for name, value in values.items():
        if name in TEXT_FIELDS and not isinstance(value, str):
            return f"{name} is not text"
    port = values.get("postgres_port")
    if port is not None and not _valid_port(port):
        return "postgres_port is not a port number"
    environment = values.get("environment")
    if environment is not None and (
        not isinstance(environment, str) or environment.lower() not in ENVIRONMENTS
    ):
        return "environment is not one of the allowed values"
    level = values.get("log_level")
    if level is not None and (not isinstance(level, str) or level.upper() not in LOG_LEVELS):
        return "log_level is not a log level"
    user = values.get("synergia_user")
    if user is not None and (not isinstance(user, str) or not user):
        return "synergia_user is empty or not text"
    preset = values.get("synergia_default_preset")
    if isinstance(preset, str):
        name = preset.strip()
        if not name.isprintable() or len(name) > PRESET_NAME_LENGTH:
            return "synergia_default_preset is not a preset name on one line"
    url = values.get("synergia_database_url")
    if isinstance(url, str):
        return _url_problem(url)
    return None


def _fields(source: Mapping[str, object]) -> dict[str, object]:
    """The entries of ``source`` that are settings, by field name (names are case-insensitive)."""
    return {key.lower(): value for key, value in source.items() if key.lower() in FIELDS}


def _config_toml() -> dict[str, object]:
    path = paths.config_dir() / "config.toml"
    if not path.is_file():
        return {}
    import tomllib  # deferred: a few milliseconds, only for users who have a config.toml

    with path.open("rb") as file:
        return _fields(tomllib.load(file))


def _dotenv(path: Path) -> dict[str, object]:
    # python-dotenv is what pydantic-settings reads .env with; deferred, as only a working
    # directory holding a .env needs it (a few milliseconds).
    from dotenv import dotenv_values

    values = dotenv_values(path, encoding="utf-8")
    # A line without "=" reads as None, which pydantic-settings takes for "not set here".
    return _fields({key: value for key, value in values.items() if value is not None})


def _valid_port(value: object) -> bool:
    low, high = PORT_RANGE
    if isinstance(value, bool | int):
        number = int(value)
    elif isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            return False
        number = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if not _INT_TEXT.fullmatch(text):
            return False
        number = int(text.split(".")[0])
    else:
        return False
    return low <= number <= high


def _backend(match: re.Match[str]) -> str:
    return match["name"].split("+")[0]


def _url_problem(raw: str) -> str | None:
    match = _URL.match(raw.strip())
    if match is None:
        return "synergia_database_url cannot be parsed"
    if _backend(match) not in BACKENDS:
        return "synergia_database_url names an unsupported database"
    port = match["port"]
    if port is not None:
        try:
            int(port)
        except ValueError:
            return "synergia_database_url has a bad port"
    return None
