"""Settings: where values come from, and how a bad one is reported by the real command."""

from __future__ import annotations

from pathlib import Path

import pytest

from synergia_tui.core.config import load_settings
from synergia_tui.core.errors import ConfigError
from tests.support import ISOLATED_VARS, Result, run_steps, run_synergia


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory (where a .env would be read from)."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


def _config_toml(isolated_env: Path, body: str) -> Path:
    path = isolated_env / "config" / "synergia" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    return path


def test_defaults_use_the_embedded_database_in_the_xdg_data_dir(workdir, isolated_env):
    settings = load_settings()
    assert settings.database_url.get_backend_name() == "sqlite"
    assert settings.sqlite_path == isolated_env / "data" / "synergia" / "synergia.db"
    assert (settings.environment, settings.log_level, settings.postgres_port) == (
        "local",
        "INFO",
        5432,
    )


def test_environment_beats_dotenv_beats_config_toml_beats_defaults(
    workdir, isolated_env, monkeypatch
):
    _config_toml(
        isolated_env,
        'postgres_db = "from_toml"\npostgres_user = "from_toml"\npostgres_port = 6001\n'
        'log_level = "ERROR"\n',
    )
    (workdir / ".env").write_text("POSTGRES_USER=from_dotenv\nPOSTGRES_PORT=6002\n")
    monkeypatch.setenv("POSTGRES_PORT", "6003")
    settings = load_settings()
    assert settings.postgres_port == 6003  # environment
    assert settings.postgres_user == "from_dotenv"  # .env over config.toml
    assert settings.postgres_db == "from_toml"  # config.toml over the default
    assert settings.log_level == "ERROR"
    assert settings.environment == "local"  # default


def test_postgres_settings_build_a_server_url(workdir, monkeypatch):
    monkeypatch.setenv("POSTGRES_SERVER", "db.example")
    monkeypatch.setenv("POSTGRES_PASSWORD", "s3cret")
    settings = load_settings()
    assert settings.database_url.get_backend_name() == "postgresql"
    assert settings.database_url.password == "s3cret"
    assert "s3cret" not in settings.display_url
    assert "s3cret" in settings.secrets()


def test_the_database_url_overrides_every_postgres_setting(workdir, monkeypatch, tmp_path):
    monkeypatch.setenv("POSTGRES_SERVER", "db.example")
    monkeypatch.setenv("SYNERGIA_DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    assert load_settings().database_url.get_backend_name() == "sqlite"
    monkeypatch.setenv("SYNERGIA_DATABASE_URL", "postgresql://u:pw@h:1/d")
    assert load_settings().database_url.drivername == "postgresql+psycopg"


# name -> (environment, config.toml, .env, text the one stderr line must contain)
BAD_VALUES = {
    "port not a number": ({"POSTGRES_PORT": "abc"}, None, None, "POSTGRES_PORT"),
    "port out of range": ({"POSTGRES_PORT": "70000"}, None, None, "POSTGRES_PORT"),
    "unknown environment": ({"ENVIRONMENT": "moon"}, None, None, "ENVIRONMENT"),
    "bad log level": ({"LOG_LEVEL": "LOUD"}, None, None, "LOG_LEVEL"),
    "unparseable url": (
        {"SYNERGIA_DATABASE_URL": "not a url at all"},
        None,
        None,
        "SYNERGIA_DATABASE_URL",
    ),
    "unsupported url": ({"SYNERGIA_DATABASE_URL": "mysql://u@h/d"}, None, None, "mysql"),
    "broken config.toml": ({}, "postgres_port = [this is not toml", None, "config.toml"),
    "bad port in config.toml": ({}, 'postgres_port = "abc"\n', None, "POSTGRES_PORT"),
    "bad level in .env": ({}, None, "LOG_LEVEL=chatty\n", "LOG_LEVEL"),
}


def _xdg(home: Path) -> dict[str, str | None]:
    return {
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_STATE_HOME": str(home / "state"),
    }


@pytest.fixture(scope="module")
def bad_value_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Result]:
    """`synergia health` once per bad value, all in one interpreter (each start costs a second)."""
    steps = []
    for env, toml, dotenv, _ in BAD_VALUES.values():
        home = tmp_path_factory.mktemp("bad")
        cwd = home / "cwd"
        cwd.mkdir()
        if toml is not None:
            _config_toml(home, toml)
        if dotenv is not None:
            (cwd / ".env").write_text(dotenv)
        clean: dict[str, str | None] = dict.fromkeys(ISOLATED_VARS)
        steps.append((["health"], {**clean, **_xdg(home), **env}, cwd))
    return dict(zip(BAD_VALUES, run_steps(steps), strict=True))


def test_the_installed_command_exits_2_on_a_bad_setting(workdir):
    result = run_synergia("health", cwd=workdir, POSTGRES_PORT="abc")
    assert result.returncode == 2
    assert result.stderr.startswith("synergia: POSTGRES_PORT: ")
    assert len(result.stderr.splitlines()) == 1
    assert result.stdout == ""


@pytest.mark.parametrize("case", list(BAD_VALUES))
def test_a_bad_setting_exits_2_with_one_line_naming_it(bad_value_runs, case):
    returncode, stdout, stderr = bad_value_runs[case]
    named = BAD_VALUES[case][3]
    assert returncode == 2, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("synergia: ")
    assert named in lines[0]
    assert "Traceback" not in stderr
    assert stdout == ""


def test_a_bad_password_is_never_echoed_back(workdir, monkeypatch):
    monkeypatch.setenv("POSTGRES_PASSWORD", "hunter2-secret")
    monkeypatch.setenv("POSTGRES_PORT", "nope")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "POSTGRES_PORT" in str(caught.value)
    assert "hunter2" not in str(caught.value)
