"""Settings: environment > ``.env`` > user ``config.toml`` > defaults (pydantic-settings)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pydantic
from pydantic import Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from synergia_tui.core import paths
from synergia_tui.core.config_check import login_name
from synergia_tui.core.errors import ConfigError

PRESET_NAME_LENGTH = 100  # as models.preset (core is below models)

if TYPE_CHECKING:
    from sqlalchemy.engine import URL


class Settings(BaseSettings):
    """Everything Synergia can be configured with. Field names are the environment variables."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        validate_default=True,
    )

    synergia_database_url: SecretStr | None = None
    """A full SQLAlchemy URL; overrides every POSTGRES_* setting."""

    postgres_server: str | None = None
    """PostgreSQL host; when set (and no SYNERGIA_DATABASE_URL), PostgreSQL is used."""

    postgres_port: int = Field(default=5432, ge=1, le=65535)
    """PostgreSQL port."""

    postgres_user: str = "postgres"
    """PostgreSQL role."""

    postgres_password: SecretStr = SecretStr("")
    """PostgreSQL password; never shown, logged or stored."""

    postgres_db: str = "synergia"
    """PostgreSQL database name."""

    environment: Literal["local", "staging", "production", "test"] = "local"
    """Deployment environment, kept from the original backend."""

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    """Level of the log file."""

    synergia_user: str = Field(default_factory=login_name, min_length=1)
    """Owner of the chats created and shown; defaults to the OS login name."""

    synergia_sqlite_path: Path | None = None
    """Where the embedded database lives; defaults to $XDG_DATA_HOME/synergia/synergia.db."""

    synergia_default_preset: str | None = None
    """Name of the system-prompt preset a new chat starts with (``synergia prompts`` lists them)."""

    @pydantic.field_validator("synergia_default_preset", mode="before")
    @classmethod
    def _preset_name(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        name = value.strip()
        if any(not ch.isprintable() for ch in name):
            raise ValueError("must be a preset's name, on one line")
        if len(name) > PRESET_NAME_LENGTH:
            raise ValueError(f"is longer than {PRESET_NAME_LENGTH} characters")
        return name or None

    @pydantic.field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @pydantic.field_validator("environment", mode="before")
    @classmethod
    def _lower_environment(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=paths.config_dir() / "config.toml")
        return (init_settings, env_settings, dotenv_settings, toml)

    # -- derived values ---------------------------------------------------------------------

    @property
    def sqlite_path(self) -> Path:
        """The embedded database file used when no server is configured."""
        return self.synergia_sqlite_path or paths.data_dir() / "synergia.db"

    @property
    def database_url(self) -> URL:
        """The URL to connect to, with the real password (never print it: use ``display_url``)."""
        from sqlalchemy.engine import URL  # deferred: SQLAlchemy is slow to import (start-up time)

        if self.synergia_database_url is not None:
            return parse_database_url(self.synergia_database_url.get_secret_value())
        if self.postgres_server:
            return URL.create(
                "postgresql+psycopg",
                username=self.postgres_user,
                password=self.postgres_password.get_secret_value() or None,
                host=self.postgres_server,
                port=self.postgres_port,
                database=self.postgres_db,
            )
        return URL.create("sqlite+pysqlite", database=str(self.sqlite_path))

    @property
    def owner(self) -> str:
        """Whose chats are shown and created. On SQLite, ``SYNERGIA_USER`` (the OS login name by
        default). On PostgreSQL, the role the connection logs in as, which is ``current_user``
        there: row-level security holds every session to it (see ``core/team.py``), and
        ``SYNERGIA_USER`` is not asked."""
        url = self.database_url
        if url.get_backend_name() != "postgresql":
            return self.synergia_user
        return url.username or os.environ.get("PGUSER") or login_name()

    @property
    def display_url(self) -> str:
        """The database URL with its password masked."""
        return self.database_url.render_as_string(hide_password=True)

    @property
    def is_default_database(self) -> bool:
        """True when Synergia owns the database (the embedded SQLite file)."""
        return self.database_url.get_backend_name() == "sqlite"

    def secrets(self) -> list[str]:
        """Secret values that must never reach a log line."""
        values = [self.postgres_password.get_secret_value()]
        if self.synergia_database_url is not None:
            url = parse_database_url(self.synergia_database_url.get_secret_value())
            values.append(url.password or "")
        return [v for v in values if v]


def parse_database_url(raw: str) -> URL:
    """Parse a database URL, choosing psycopg 3 for plain ``postgresql://`` URLs."""
    from sqlalchemy.engine import make_url  # deferred: SQLAlchemy is slow to import
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(raw.strip())
    except ArgumentError:
        raise ConfigError(
            "SYNERGIA_DATABASE_URL: cannot parse the URL "
            "(expected e.g. postgresql://user@host/db or sqlite:///path)"
        ) from None
    backend = url.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        return url.set(drivername="sqlite+pysqlite")
    raise ConfigError(
        f"SYNERGIA_DATABASE_URL: unsupported database {backend!r} (use postgresql or sqlite)"
    )


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning any bad value into a one-line ``ConfigError``."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
        settings.database_url  # noqa: B018 - parse the URL now, so errors surface at start-up
    except pydantic.ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    except tomllib.TOMLDecodeError as exc:
        where = paths.config_dir() / "config.toml"
        raise ConfigError(f"{where}: not valid TOML: {exc}".splitlines()[0]) from None
    except (OSError, ValueError) as exc:  # an unreadable .env or config.toml
        raise ConfigError(f"configuration: {exc}".splitlines()[0]) from None
    return settings


def _describe(exc: pydantic.ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    name = str(error["loc"][0]).upper() if error["loc"] else "configuration"
    value = error.get("input")
    shown = "" if "password" in name.lower() or "url" in name.lower() else f" (got {value!r})"
    message = error["msg"]
    if error["type"] == "literal_error":
        message = message.replace("Input should be", "must be")
    return f"{name}: {message}{shown}"


def environ_flag(name: str) -> bool:
    """True when an environment variable is set to a truthy value."""
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")
