"""The `synergia` command line, through its real entry point."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text, update
from sqlalchemy.engine import URL
from sqlmodel import col

from synergia_tui.bootstrap import build
from synergia_tui.core import migrations
from synergia_tui.models import AIModel, Chat, ChatRead, Message
from tests.conftest import settings_for
from tests.support import add_model, run_commands, run_python, run_steps, run_synergia, url_text

HEAD = migrations.head_revision()
# The columns of the `models` table in the design (§3), which `models list --json` reports.
MODEL_COLUMNS = {
    "id",
    "name",
    "provider",
    "api_model",
    "base_url",
    "api_key_env",
    "price_per_million_tokens",
    "output_price_per_million_tokens",
    "context_window",
    "max_output_tokens",
    "is_enabled",
    "is_deleted",
    "created_at",
    "updated_at",
}


@pytest.fixture
def sqlite_url(tmp_path: Path) -> URL:
    return URL.create("sqlite+pysqlite", database=str(tmp_path / "cli" / "synergia.db"))


def test_version_answers_without_loading_the_database_or_ui_stack(tmp_path):
    result = run_synergia("--version", cwd=tmp_path)
    assert (result.returncode, result.stdout.strip(), result.stderr) == (0, "synergia 0.1.0", "")

    probe = run_python(
        "import sys\n"
        "from synergia_tui.main import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('textual', 'sqlalchemy', 'sqlmodel', 'alembic', 'rich',"
        " 'openai', 'anthropic', 'pydantic') if m in sys.modules)\n"
        "print(heavy, file=sys.stderr)\n",
        cwd=tmp_path,
    )
    assert probe.stdout.strip() == "synergia 0.1.0"
    assert probe.stderr.strip() == "[]"


def test_a_usage_error_exits_2_with_one_line(tmp_path):
    result = run_synergia("models", "frobnicate", cwd=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_db_commands_migrate_show_and_reset_the_schema(sqlite_url, tmp_path):
    upgrade = run_synergia(
        "db", "upgrade", SYNERGIA_DATABASE_URL=url_text(sqlite_url), cwd=tmp_path
    )
    assert (upgrade.returncode, upgrade.stdout.strip(), upgrade.stderr) == (
        0,
        f"database at {HEAD}",
        "",
    )
    current, history, down, after_down, refused, reset, after_reset = run_commands(
        sqlite_url,
        ["db", "current"],
        ["db", "history"],
        ["db", "downgrade", "base"],
        ["db", "current"],
        ["db", "reset"],
        ["db", "reset", "--yes"],
        ["db", "current"],
    )
    assert current == (0, f"{HEAD} (head)\n", "")
    assert history.returncode == 0
    assert history.stdout.startswith(f"{HEAD} (head)")
    assert down == (0, "database at (empty)\n", "")
    assert after_down.stdout == f"(empty) (head is {HEAD})\n"
    assert refused.returncode == 2
    assert "--yes" in refused.stderr
    assert reset == (0, f"database reset to {HEAD}\n", "")
    assert after_reset.stdout == f"{HEAD} (head)\n"


@pytest.mark.parametrize("backend", ["postgresql"])
def test_db_upgrade_migrates_a_server_database(empty_db_url):
    (refused,) = run_commands(empty_db_url, ["models", "list"])
    # The schema is the database owner's to migrate (a user's role may not).
    upgrade, current = run_commands(empty_db_url, ["db", "upgrade"], ["db", "current"], user=None)
    assert refused.returncode == 1
    assert "synergia db upgrade" in refused.stderr
    assert (upgrade.returncode, upgrade.stderr) == (0, "")
    assert current.stdout == f"{HEAD} (head)\n"


def test_models_can_be_managed_from_the_command_line(sqlite_url):
    add = ["models", "add", "gpt", "--provider", "openai", "--model", "gpt-4o-mini"]
    results = run_commands(
        sqlite_url,
        [*add, "--price", "0.15", "--output-price", "0.6", "--api-key-env", "OPENAI_API_KEY"],
        [*add],
        ["models", "add", "cheap", "--provider", "openai", "--model", "m", "--price", "-1"],
        ["models", "add", "odd", "--provider", "openia", "--model", "m"],
        ["models", "edit", "gpt", "--price", "0.2", "--name", "gpt-mini"],
        ["models", "disable", "gpt-mini"],
        ["models", "list", "--json"],
        ["models", "enable", "gpt-mini"],
        ["models", "list"],
        ["models", "rm", "gpt-mini"],
        ["models", "list", "--json"],
        ["models", "rm", "gpt-mini"],
    )
    (
        added,
        duplicate,
        negative,
        unknown,
        edited,
        disabled,
        listed,
        enabled,
        table,
        rm,
        empty,
        gone,
    ) = results
    assert added == (0, "added gpt (openai gpt-4o-mini)\n", "")
    assert duplicate[0] == 1 and duplicate[2] == "synergia: Model 'gpt' already exists\n"
    assert negative[0] == 1 and "Price must not be negative" in negative[2]
    assert unknown[0] == 1 and "Unknown provider 'openia'" in unknown[2]
    assert edited == (0, "updated gpt-mini\n", "")
    assert disabled == (0, "disabled gpt-mini\n", "")
    rows = json.loads(listed[1])
    assert len(rows) == 1
    assert set(rows[0]) == MODEL_COLUMNS == set(AIModel.model_fields)
    # The same exact text on SQLite and PostgreSQL: stable, machine-readable output.
    assert rows[0]["price_per_million_tokens"] == "0.200000"
    assert rows[0]["output_price_per_million_tokens"] == "0.600000"
    assert rows[0]["api_key_env"] == "OPENAI_API_KEY"
    assert rows[0]["is_enabled"] is False
    assert enabled == (0, "enabled gpt-mini\n", "")
    header, line = table[1].splitlines()
    assert header.split() == [
        *("NAME", "PROVIDER", "MODEL", "IN", "$/M", "OUT", "$/M", "MAX", "OUT", "ENABLED")
    ]
    assert line.split()[0] == "gpt-mini" and line.split()[-1] == "yes"
    assert rm == (0, "removed gpt-mini\n", "")
    assert json.loads(empty[1]) == []
    assert gone[0] == 1 and "not found" in gone[2]


def test_models_take_a_max_output_tokens_cap(sqlite_url):
    add = ["models", "add", "claude", "--provider", "anthropic", "--model", "claude-x"]
    results = run_commands(
        sqlite_url,
        [*add, "--max-output-tokens", "8192"],
        ["models", "add", "plain", "--provider", "openai", "--model", "m"],
        ["models", "list"],
        ["models", "edit", "claude", "--max-output-tokens", "1000"],
        ["models", "list", "--json"],
        ["models", "edit", "claude", "--max-output-tokens", "0"],
        ["models", "edit", "claude", "--max-output-tokens", "lots"],
        ["models", "list", "--json"],
    )
    added, _, table, edited, listed, zero, words, unchanged = results

    assert added[0] == 0
    rows = {line.split()[0]: line.split() for line in table[1].splitlines()[1:]}
    assert rows["claude"][-2:] == ["8192", "yes"]
    assert rows["plain"][-2:] == ["-", "yes"]  # no cap of its own: the provider's default
    assert edited == (0, "updated claude\n", "")
    caps = {row["name"]: row["max_output_tokens"] for row in json.loads(listed[1])}
    assert caps == {"claude": 1000, "plain": None}
    assert zero[0] == 1
    assert zero[2] == "synergia: Max output tokens must be a positive number of tokens\n"
    assert words[0] == 2 and "--max-output-tokens: invalid int value: 'lots'" in words[2]
    caps = {row["name"]: row["max_output_tokens"] for row in json.loads(unchanged[1])}
    assert caps["claude"] == 1000


def test_chats_can_be_listed_and_exported(sqlite_url):
    container = build(settings_for(sqlite_url))
    container.ensure_schema()
    model = add_model(container, "gpt", price="0.15", output_price="0.60")
    chat = container.chats.create_chat(model_id=model.id, system_prompt="Be brief.")
    container.messages.add_user_message(chat.id, "What is 2+2?")
    reply = container.messages.start_reply(chat.id, model.id)
    container.messages.finish_reply(
        reply.id, content="**4**", prompt_tokens=1234, completion_tokens=567
    )
    container.chats.create_chat(title="Empty one")
    container.close()

    listed, as_json, as_md, unknown = run_commands(
        sqlite_url,
        ["chats", "list", "--json"],
        ["chats", "export", str(chat.id), "--format", "json"],
        ["chats", "export", str(chat.id), "--format", "md"],
        ["chats", "export", "not-an-id"],
    )
    chats = json.loads(listed[1])
    assert [c["title"] for c in chats] == ["Empty one", "What is 2+2?"]
    assert set(chats[0]) == set(ChatRead.model_fields)

    export = json.loads(as_json[1])
    assert set(export["chat"]) == set(ChatRead.model_fields)
    assert export["chat"]["system_prompt"] == "Be brief."
    assert [m["role"] for m in export["messages"]] == ["user", "assistant"]
    prompt_id = export["messages"][0]["id"]
    assert [m["parent_id"] for m in export["messages"]] == [None, prompt_id]
    assert export["current_leaf"] == export["messages"][1]["id"]
    for message in export["messages"]:
        # Every stored field but the lease, which only says which process streamed the reply,
        # and when a branch was last chosen.
        internal = {"lease_owner", "lease_expires_at", "chosen_at"}
        assert set(message) == set(Message.model_fields) - internal | {"model_name"}
    assert export["messages"][1]["cost"] == "0.000525300000"
    assert export["messages"][1]["model_name"] == "gpt"

    markdown = as_md[1]
    assert markdown.startswith("# What is 2+2?\n")
    assert "---\n\n**user** · " in markdown and "---\n\n**assistant** (gpt) · " in markdown
    assert "What is 2+2?" in markdown and "**4**" in markdown
    assert unknown[0] == 1 and "not a chat id" in unknown[2]


def test_cli_commands_write_nothing_but_their_output(sqlite_url, isolated_env):
    results = run_commands(
        sqlite_url,
        ["models", "add", "gpt", "--provider", "openai", "--model", "gpt-4o-mini"],
        ["models", "list"],
        ["chats", "list"],
        ["db", "current"],
    )
    assert all(code == 0 and err == "" for code, _, err in results)
    assert (isolated_env / "state" / "synergia" / "synergia.log").exists()


def test_an_exported_cost_keeps_every_decimal(sqlite_url):
    container = build(settings_for(sqlite_url))
    container.ensure_schema()
    model = add_model(container, "tiny", price="0.000001")
    chat = container.chats.create_chat(model_id=model.id)
    reply = container.messages.start_reply(chat.id, model.id)
    container.messages.finish_reply(reply.id, content="x", prompt_tokens=1, completion_tokens=0)
    container.close()
    (exported,) = run_commands(sqlite_url, ["chats", "export", str(chat.id), "--format", "json"])
    assert Decimal(json.loads(exported[1])["messages"][0]["cost"]) == Decimal("1e-12")


def test_commands_refuse_a_schema_newer_than_this_synergia(sqlite_url):
    container = build(settings_for(sqlite_url))
    container.ensure_schema()
    with container.db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00dcafe'"))
    container.close()
    results = run_commands(
        sqlite_url, ["db", "upgrade"], ["db", "reset", "--yes"], ["models", "list"]
    )
    for result in results:
        assert result.returncode == 1
        assert "f00dcafe" in result.stderr and "newer Synergia" in result.stderr
        assert len(result.stderr.splitlines()) == 1
    (current,) = run_commands(sqlite_url, ["db", "current"])
    assert current.stdout.startswith("f00dcafe")


def test_an_unusable_database_path_or_log_dir_is_one_line_not_a_traceback(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    bad_db = {"SYNERGIA_DATABASE_URL": f"sqlite:///{blocker}/synergia.db"}
    bad_log = {"XDG_STATE_HOME": str(blocker / "state")}
    db_result, log_result = run_steps(
        [(["models", "list"], bad_db, tmp_path), (["models", "list"], bad_log, tmp_path)]
    )
    assert db_result.returncode == 1
    assert db_result.stderr.startswith("synergia: Cannot create the database file")
    assert log_result.returncode == 2
    assert log_result.stderr.startswith("synergia: cannot open the log file")
    for result in (db_result, log_result):
        assert len(result.stderr.splitlines()) == 1
        assert "Traceback" not in result.stderr


def test_chats_export_takes_a_unique_prefix_of_the_id(db_url):
    container = build(settings_for(db_url))
    first = container.chats.create_chat(title="first")
    second = container.chats.create_chat(title="second")
    container.close()
    # Two ids that share their first eight digits, and differ in the ninth.
    shared = "455bbf0e"
    ids = {
        first.id: f"{shared}-1111-4111-8111-111111111111",
        second.id: f"{shared}-2222-4222-8222-222222222222",
    }
    engine = build(settings_for(db_url)).db.engine
    with engine.begin() as conn:
        for old, new in ids.items():
            conn.execute(update(Chat).where(col(Chat.id) == old).values(id=uuid.UUID(new)))
    engine.dispose()

    by_prefix, dashed, ambiguous, unknown, too_short = run_commands(
        db_url,
        ["chats", "export", f"{shared}1", "--format", "json"],
        ["chats", "export", f"{shared}-2222", "--format", "json"],
        ["chats", "export", shared],
        ["chats", "export", "ffff0000"],
        ["chats", "export", "45"],
    )
    assert by_prefix.returncode == 0, by_prefix.stderr
    assert json.loads(by_prefix.stdout)["chat"]["title"] == "first"
    assert json.loads(dashed.stdout)["chat"]["title"] == "second"
    for result, words in (
        (ambiguous, "Several chats' ids start with 455bbf0e: give more digits"),
        (unknown, "No chat id starts with ffff0000"),
        (too_short, "is not a chat id (give at least 4 of its hex digits)"),
    ):
        assert result.returncode == 1
        assert len(result.stderr.splitlines()) == 1
        assert words in result.stderr


def test_a_usage_error_quoting_escape_sequences_shows_them_inert(tmp_path):
    result = run_synergia("health", "--x\x1b[2J\x1b]0;t\x07", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "synergia: unrecognized arguments: --x␛[2J␛]0;t␇ (see `synergia --help`)"
    ]
