"""The system prompt screen (f6): shown, edited, picked from presets, stored, and sent."""

# ruff: noqa: F811
from __future__ import annotations

from decimal import Decimal

import pytest
from textual.widgets import OptionList, TextArea

from synergia_tui.models import AIModelCreate
from synergia_tui.ui.screens.system_prompt import SystemPromptScreen
from synergia_tui.ui.widgets.status_bar import StatusBar
from tests.fake_provider_server import Script, fake_provider  # noqa: F401
from tests.ui.conftest import notifications, screen_text, settle


@pytest.fixture
def served_model(ui_container, fake_provider, monkeypatch):
    monkeypatch.setenv("FAKE_KEY", "sk-ui-system-000000000")
    return ui_container.models.add_model(
        AIModelCreate(
            name="served",
            provider="openai",
            api_model="fake-model-a",
            base_url=fake_provider.openai_base_url,
            api_key_env="FAKE_KEY",
            price_per_million_tokens=Decimal("1"),
        )
    )


def status_text(app) -> str:
    return " ".join(str(s.render()) for s in app.screen.query_one(StatusBar).children)


async def open_editor(pilot) -> SystemPromptScreen:
    await pilot.press("f6")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, SystemPromptScreen)
    return screen


async def test_f6_shows_the_open_chats_prompt_and_f2_stores_the_edit(make_app, ui_container):
    chat = ui_container.chats.create_chat(title="Review", system_prompt="You review code.")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.main_screen.open_chat(chat)
        await settle(pilot)
        assert "system prompt" in status_text(app)
        editor = await open_editor(pilot)  # from the prompt box, which also knows f6
        area = editor.query_one(TextArea)
        assert area.text == "You review code."
        assert area.has_focus
        await pilot.press(*" Be kind.")
        await pilot.press("f2")
        await settle(pilot)
        assert not isinstance(app.screen, SystemPromptScreen)
        assert ui_container.chats.get_chat(chat.id).system_prompt == "You review code. Be kind."
        assert app.main_screen.current_chat.system_prompt == "You review code. Be kind."
        assert "System prompt saved." in notifications(app)


async def test_escape_leaves_the_prompt_as_it_was_and_an_empty_box_clears_it(
    make_app, ui_container
):
    chat = ui_container.chats.create_chat(system_prompt="Keep me.")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.main_screen.open_chat(chat)
        await settle(pilot)
        editor = await open_editor(pilot)
        editor.query_one(TextArea).load_text("something else")
        await pilot.press("escape")
        await settle(pilot)
        assert ui_container.chats.get_chat(chat.id).system_prompt == "Keep me."
        editor = await open_editor(pilot)
        editor.query_one(TextArea).load_text("  \n")
        await pilot.press("f2")
        await settle(pilot)
        assert ui_container.chats.get_chat(chat.id).system_prompt is None
        assert "system prompt" not in status_text(app)


async def test_tab_reaches_the_presets_and_enter_puts_one_in_the_box(make_app, ui_container):
    chat = ui_container.chats.create_chat()
    ui_container.presets.save_preset("pirate", "Talk like a pirate.")
    ui_container.presets.save_preset("terse", "Answer in one sentence.")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.main_screen.open_chat(chat)
        await settle(pilot)
        editor = await open_editor(pilot)
        text = screen_text(app)
        assert "pirate" in text and "terse" in text and "f2 save" in text
        await pilot.press("tab")
        assert editor.query_one(OptionList).has_focus
        await pilot.press("down", "enter")
        await settle(pilot)
        area = editor.query_one(TextArea)
        assert area.text == "Answer in one sentence."
        assert area.has_focus
        await pilot.press("f2")
        await settle(pilot)
        assert ui_container.chats.get_chat(chat.id).system_prompt == "Answer in one sentence."


async def test_f3_saves_the_text_as_a_preset(make_app, ui_container):
    chat = ui_container.chats.create_chat()
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.main_screen.open_chat(chat)
        await settle(pilot)
        editor = await open_editor(pilot)
        await pilot.press(*"Reply in French.", "f3")
        await settle(pilot)
        await pilot.press(*"french", "enter")
        await settle(pilot)
        assert [(p.name, p.text) for p in ui_container.presets.list_presets()] == [
            ("french", "Reply in French.")
        ]
        assert app.screen is editor
        assert "french" in screen_text(app)


