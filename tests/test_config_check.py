"""The quick, standard-library reading of the settings agrees with ``Settings`` (pydantic).

The launcher trusts the quick reading to let the TUI paint before pydantic loads; if the two ever
drift apart, a bad value would again be reported only after the TUI has painted (or a good one
would cost a second at every start). Every case below is judged by both.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from synergia_tui.core.config import load_settings
from synergia_tui.core.config_check import quick_settings
from synergia_tui.core.errors import ConfigError

# name -> (environment, config.toml, .env)
GOOD: dict[str, tuple[dict[str, str], str | bytes | None, str | None]] = {
    "nothing set": ({}, None, None),
    "port as text": ({"POSTGRES_PORT": "6000"}, None, None),
    "port with spaces": ({"POSTGRES_PORT": " 6000 \t"}, None, None),
    "port with underscores": ({"POSTGRES_PORT": "5_432"}, None, None),
    "port with a sign": ({"POSTGRES_PORT": "+5432"}, None, None),
    "port with zero fraction": ({"POSTGRES_PORT": "5432.00"}, None, None),
    "port with leading zeros": ({"POSTGRES_PORT": "05432"}, None, None),
    "lowest port": ({"POSTGRES_PORT": "1"}, None, None),
    "highest port": ({"POSTGRES_PORT": "65535"}, None, None),
    "lower-case variable": ({"postgres_port": "6000"}, None, None),
    "toml port": ({}, "postgres_port = 6001\n", None),
    "toml port as float": ({}, "postgres_port = 6001.0\n", None),
    "toml port as text": ({}, 'postgres_port = "6001"\n', None),
    "toml port true (pydantic reads 1)": ({}, "postgres_port = true\n", None),
    "toml key in mixed case": ({}, "Postgres_Port = 6001\n", None),
    "environment in capitals": ({"ENVIRONMENT": "PRODUCTION"}, None, None),
    "level in lower case": ({"LOG_LEVEL": "debug"}, None, None),
    "toml level": ({}, 'log_level = "warning"\n', None),
    "sqlite url": ({"SYNERGIA_DATABASE_URL": "sqlite:///chats.db"}, None, None),
    "absolute sqlite url": ({"SYNERGIA_DATABASE_URL": "sqlite:////tmp/x/chats.db"}, None, None),
    "sqlite url with spaces": ({"SYNERGIA_DATABASE_URL": " sqlite:///c.db "}, None, None),
    "in-memory sqlite url": ({"SYNERGIA_DATABASE_URL": "sqlite://"}, None, None),
    "sqlite url with options": ({"SYNERGIA_DATABASE_URL": "sqlite:///c.db?mode=ro"}, None, None),
    "postgres url": ({"SYNERGIA_DATABASE_URL": "postgresql://u:p@h:5/d"}, None, None),
    "postgres url with driver": (
        {"SYNERGIA_DATABASE_URL": "postgresql+psycopg://u@h/d"},
        None,
        None,
    ),
    "postgres url, old name": ({"SYNERGIA_DATABASE_URL": "postgres://h/d"}, None, None),
    "ipv6 url": ({"SYNERGIA_DATABASE_URL": "postgresql://u@[::1]:5/d"}, None, None),
    "url overrides a server": (
        {"POSTGRES_SERVER": "db.example", "SYNERGIA_DATABASE_URL": "sqlite:///c.db"},
        None,
        None,
    ),
    "server": ({"POSTGRES_SERVER": "db.example", "POSTGRES_PORT": "6432"}, None, None),
    "empty server means sqlite": ({"POSTGRES_SERVER": ""}, None, None),
    "sqlite path": ({"SYNERGIA_SQLITE_PATH": "/tmp/x/s.db"}, None, None),
    "toml sqlite path": ({}, 'synergia_sqlite_path = "rel/s.db"\n', None),
    "user": ({"SYNERGIA_USER": "bob"}, None, None),
    "blank user": ({"SYNERGIA_USER": " "}, None, None),
    "toml user": ({}, 'synergia_user = "carol"\n', None),
    "default preset": ({"SYNERGIA_DEFAULT_PRESET": " code review "}, None, None),
    "empty default preset": ({"SYNERGIA_DEFAULT_PRESET": ""}, None, None),
    "toml default preset": ({}, 'synergia_default_preset = "terse"\n', None),
    "a keymap table and unknown keys": ({}, '[keymap]\n"app.quit" = "ctrl+x"\nfoo = 1\n', None),
    "env beats a bad toml value": ({"POSTGRES_PORT": "5432"}, 'postgres_port = "abc"\n', None),
    "dotenv beats a bad toml value": ({}, 'postgres_port = "abc"\n', "POSTGRES_PORT=6002\n"),
    "dotenv with quotes and export": (
        {},
        None,
        "# comment\nexport POSTGRES_USER=\"dot env\"\nLOG_LEVEL='error'\nOTHER=1\n",
    ),
    "dotenv user": ({}, None, "SYNERGIA_USER=dave\n"),
    "dotenv name without a value": ({}, "postgres_port = 6001\n", "POSTGRES_PORT\nLOG_LEVEL\n"),
}
BAD: dict[str, tuple[dict[str, str], str | bytes | None, str | None]] = {
    "port not a number": ({"POSTGRES_PORT": "abc"}, None, None),
    "empty port": ({"POSTGRES_PORT": ""}, None, None),
    "port zero": ({"POSTGRES_PORT": "0"}, None, None),
    "negative port": ({"POSTGRES_PORT": "-1"}, None, None),
    "port too high": ({"POSTGRES_PORT": "65536"}, None, None),
    "port far too high": ({"POSTGRES_PORT": "99999"}, None, None),
    "hex port": ({"POSTGRES_PORT": "0x10"}, None, None),
    "exponent port": ({"POSTGRES_PORT": "1e3"}, None, None),
    "fractional port": ({"POSTGRES_PORT": "5432.5"}, None, None),
    "port with a bare point": ({"POSTGRES_PORT": "5432."}, None, None),
    "port with double underscore": ({"POSTGRES_PORT": "5__432"}, None, None),
    "port in arabic digits": ({"POSTGRES_PORT": "٥٤٣٢"}, None, None),
    "port true as text": ({"POSTGRES_PORT": "true"}, None, None),
    "lower-case variable, bad": ({"postgres_port": "abc"}, None, None),
    "toml port as bad text": ({}, 'postgres_port = "abc"\n', None),
    "toml port fractional": ({}, "postgres_port = 5432.5\n", None),
    "toml port false (reads 0)": ({}, "postgres_port = false\n", None),
    "toml port too high": ({}, "postgres_port = 99999\n", None),
    "toml port a date": ({}, "postgres_port = 1979-05-27\n", None),
    "toml port a list": ({}, "postgres_port = [5432]\n", None),
    "toml port a table": ({}, "postgres_port = { a = 1 }\n", None),
    "toml port infinite": ({}, "postgres_port = inf\n", None),
    "unknown environment": ({"ENVIRONMENT": "moon"}, None, None),
    "toml environment a number": ({}, "environment = 5\n", None),
    "bad log level": ({"LOG_LEVEL": "LOUD"}, None, None),
    "log level with a space": ({"LOG_LEVEL": " info"}, None, None),
    "empty user": ({"SYNERGIA_USER": ""}, None, None),
    "toml user a number": ({}, "synergia_user = 5\n", None),
    "toml user empty": ({}, 'synergia_user = ""\n', None),
    "toml postgres user a number": ({}, "postgres_user = 5\n", None),
    "toml server a boolean": ({}, "postgres_server = true\n", None),
    "toml sqlite path a number": ({}, "synergia_sqlite_path = 5\n", None),
    "toml password a number": ({}, "postgres_password = 5\n", None),
    "toml url a number": ({}, "synergia_database_url = 5\n", None),
    "default preset on two lines": ({}, 'synergia_default_preset = "a\\nb"\n', None),
    "default preset too long": ({"SYNERGIA_DEFAULT_PRESET": "x" * 101}, None, None),
    "toml default preset a number": ({}, "synergia_default_preset = 5\n", None),
    "empty url": ({"SYNERGIA_DATABASE_URL": ""}, None, None),
    "not a url": ({"SYNERGIA_DATABASE_URL": "not a url at all"}, None, None),
    "unsupported backend": ({"SYNERGIA_DATABASE_URL": "mysql://u@h/d"}, None, None),
    "backend in capitals": ({"SYNERGIA_DATABASE_URL": "SQLITE:///x.db"}, None, None),
    "url with a bad port": ({"SYNERGIA_DATABASE_URL": "postgres://u@h:abc/d"}, None, None),
    "url with an empty port": ({"SYNERGIA_DATABASE_URL": "postgresql://u@h:/d"}, None, None),
    "url scheme with a dash": ({"SYNERGIA_DATABASE_URL": "foo-bar://x"}, None, None),
    "toml url unsupported": ({}, 'synergia_database_url = "mysql://x"\n', None),
    "broken toml": ({}, "postgres_port = [this is not toml", None),
    "toml not utf-8": ({}, b'postgres_user = "\xff"\n', None),
    "bad level in .env": ({}, None, "LOG_LEVEL=chatty\n"),
    "dotenv port over a good toml": ({}, "postgres_port = 5432\n", "POSTGRES_PORT=abc\n"),
    "env beats a good dotenv": ({"POSTGRES_PORT": "abc"}, None, "POSTGRES_PORT=6002\n"),
}


@pytest.fixture
def configure(tmp_path: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch):
    """Set up one case: its environment, its config.toml and its .env (working directory)."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)

    def apply(env: dict[str, str], toml: str | bytes | None, dotenv: str | None) -> None:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        if toml is not None:
            path = isolated_env / "config" / "synergia" / "config.toml"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(toml if isinstance(toml, bytes) else toml.encode())
        if dotenv is not None:
            (cwd / ".env").write_text(dotenv)

    return apply


@pytest.mark.parametrize("case", list(GOOD))
def test_a_good_setting_is_vouched_for_and_read_the_same_way(configure, case):
    configure(*GOOD[case])
    settings = load_settings()  # the source of truth accepts it
    quick = quick_settings()
    assert quick.problem is None
    assert quick.user == settings.synergia_user
    url = settings.database_url
    expected = None
    if url.get_backend_name() == "sqlite" and not url.query and url.database not in (None, ""):
        expected = Path(url.database) if url.database != ":memory:" else None
    assert quick.sqlite_file == expected


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_setting_is_caught_by_both(configure, case):
    configure(*BAD[case])
    with pytest.raises(ConfigError):
        load_settings()
    assert quick_settings().problem is not None


def test_a_dotenv_pipe_is_left_to_settings(configure):
    import os

    configure({}, None, None)
    os.mkfifo(".env")
    assert quick_settings().problem == ".env is a pipe"
