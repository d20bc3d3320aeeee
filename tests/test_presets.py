"""System prompts: a chat's own prompt, named presets per user, the default preset (both
backends)."""

from __future__ import annotations

import pytest

from synergia_tui.bootstrap import build
from synergia_tui.core.config import load_settings
from synergia_tui.core.errors import ConfigError, NotFoundError, ValidationError
from tests.conftest import settings_for
from tests.support import add_model


def test_presets_are_listed_by_name_replaced_by_saving_again_and_removed(container):
    presets = container.presets
    presets.save_preset("terse", "Answer in one sentence.")
    presets.save_preset("pirate", "Talk like a pirate.")
    presets.save_preset("terse", "Answer in one word.")
    assert [(p.name, p.text) for p in presets.list_presets()] == [
        ("pirate", "Talk like a pirate."),
        ("terse", "Answer in one word."),
    ]
    presets.delete_preset("pirate")
    assert [p.name for p in presets.list_presets()] == ["terse"]
    assert presets.get_preset("terse").text == "Answer in one word."


def test_each_user_has_their_own_presets(container, other_user):
    container.presets.save_preset("terse", "alice's text")
    other_user.presets.save_preset("terse", "bob's text")
    assert container.presets.get_preset("terse").text == "alice's text"
    assert other_user.presets.get_preset("terse").text == "bob's text"
    other_user.presets.delete_preset("terse")
    assert container.presets.get_preset("terse").text == "alice's text"


def test_an_unknown_preset_is_refused_in_one_line_naming_the_known_ones(container):
    with pytest.raises(NotFoundError) as empty:
        container.presets.get_preset("terse")
    assert "no presets yet" in str(empty.value)
    container.presets.save_preset("terse", "Be brief.")
    container.presets.save_preset("pirate", "Arr.")
    with pytest.raises(NotFoundError) as err:
        container.presets.get_preset("poet")
    assert str(err.value) == "No preset named 'poet' (presets: pirate, terse)"
    with pytest.raises(NotFoundError):
        container.presets.delete_preset("poet")


@pytest.mark.parametrize(
    ("name", "text", "reason"),
    [
        ("", "text", "Preset name is required"),
        ("two\nlines", "text", "Preset name must be a single line"),
        ("x" * 101, "text", "Preset name is longer than 100 characters"),
        ("blank", "  \n ", "Preset text is empty"),
        ("nul", "a\x00b", "Preset text contains a NUL byte, which cannot be stored"),
    ],
)
def test_a_preset_needs_a_one_line_name_and_some_storable_text(container, name, text, reason):
    with pytest.raises(ValidationError) as err:
        container.presets.save_preset(name, text)
    assert str(err.value) == reason
    assert container.presets.list_presets() == []


def test_the_default_preset_is_the_one_the_setting_names(db_url, container):
    assert container.presets.default_preset() is None
    container.presets.save_preset("terse", "Be brief.")
    settings = settings_for(db_url).model_copy(update={"synergia_default_preset": "terse"})
    with_default = build(settings)
    try:
        default = with_default.presets.default_preset()
        assert default is not None and default.text == "Be brief."
        with_default.presets.delete_preset("terse")
        with pytest.raises(ConfigError) as err:
            with_default.presets.default_preset()
        assert str(err.value) == (
            "SYNERGIA_DEFAULT_PRESET: no preset named 'terse' (there are no presets yet: "
            "add one with `synergia prompts set NAME TEXT`)"
        )
    finally:
        with_default.close()


def test_the_default_preset_setting_must_be_a_name_on_one_line(monkeypatch):
    monkeypatch.setenv("SYNERGIA_DEFAULT_PRESET", "  terse ")
    assert load_settings().synergia_default_preset == "terse"
    monkeypatch.setenv("SYNERGIA_DEFAULT_PRESET", "")
    assert load_settings().synergia_default_preset is None
    monkeypatch.setenv("SYNERGIA_DEFAULT_PRESET", "a\nb")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert str(err.value).startswith("SYNERGIA_DEFAULT_PRESET: Value error, must be a preset's")
    assert "\n" not in str(err.value)


def test_a_chats_system_prompt_is_stored_replaced_and_cleared(container):
    chat = container.chats.create_chat(system_prompt="You are terse.")
    assert container.chats.get_chat(chat.id).system_prompt == "You are terse."
    container.chats.set_system_prompt(chat.id, "You are verbose.")
    assert container.chats.get_chat(chat.id).system_prompt == "You are verbose."
    container.chats.set_system_prompt(chat.id, None)
    assert container.chats.get_chat(chat.id).system_prompt is None


def _answered(container, sent):
    container.messages.finish_reply(
        sent.plan.message.id, content="ok", owner=container.replies.owner
    )
    return sent


def test_sending_with_a_system_prompt_stores_it_and_plans_the_reply_with_it(container):
    model = add_model(container)
    send = container.conversation.send
    first = _answered(container, send("hi", model_id=model.id, system_prompt="Be brief."))
    assert first.chat.system_prompt == "Be brief."
    assert first.plan.system == "Be brief."
    same = _answered(container, send("again", chat_id=first.chat.id))
    assert same.plan.system == "Be brief."
    changed = _answered(container, send("now", chat_id=first.chat.id, system_prompt="Be long."))
    assert changed.plan.system == "Be long."
    assert container.chats.get_chat(first.chat.id).system_prompt == "Be long."
    cleared = send("plain", chat_id=first.chat.id, system_prompt="")
    assert cleared.plan.system is None
    assert container.chats.get_chat(first.chat.id).system_prompt is None
