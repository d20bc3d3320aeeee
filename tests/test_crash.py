"""The one line a crash leaves on the terminal, and what it counts as a secret."""

from __future__ import annotations

import logging

from synergia_tui.core.crash import environment_secrets, report_crash


def _raised(error: Exception) -> Exception:
    try:
        raise error
    except Exception as caught:
        return caught


def test_the_crash_line_is_one_neutralized_line_naming_the_log(isolated_env, caplog):
    error = _raised(ValueError("bad\x1b[2J value\nsecond line"))
    with caplog.at_level(logging.ERROR):
        line = report_crash(error)
    assert "\n" not in line and "\x1b" not in line
    assert line.startswith("synergia: unexpected error (ValueError: bad␛[2J value second line);")
    assert line.endswith("synergia.log")
    assert caplog.records[-1].exc_info[1] is error  # the traceback goes to the log


def test_a_long_message_is_cut_short(isolated_env):
    line = report_crash(_raised(RuntimeError("x" * 5000)))
    assert len(line) < 400 and "…" in line


def test_passwords_keys_and_url_passwords_in_the_environment_are_secrets():
    found = environment_secrets(
        {
            "POSTGRES_PASSWORD": "pg-secret-1",
            "OPENAI_API_KEY": "sk-abcdefgh",
            "SYNERGIA_DATABASE_URL": "postgresql://u:p%40ss-word@h/db",
            "HOME": "/home/alice",
            "GH_TOKEN": "abc",  # too short to mask without masking everything
        }
    )
    assert {"pg-secret-1", "sk-abcdefgh", "p%40ss-word", "p@ss-word"} <= set(found)
    assert "/home/alice" not in found and "abc" not in found
