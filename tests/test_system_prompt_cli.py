"""System prompts from the real `synergia` command: `chats system`, `prompts`, `ask --system`."""

# ruff: noqa: F811
from __future__ import annotations

import json

import pytest

from tests.fake_provider_server import Script, fake_provider  # noqa: F401
from tests.support import REPO, as_user, run_commands, run_steps, run_synergia, url_text

KEY = "sk-system-secret-0123456789"


def test_chats_system_shows_sets_takes_a_preset_and_clears(container, db_url):
    chat = container.chats.create_chat(title="plans")
    container.presets.save_preset("terse", "Answer in one sentence.")
    ref = str(chat.id)[:8]
    none, set_, shown, preset, after_preset, cleared, after_clear = run_commands(
        db_url,
        ["chats", "system", ref],
        ["chats", "system", ref, "You are a careful reviewer."],
        ["chats", "system", ref],
        ["chats", "system", ref, "--preset", "terse"],
        ["chats", "system", ref],
        ["chats", "system", ref, "--clear"],
        ["chats", "list", "--json"],
    )
    assert (none.returncode, none.stdout) == (0, "")
    assert none.stderr == "synergia: this chat has no system prompt\n"
    assert set_.returncode == 0
    assert set_.stdout == "set the system prompt of plans (27 characters)\n"
    assert shown.stdout == "You are a careful reviewer.\n"
    assert preset.stdout == "set the system prompt of plans from preset terse (23 characters)\n"
    assert after_preset.stdout == "Answer in one sentence.\n"
    assert cleared.stdout == "cleared the system prompt of plans\n"
    assert json.loads(after_clear.stdout)[0]["system_prompt"] is None
    assert container.chats.get_chat(chat.id).system_prompt is None


def test_chats_system_refuses_an_unknown_preset_and_empty_text_in_one_line(container, db_url):
    chat = container.chats.create_chat(system_prompt="kept")
    container.presets.save_preset("terse", "Be brief.")
    unknown, empty = run_commands(
        db_url,
        ["chats", "system", str(chat.id), "--preset", "poet"],
        ["chats", "system", str(chat.id), "  "],
    )
    assert (unknown.returncode, unknown.stderr) == (
        1,
        "synergia: No preset named 'poet' (presets: terse)\n",
    )
    assert (empty.returncode, empty.stderr) == (
        1,
        "synergia: System prompt is empty: give some text, or --clear it\n",
    )
    assert container.chats.get_chat(chat.id).system_prompt == "kept"


