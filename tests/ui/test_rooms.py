"""The main screen as a room: it hears the app's messages and binds the open chat and model down."""

from __future__ import annotations

from synergia_tui.models import AIModelCreate
from synergia_tui.ui.app import SynergiaApp
from synergia_tui.ui.messages import DatabaseReady, DatabaseUnavailable
from synergia_tui.ui.widgets.status_bar import StatusBar
from tests.ui.conftest import TEST_VERSION, clock_after, screen_text, settle


def app_without_a_database(ui_container) -> SynergiaApp:
    """An app that waits to be told about the database (it never opens one itself)."""
    app = SynergiaApp(
        settings_loader=lambda: None,
        clock=clock_after(ui_container),
        version=TEST_VERSION,
        health_interval=None,
    )
    app.start_database = lambda: None  # type: ignore[method-assign]
    return app


def shown_model(app) -> str:
    return str(app.main_screen.query_one("#status-model").content)


async def test_the_screen_says_why_the_database_is_unusable_and_recovers_when_it_is_ready(
    services, ui_container, a_model
):
    ui_container.chats.create_chat(title="Waiting chat")
    app = app_without_a_database(ui_container)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.main_screen
        screen.post_message(DatabaseUnavailable("Database unavailable: no route", retry_s=5))
        await settle(pilot)
        text = screen_text(app)
        assert "Synergia cannot use the database." in text
        assert "no route" in text
        assert "Retrying every 5 seconds" in text
        assert screen.query_one(StatusBar).has_class("-db-down")
        assert "Waiting chat" not in text

        screen.post_message(DatabaseReady(services))
        await settle(pilot)
        text = screen_text(app)
        assert "cannot use the database" not in text
        assert "No chat open" in text
        assert "Waiting chat" in text  # the sidebar loaded its first page


async def test_a_schema_error_is_shown_without_a_retry_promise(ui_container):
    app = app_without_a_database(ui_container)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.main_screen.post_message(DatabaseUnavailable("The schema is behind"))
        await settle(pilot)
        text = screen_text(app)
        assert "The schema is behind" in text
        assert "Retrying" not in text


async def test_the_status_bar_shows_the_open_chats_model_else_the_default(
    make_app, ui_container, a_model
):
    other = ui_container.models.add_model(
        AIModelCreate(name="other-model", provider="openai", api_model="gpt-4o")
    )
    chat = ui_container.chats.create_chat(title="On the other model", model_id=other.id)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert shown_model(app) == "model gpt-test"  # the first enabled model, no chat open
        app.main_screen.open_chat(chat)
        await settle(pilot)
        assert shown_model(app) == "model other-model"
        await pilot.press("ctrl+n")  # a new chat starts on the default model
        await settle(pilot)
        assert app.main_screen.current_chat.id != chat.id
        assert shown_model(app) == "model gpt-test"
