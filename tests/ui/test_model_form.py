"""The model form: inline errors that keep what the user typed, and what a save stores."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Select

from synergia_tui.bootstrap import Container
from synergia_tui.core.errors import NotFoundError
from synergia_tui.core.paths import resource
from synergia_tui.models.ai_model import AIModelRead
from synergia_tui.services.facade import AsyncServices
from synergia_tui.ui.screens.confirm import ConfirmScreen
from synergia_tui.ui.screens.model_form import ModelFormScreen
from tests.ui.conftest import wait_until
from tests.ui.test_model_picker import add, force_text, screen_text, settle, steady_cursor

UNSET = object()


class FormHost(App[None]):
    """Opens the form on mount and keeps what it was dismissed with."""

    CSS_PATH = resource("styles.tcss")

    def __init__(self, services: AsyncServices, model: AIModelRead | None = None) -> None:
        super().__init__()
        self.services = services
        self.model = model
        self.result: object = UNSET

    def on_mount(self) -> None:
        self.push_screen(ModelFormScreen(self.services, self.model), self._form_closed)

    def _form_closed(self, model: AIModelRead | None) -> None:
        self.result = model


@pytest.fixture
def services(ui_container: Container) -> Iterator[AsyncServices]:
    services = ui_container.async_services()
    yield services
    services.shutdown()


def field(app: App[None], key: str) -> Input:
    return app.screen.query_one(f"#{key}", Input)


def fill(app: App[None], **values: str) -> None:
    """Put text in the fields, as typing or pasting would."""
    for key, value in values.items():
        field(app, key).value = value


async def save(pilot: Pilot[None]) -> None:
    field(pilot.app, "name").focus()
    await pilot.press("enter")
    await settle(pilot)


def error_under(app: App[None], key: str) -> str:
    error = app.screen.query_one(f"#{key}-error")
    return str(error.render()) if error.display else ""


VALID = {"name": "mistral", "api_model": "mistral-small", "price": "0.2"}


class TestAdding:
    async def test_a_filled_form_saves_every_field_and_closes(self, services, ui_container):
        app = FormHost(services)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press(*"mistral", "tab")
            # The provider list, from the keyboard: open it, move to "anthropic", choose it.
            await pilot.press("enter", "down", "enter", "tab")
            await pilot.press(*"claude-x", "tab", *"https://example.test/v1", "tab")
            await pilot.press(*"MY_KEY", "tab", *"3", "tab", *"15", "tab", *"200000", "tab")
            await pilot.press(*"8192", "tab")
            await pilot.press("space")  # untick "Enabled"
            await save(pilot)
            assert isinstance(app.result, AIModelRead)
            stored = ui_container.models.get_model("mistral")
            assert stored.id == app.result.id
            assert stored.provider == "anthropic"
            assert stored.api_model == "claude-x"
            assert stored.base_url == "https://example.test/v1"
            assert stored.api_key_env == "MY_KEY"
            assert stored.price_per_million_tokens == Decimal("3")
            assert stored.output_price_per_million_tokens == Decimal("15")
            assert stored.context_window == 200000
            assert stored.max_output_tokens == 8192
            assert stored.is_enabled is False

    async def test_provider_can_only_be_one_of_the_three(self, services):
        app = FormHost(services)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            select = app.screen.query_one("#provider", Select)
            assert [option[1] for option in select._options] == ["openai", "anthropic", "ollama"]
            assert select.value == "openai"

    async def test_missing_name_and_model_id_are_shown_next_to_the_fields(
        self, services, ui_container
    ):
        app = FormHost(services)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            fill(app, price="1")
            await save(pilot)
            text = screen_text(app)
            assert "Name is required" in text
            assert "Model id is required" in text
            assert error_under(app, "name") == "Name is required"
            assert error_under(app, "api_model") == "Model id is required"
            assert error_under(app, "price") == ""
            assert app.result is UNSET and isinstance(app.screen, ModelFormScreen)
            assert ui_container.models.list_models() == []

    async def test_duplicate_name_is_shown_and_what_was_typed_stays(self, services, ui_container):
        add(ui_container, "mistral")
        app = FormHost(services)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            fill(app, **VALID, base_url="http://localhost:8000/v1", context_window="32000")
            await save(pilot)
            assert "Model 'mistral' already exists" in screen_text(app)
            assert error_under(app, "name") == "Model 'mistral' already exists"
            assert field(app, "name").value == "mistral"
            assert field(app, "api_model").value == "mistral-small"
            assert field(app, "base_url").value == "http://localhost:8000/v1"
            assert field(app, "context_window").value == "32000"
            assert app.screen.focused is field(app, "name")
            assert len(ui_container.models.list_models()) == 1

    @pytest.mark.parametrize(
        ("key", "typed", "message"),
        [
            ("price", "abc", "Input price must be a number, got 'abc'"),
            ("price", "-1", "Input price must not be negative"),
            ("price", "", "Input price is required (0 for a free model)"),
            ("price", "0.0000001", "Input price has more than 6 decimal places"),
            ("output_price", "-0.5", "Output price must not be negative"),
            ("output_price", "NaN", "Output price must be a finite number"),
            ("context_window", "lots", "Context window must be a whole number of tokens"),
            ("context_window", "-5", "Context window must be a positive number of tokens"),
            ("max_output_tokens", "many", "Max output tokens must be a whole number of tokens"),
            ("max_output_tokens", "0", "Max output tokens must be a positive number of tokens"),
            ("max_output_tokens", "9999999999", "Max output tokens is too large"),
            ("base_url", "ftp://x", "Base URL must start with http:// or https://"),
            ("api_key_env", "sk-abc123", "API key env takes the NAME of an environment variable"),
            ("api_key_env", "MY KEY", "API key env 'MY KEY' is not a valid variable name"),
        ],
    )
    async def test_a_bad_value_is_shown_under_its_field(
        self, services, ui_container, key, typed, message
    ):
        app = FormHost(services)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            fill(app, **{**VALID, key: typed})
            await save(pilot)
            assert message in error_under(app, key)
            assert message in screen_text(app)
            assert field(app, key).value == typed
            assert app.screen.focused is field(app, key)
            assert ui_container.models.list_models() == []

    async def test_fixing_the_error_then_saving_keeps_everything_else(self, services, ui_container):
        app = FormHost(services)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            fill(app, **{**VALID, "price": "-1"}, output_price="0.4")
            await save(pilot)
            assert "must not be negative" in screen_text(app)
            # Focus is on the price: fix it where the cursor is, and press enter there.
            await pilot.press("home", "delete", "enter")
            await settle(pilot)
            stored = ui_container.models.get_model("mistral")
            assert stored.price_per_million_tokens == Decimal("1")
            assert stored.output_price_per_million_tokens == Decimal("0.4")
            assert stored.api_model == "mistral-small"

    async def test_control_characters_typed_in_a_name_are_refused_inline(
        self, services, ui_container
    ):
        app = FormHost(services)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            fill(app, **{**VALID, "name": "\x1b]52;c;aGk=\x07evil"})
            await save(pilot)
            assert "Name must not contain control characters" in screen_text(app)
            assert ui_container.models.list_models() == []

    async def test_markup_in_a_name_is_kept_literally(self, services, ui_container):
        app = FormHost(services)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            fill(app, **{**VALID, "name": "[bold]markup[/]"})
            await save(pilot)
            assert ui_container.models.get_model("[bold]markup[/]").api_model == "mistral-small"


class TestEditing:
    async def test_the_form_opens_filled_and_saves_changes(self, services, ui_container):
        model = add(
            ui_container,
            "gpt-4o-mini",
            price_per_million_tokens=Decimal("0.15"),
            output_price_per_million_tokens=Decimal("0.6"),
            context_window=128000,
        )
        app = FormHost(services, model)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            assert "Edit model 'gpt-4o-mini'" in screen_text(app)
            assert field(app, "price").value == "0.15"
            assert field(app, "output_price").value == "0.6"
            assert field(app, "context_window").value == "128000"
            assert app.screen.query_one("#is_enabled", Checkbox).value is True
            fill(app, name="gpt-4o-mini-2", output_price="")
            await save(pilot)
            assert isinstance(app.result, AIModelRead)
            stored = ui_container.models.get_model(model.id)
            assert stored.name == "gpt-4o-mini-2"
            assert stored.output_price_per_million_tokens is None  # cleared: same as input
            assert stored.context_window == 128000

    async def test_max_output_tokens_opens_filled_and_can_be_changed_or_cleared(
        self, services, ui_container
    ):
        model = add(ui_container, "claude", max_output_tokens=8192)
        app = FormHost(services, model)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            assert field(app, "max_output_tokens").value == "8192"
            fill(app, max_output_tokens="4_000")
            await save(pilot)
            assert ui_container.models.get_model(model.id).max_output_tokens == 4000

        app = FormHost(services, ui_container.models.get_model(model.id))
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            fill(app, max_output_tokens="")
            await save(pilot)
            assert isinstance(app.result, AIModelRead)
            assert ui_container.models.get_model(model.id).max_output_tokens is None

    async def test_renaming_onto_another_model_is_refused(self, services, ui_container):
        add(ui_container, "taken")
        model = add(ui_container, "mine")
        app = FormHost(services, model)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            fill(app, name="taken")
            await save(pilot)
            assert error_under(app, "name") == "Model 'taken' already exists"
            assert ui_container.models.get_model(model.id).name == "mine"

    async def test_a_model_deleted_meanwhile_is_reported(self, services, ui_container):
        model = add(ui_container, "mine")
        app = FormHost(services, model)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            ui_container.models.delete_model(model.id)
            await save(pilot)
            assert "not found" in error_under(app, "model-form")
            assert isinstance(app.screen, ModelFormScreen)
            with pytest.raises(NotFoundError):
                ui_container.models.get_model(model.id)

    async def test_stored_control_characters_show_as_visible_stand_ins(
        self, services, ui_container
    ):
        model = add(ui_container, "osc")
        force_text(ui_container, model.id, name="\x1b]52;c;aGk=\x07[b]x[/b]")
        model = ui_container.models.get_model(model.id)
        app = FormHost(services, model)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            text = screen_text(app)
            assert "Edit model '␛]52;c;aGk=␇[b]x[/b]'" in text
            assert field(app, "name").value == "␛]52;c;aGk=␇[b]x[/b]"
            assert "\x1b" not in text and "\x07" not in text


class TestLeaving:
    async def test_escape_on_an_untouched_form_closes_it(self, services):
        app = FormHost(services)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("escape")
            await settle(pilot)
            assert app.result is None

    async def test_escape_after_typing_asks_and_keeps_the_text_when_declined(self, services):
        app = FormHost(services)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press(*"half typed", "escape")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, ModelFormScreen)
            assert field(app, "name").value == "half typed"
            await pilot.press("escape")
            await settle(pilot)
            await pilot.press("left", "enter")  # "Discard"
            await settle(pilot)
            assert app.result is None

    async def test_a_database_failure_on_save_is_shown_and_nothing_is_lost(
        self, services, ui_container
    ):
        app = FormHost(services)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            with ui_container.db.engine.begin() as connection:
                connection.exec_driver_sql("ALTER TABLE models RENAME TO models_gone")
            fill(app, **VALID)
            await save(pilot)
            assert "no such table" in error_under(app, "model-form").lower()
            assert field(app, "name").value == "mistral"
            assert isinstance(app.screen, ModelFormScreen)


class TestLook:
    @pytest.mark.parametrize("size", [(80, 24), (120, 40)])
    def test_form_with_errors(self, snap_compare, services, ui_container, size):
        add(ui_container, "gpt-4o-mini")

        async def bad_input(pilot: Pilot[None]) -> None:
            await settle(pilot)
            fill(pilot.app, name="gpt-4o-mini", api_model="gpt-4o-mini", price="-1")
            await save(pilot)
            await wait_until(pilot, lambda: error_under(pilot.app, "price") != "", "price error")
            fill(pilot.app, price="0.15")
            await save(pilot)  # now the name clash, found by the service
            await wait_until(
                pilot,
                lambda: (
                    "already exists" in error_under(pilot.app, "name")
                    and error_under(pilot.app, "price") == ""
                ),
                "the name clash shown, the price error gone",
            )
            await settle(pilot)
            steady_cursor(pilot.app)

        app = FormHost(services)
        assert snap_compare(app, terminal_size=size, run_before=bad_input)

    @pytest.mark.parametrize("size", [(80, 24), (120, 40)])
    def test_form_with_missing_fields(self, snap_compare, services, size):
        async def empty(pilot: Pilot[None]) -> None:
            await settle(pilot)
            await save(pilot)
            steady_cursor(pilot.app)

        app = FormHost(services)
        assert snap_compare(app, terminal_size=size, run_before=empty)