@pytest.mark.parametrize(
    "argv",
    [
        ["chats", "system", "abcd", "text", "--preset", "terse"],
        ["chats", "system", "abcd", "--preset", "terse", "--clear"],
        ["chats", "system", "abcd", "text", "--clear"],
        ["ask", "--system", "a", "--preset", "b", "hi"],
    ],
)
def test_flags_that_exclude_each_other_are_a_one_line_usage_error(argv, tmp_path):
    result = run_synergia(*argv, cwd=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
    assert "not allowed with argument" in result.stderr
    assert "Traceback" not in result.stderr


def test_chats_system_dash_reads_the_prompt_from_stdin(container, db_url, tmp_path):
    chat = container.chats.create_chat()
    result = run_synergia(
        "chats",
        "system",
        str(chat.id),
        "-",
        input="You review code.\nBe kind.\n",
        cwd=tmp_path,
        SYNERGIA_DATABASE_URL=url_text(as_user(db_url)),
        SYNERGIA_USER="alice",
    )
    assert result.returncode == 0, result.stderr
    assert container.chats.get_chat(chat.id).system_prompt == "You review code.\nBe kind.\n"


def test_prompts_lists_saves_shows_and_removes_presets(db_url):
    env = {"SYNERGIA_DATABASE_URL": url_text(as_user(db_url)), "SYNERGIA_USER": "alice"}
    steps = [
        (["prompts", "set", "terse", "Answer briefly."], env),
        (["prompts", "set", "review", "Review the code.\nList bugs first."], env),
        (["prompts"], {**env, "SYNERGIA_DEFAULT_PRESET": "terse"}),
        (["prompts", "--json"], env),
        (["prompts", "show", "review"], env),
        (["prompts", "rm", "terse"], env),
        (["prompts", "list", "--json"], env),
        (["prompts", "rm", "terse"], env),
    ]
    saved, _, table, listed, shown, removed, after, again = run_steps(
        [(argv, changes, REPO) for argv, changes in steps]
    )
    assert saved.stdout == "saved preset terse (15 characters)\n"
    assert table.stdout.splitlines() == [
        "NAME    DEFAULT  TEXT",
        "review           Review the code. List bugs first.",
        "terse   yes      Answer briefly.",
    ]
    assert [(p["name"], p["text"], p["is_default"]) for p in json.loads(listed.stdout)] == [
        ("review", "Review the code.\nList bugs first.", False),
        ("terse", "Answer briefly.", False),
    ]
    assert shown.stdout == "Review the code.\nList bugs first.\n"
    assert removed.stdout == "removed preset terse\n"
    assert [p["name"] for p in json.loads(after.stdout)] == ["review"]
    assert (again.returncode, again.stderr) == (
        1,
        "synergia: No preset named 'terse' (presets: review)\n",
    )


def test_a_database_that_is_down_is_one_line_without_the_password(tmp_path):
    url = "postgresql://alice:hunter2-secret@127.0.0.1:1/synergia"
    for argv in (["chats", "system", "abcd", "text"], ["prompts"], ["prompts", "set", "a", "b"]):
        result = run_synergia(*argv, cwd=tmp_path, SYNERGIA_DATABASE_URL=url)
        assert result.returncode == 1, result.stderr
        assert len(result.stderr.splitlines()) == 1
        assert "hunter2" not in result.stderr + result.stdout
        assert "Traceback" not in result.stderr


# -- ask: the system prompt reaches the provider ------------------------------------------------


def synergia(env: dict[str, str], *args: str, stdin: str | None = None):
    return run_synergia(*args, input=stdin, **env)


@pytest.fixture
def ask_env(isolated_env, fake_provider):
    """The embedded database (the isolated XDG dirs), with an OpenAI and an Anthropic model on
    the local provider server."""
    env = {"FAKE_KEY": KEY}
    for name, provider, base_url in (
        ("gpt", "openai", fake_provider.openai_base_url),
        ("claude", "anthropic", fake_provider.anthropic_base_url),
    ):
        added = synergia(
            env,
            *("models", "add", name, "--provider", provider, "--model", f"{name}-model"),
            *("--base-url", base_url, "--api-key-env", "FAKE_KEY", "--price", "1"),
        )
        assert added.returncode == 0, added.stderr
    return env


def _chat_ids(env) -> list[str]:
    return [c["id"] for c in json.loads(synergia(env, "chats", "list", "--json").stdout)]


def test_ask_sends_the_system_prompt_in_each_providers_format(ask_env, fake_provider):
    fake_provider.script = Script(reply="ok")
    openai = synergia(ask_env, "ask", "--model", "gpt", "--system", "You are terse.", "hi")
    assert openai.returncode == 0, openai.stderr
    body = fake_provider.last_request.body
    assert body["messages"][0] == {"role": "system", "content": "You are terse."}
    assert body["messages"][-1]["content"] == "hi"

    assert synergia(ask_env, "prompts", "set", "pirate", "Talk like a pirate.").returncode == 0
    anthropic = synergia(ask_env, "ask", "--model", "claude", "--preset", "pirate", "hello")
    assert anthropic.returncode == 0, anthropic.stderr
    request = fake_provider.last_request
    assert request.path == "/v1/messages"
    assert request.body["system"] == "Talk like a pirate."
    assert all(m["role"] != "system" for m in request.body["messages"])


def test_ask_with_a_chat_and_a_system_prompt_replaces_that_chats_prompt(ask_env, fake_provider):
    fake_provider.script = Script(reply="ok")
    assert synergia(ask_env, "ask", "--model", "gpt", "--system", "first", "one").returncode == 0
    (chat_id,) = _chat_ids(ask_env)
    again = synergia(ask_env, "ask", "--chat", chat_id, "--system", "second", "two")
    assert again.returncode == 0, again.stderr
    assert fake_provider.last_request.body["messages"][0]["content"] == "second"
    kept = synergia(ask_env, "ask", "--chat", chat_id, "three")
    assert kept.returncode == 0, kept.stderr
    assert fake_provider.last_request.body["messages"][0]["content"] == "second"
    assert synergia(ask_env, "chats", "system", chat_id).stdout == "second\n"


def test_a_new_chat_from_ask_starts_with_the_default_preset(ask_env, fake_provider):
    fake_provider.script = Script(reply="ok")
    assert synergia(ask_env, "prompts", "set", "terse", "Be brief.").returncode == 0
    env = {**ask_env, "SYNERGIA_DEFAULT_PRESET": "terse"}
    result = run_synergia("ask", "--model", "gpt", "hi", **env)
    assert result.returncode == 0, result.stderr
    assert fake_provider.last_request.body["messages"][0] == {
        "role": "system",
        "content": "Be brief.",
    }
    bad = run_synergia(
        "ask", "--model", "gpt", "hi", **{**ask_env, "SYNERGIA_DEFAULT_PRESET": "gone"}
    )
    assert bad.returncode == 2
    assert bad.stderr == (
        "synergia: SYNERGIA_DEFAULT_PRESET: no preset named 'gone' (presets: terse)\n"
    )
    assert len(_chat_ids(ask_env)) == 1  # the refused prompt left no chat behind


def test_ask_refuses_system_dash_since_stdin_is_the_prompt(ask_env):
    result = synergia(ask_env, "ask", "--system", "-", stdin="hi")
    assert result.returncode == 2
    assert result.stderr.startswith("synergia: ask: --system - would read stdin")
    assert len(result.stderr.splitlines()) == 1