async def test_a_prompt_set_before_the_chat_exists_is_stored_and_sent_with_its_first_prompt(
    make_app, ui_container, served_model, fake_provider
):
    fake_provider.script = Script(reply="Aye.")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_editor(pilot)
        await pilot.press(*"Talk like a pirate.", "f2")
        await settle(pilot)
        assert "system prompt" in status_text(app)
        await pilot.press(*"hello", "enter")
        await settle(pilot)
        (chat,) = ui_container.chats.list_chats().chats
        assert chat.system_prompt == "Talk like a pirate."
        sent = fake_provider.last_request.body["messages"]
        assert sent[0] == {"role": "system", "content": "Talk like a pirate."}
        assert sent[-1] == {"role": "user", "content": "hello"}
        # Used up by that chat: the next new chat starts without it again.
        assert app.main_screen.pending_system_prompt is None


async def test_a_new_chat_starts_with_the_default_preset(make_app, ui_container, a_model):
    ui_container.presets.save_preset("terse", "Be brief.")
    ui_container.presets.default_name = "terse"
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "system prompt" in status_text(app)
        await pilot.press("ctrl+n")
        await settle(pilot)
        (chat,) = ui_container.chats.list_chats().chats
        assert chat.system_prompt == "Be brief."
        editor = await open_editor(pilot)
        assert editor.query_one(TextArea).text == "Be brief."


async def test_a_default_preset_that_does_not_exist_is_said_once_and_chats_start_without(
    make_app, ui_container, a_model
):
    ui_container.presets.default_name = "gone"
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert any(
            n.startswith("SYNERGIA_DEFAULT_PRESET: no preset named 'gone'")
            for n in notifications(app)
        )
        await pilot.press("ctrl+n")
        await settle(pilot)
        (chat,) = ui_container.chats.list_chats().chats
        assert chat.system_prompt is None


async def test_prompts_and_preset_names_are_shown_as_text_never_as_markup(make_app, ui_container):
    chat = ui_container.chats.create_chat(title="[b]t[/b]", system_prompt="[red]boom[/red]")
    ui_container.presets.save_preset("[bold]x[/bold]", "[link=http://e.vil]y[/link]")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.main_screen.open_chat(chat)
        await settle(pilot)
        await open_editor(pilot)
        text = screen_text(app)
        assert "[red]boom[/red]" in text
        assert "[bold]x[/bold]" in text
        assert "[link=http://e.vil]y[/link]" in text
        assert "“[b]t[/b]”" in text


async def test_the_palette_offers_the_system_prompt_with_its_key(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        commands = {c.title: c.help for c in app.get_system_commands(app.screen)}
        assert commands["System prompt"].startswith("f6 · ")


async def test_an_edit_the_database_refuses_is_kept_for_the_next_f6(
    make_app, ui_container, tmp_path
):
    chat = ui_container.chats.create_chat(title="Review", system_prompt="You review code.")
    db_dir, gone = tmp_path / "ui", tmp_path / "ui-gone"
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.main_screen.open_chat(chat)
        await settle(pilot)
        editor = await open_editor(pilot)
        editor.query_one(TextArea).text = "A long, careful prompt."
        db_dir.rename(gone)  # the database goes away while the user writes
        ui_container.db.engine.dispose()
        await pilot.press("f2")
        await settle(pilot)
        assert any("not saved" in n for n in notifications(app))
        gone.rename(db_dir)
        editor = await open_editor(pilot)  # the text is still there, to save now
        assert editor.query_one(TextArea).text == "A long, careful prompt."
        assert "not saved yet" in screen_text(app)
        await pilot.press("f2")
        await settle(pilot)
        assert ui_container.chats.get_chat(chat.id).system_prompt == "A long, careful prompt."
        editor = await open_editor(pilot)  # saved: f6 shows what is stored, as usual
        assert editor.query_one(TextArea).text == "A long, careful prompt."
        assert "not saved yet" not in screen_text(app)
