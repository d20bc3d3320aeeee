"""The model picker: what a user sees, picks and changes from it, and what lands in the database."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import update
from sqlalchemy.engine import URL
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from synergia_tui.bootstrap import Container, build
from synergia_tui.core.config import Settings
from synergia_tui.core.errors import NotFoundError
from synergia_tui.core.paths import resource
from synergia_tui.models.ai_model import AIModel, AIModelCreate, AIModelRead
from synergia_tui.services.facade import AsyncServices
from synergia_tui.ui.screens.confirm import ConfirmScreen
from synergia_tui.ui.screens.discover_models import DiscoverModelsScreen
from synergia_tui.ui.screens.model_form import ModelFormScreen
from synergia_tui.ui.screens.model_picker import ModelPickerScreen

UNSET = object()


class PickerHost(App[None]):
    """Opens the picker on mount and keeps what it was dismissed with."""

    CSS_PATH = resource("styles.tcss")

    def __init__(self, services: AsyncServices, current_model_id: uuid.UUID | None = None) -> None:
        super().__init__()
        self.services = services
        self.current_model_id = current_model_id
        self.result: object = UNSET

    def on_mount(self) -> None:
        self.push_screen(
            ModelPickerScreen(self.services, self.current_model_id), self._picker_closed
        )

    def _picker_closed(self, model: AIModelRead | None) -> None:
        self.result = model


async def settle(pilot: Pilot[None]) -> None:
    """Let every worker finish and the screen catch up."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def press(pilot: Pilot[None], *keys: str) -> None:
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


def steady_cursor(app: App[None]) -> None:
    """Stop cursors blinking, so that a snapshot does not depend on timing."""
    for text_input in app.screen.query(Input):
        text_input.cursor_blink = False


def screen_text(app: App[None]) -> str:
    """The terminal as a user reads it: plain characters, no colours."""
    width, height = app.size
    console = Console(
        width=width, height=height, file=io.StringIO(), record=True, force_terminal=True
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text(styles=False)


def shown_names(app: App[None]) -> list[str]:
    """The names in the picker's list, top to bottom."""
    table = app.screen.query_one("#model-table", DataTable)
    return [table.get_row_at(i)[1].plain for i in range(table.row_count)]


def add(container: Container, name: str, **fields: object) -> AIModelRead:
    values: dict[str, object] = {
        "provider": "openai",
        "api_model": name,
        "price_per_million_tokens": Decimal("1"),
    }
    values.update(fields)
    return container.models.add_model(AIModelCreate(name=name, **values))  # type: ignore[arg-type]


def force_text(container: Container, model_id: uuid.UUID, **values: str) -> None:
    """Store text the services refuse (as another client writing to a shared database might)."""
    with container.db.engine.begin() as connection:
        connection.execute(update(AIModel).where(AIModel.id == model_id).values(**values))  # type: ignore[arg-type]


@pytest.fixture
def services(ui_container: Container) -> Iterator[AsyncServices]:
    services = ui_container.async_services()
    yield services
    services.shutdown()


@pytest.fixture
def catalogue(ui_container: Container) -> dict[str, AIModelRead]:
    """Three enabled models and a disabled one."""
    return {
        "mini": add(
            ui_container,
            "gpt-4o-mini",
            price_per_million_tokens=Decimal("0.15"),
            output_price_per_million_tokens=Decimal("0.6"),
        ),
        "sonnet": add(
            ui_container,
            "claude-sonnet",
            provider="anthropic",
            api_model="claude-sonnet-4-20250514",
            price_per_million_tokens=Decimal("3"),
            output_price_per_million_tokens=Decimal("15"),
        ),
        "llama": add(
            ui_container,
            "llama3 local",
            provider="ollama",
            api_model="llama3.1:8b",
            price_per_million_tokens=Decimal("0"),
        ),
        "old": add(ui_container, "gpt-3.5-turbo", is_enabled=False),
    }


class TestPicking:
    async def test_lists_enabled_models_with_provider_and_prices(self, services, catalogue):
        app = PickerHost(services)
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await settle(pilot)
            text = screen_text(app)
            assert shown_names(app) == ["claude-sonnet", "gpt-4o-mini", "llama3 local"]
            mini_line = next(line for line in text.splitlines() if "gpt-4o-mini " in line)
            assert "openai" in mini_line and "0.15" in mini_line and "0.60" in mini_line
            sonnet_line = next(line for line in text.splitlines() if "claude-sonnet " in line)
            assert "anthropic" in sonnet_line and "3.00" in sonnet_line and "15.00" in sonnet_line

    async def test_disabled_models_are_hidden_when_picking(self, services, catalogue):
        app = PickerHost(services)
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await settle(pilot)
            assert "gpt-3.5-turbo" not in shown_names(app)
            assert "gpt-3.5-turbo" not in screen_text(app)

    async def test_typing_filters_the_list(self, services, catalogue):
        app = PickerHost(services)
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await settle(pilot)
            await press(pilot, "g", "p", "t")
            assert shown_names(app) == ["gpt-4o-mini"]
            await press(pilot, "backspace", "backspace", "backspace", "o", "l", "l")
            assert shown_names(app) == ["llama3 local"]  # matches the provider "ollama"

    async def test_filter_without_match_says_so(self, services, catalogue):
        app = PickerHost(services)
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await settle(pilot)
            await press(pilot, "z", "z", "z")
            assert shown_names(app) == []
            assert "No enabled model matches 'zzz'" in screen_text(app)
            await press(pilot, "enter")
            assert app.result is UNSET  # nothing to pick: the picker stays open

    async def test_enter_picks_the_highlighted_model(self, services, catalogue):
        app = PickerHost(services)
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await settle(pilot)
            await press(pilot, "down")  # claude-sonnet -> gpt-4o-mini
            await press(pilot, "enter")
            assert isinstance(app.result, AIModelRead)
            assert app.result.id == catalogue["mini"].id
            assert not isinstance(app.screen, ModelPickerScreen)

    async def test_enter_after_filtering_picks_the_match(self, services, catalogue):
        app = PickerHost(services)
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await settle(pilot)
            await press(pilot, "l", "l", "a", "enter")
            assert isinstance(app.result, AIModelRead)
            assert app.result.name == "llama3 local"

    async def test_opens_on_the_current_model_and_marks_it(self, services, catalogue):
        app = PickerHost(services, current_model_id=catalogue["llama"].id)
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await settle(pilot)
            marked = [line for line in screen_text(app).splitlines() if "●" in line]
            assert len(marked) == 1 and "llama3 local" in marked[0]
            await press(pilot, "enter")
            assert isinstance(app.result, AIModelRead)
            assert app.result.id == catalogue["llama"].id

    async def test_escape_closes_without_a_model(self, services, catalogue):
        app = PickerHost(services, current_model_id=catalogue["mini"].id)
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await settle(pilot)
            await press(pilot, "escape")
            assert app.result is None
            assert not isinstance(app.screen, ModelPickerScreen)

    async def test_empty_catalogue_explains_how_to_add_a_model(self, services):
        app = PickerHost(services)
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await settle(pilot)
            assert "No models yet" in screen_text(app)

    async def test_management_keys_are_inactive_while_picking(self, services, catalogue):
        app = PickerHost(services)
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await settle(pilot)
            await press(pilot, "ctrl+d", "ctrl+t", "ctrl+e")
            assert isinstance(app.screen, ModelPickerScreen)
            assert len(shown_names(app)) == 3
            assert all(
                m.is_enabled
                for m in services.models.sync.list_models()
                if m.name != "gpt-3.5-turbo"
            )


class TestManaging:
    async def test_manage_mode_shows_disabled_models_dimmed(self, services, catalogue):
        app = PickerHost(services)
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await settle(pilot)
            await press(pilot, "ctrl+g")
            assert "gpt-3.5-turbo" in shown_names(app)
            line = next(line for line in screen_text(app).splitlines() if "gpt-3.5-turbo" in line)
            assert "disabled" in line
            table = app.screen.query_one("#model-table", DataTable)
            row = table.get_row(str(catalogue["old"].id))
            assert "dim" in str(row[1].style)
            assert "dim" not in str(table.get_row(str(catalogue["mini"].id))[1].style)
            await press(pilot, "ctrl+g")
            assert "gpt-3.5-turbo" not in shown_names(app)

    async def test_disabling_a_model_stores_it_and_hides_it_from_picking(
        self, services, catalogue, ui_container
    ):
        app = PickerHost(services)
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await settle(pilot)
            await press(pilot, "g", "p", "t", "-", "4", "ctrl+g", "ctrl+t")
            assert ui_container.models.get_model(catalogue["mini"].id).is_enabled is False
            text = screen_text(app)
            assert "Disabled model 'gpt-4o-mini'" in text
            assert "disabled" in next(row for row in text.splitlines() if "gpt-4o-mini " in row)
            await press(pilot, "ctrl+g")
            assert shown_names(app) == []

    async def test_enabling_a_disabled_model_makes_it_pickable(
        self, services, catalogue, ui_container
    ):
        app = PickerHost(services)
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await settle(pilot)
            await press(pilot, "ctrl+g", "3", ".", "5")
            assert shown_names(app) == ["gpt-3.5-turbo"]
            await press(pilot, "enter")
            assert app.result is UNSET  # a disabled model cannot be picked
            assert "is disabled" in screen_text(app)
            await press(pilot, "ctrl+t")
            assert ui_container.models.get_model(catalogue["old"].id).is_enabled is True
            await press(pilot, "ctrl+g", "enter")
            assert isinstance(app.result, AIModelRead)
            assert app.result.id == catalogue["old"].id

    async def test_delete_asks_first_then_removes_the_model(
        self, services, catalogue, ui_container
    ):
        app = PickerHost(services)
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await settle(pilot)
            await press(pilot, "ctrl+g", "s", "o", "n", "n", "ctrl+d")
            assert isinstance(app.screen, ConfirmScreen)
            assert "Delete model 'claude-sonnet'?" in screen_text(app)
            await press(pilot, "left", "enter")  # from Cancel to Delete, and press it
            with pytest.raises(NotFoundError):
                ui_container.models.get_model(catalogue["sonnet"].id)
            assert isinstance(app.screen, ModelPickerScreen)
            assert "Deleted model 'claude-sonnet'" in screen_text(app)
            await press(pilot, *["backspace"] * 4)
            assert "claude-sonnet" not in shown_names(app)
            assert len(shown_names(app)) == 3

    async def test_declining_the_delete_keeps_the_model(self, services, catalogue, ui_container):
        app = PickerHost(services)
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await settle(pilot)
            await press(pilot, "ctrl+g", "ctrl+d")
            assert isinstance(app.screen, ConfirmScreen)
            await press(pilot, "escape")
            assert ui_container.models.get_model(catalogue["sonnet"].id).name == "claude-sonnet"
            assert "claude-sonnet" in shown_names(app)

    async def test_add_opens_the_form_and_lists_the_new_model(self, services, ui_container):
        app = PickerHost(services)
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await settle(pilot)
            await press(pilot, "ctrl+g", "ctrl+r")
            assert isinstance(app.screen, ModelFormScreen)
            await pilot.press(*"mistral", "tab", "tab", *"mistral-small", "tab", "tab", "tab")
            await pilot.press(*"0.2", "enter")
            await settle(pilot)
            assert isinstance(app.screen, ModelPickerScreen)
            stored = ui_container.models.get_model("mistral")
            assert stored.api_model == "mistral-small"
            assert stored.price_per_million_tokens == Decimal("0.2")
            assert shown_names(app) == ["mistral"]
            assert "Saved model 'mistral'" in screen_text(app)
            await press(pilot, "enter")
            assert isinstance(app.result, AIModelRead) and app.result.id == stored.id

    async def test_edit_opens_the_form_on_the_highlighted_model(
        self, services, catalogue, ui_container
    ):
        app = PickerHost(services)
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await settle(pilot)
            await press(pilot, "ctrl+g", "m", "i", "n", "i", "ctrl+e")
            assert isinstance(app.screen, ModelFormScreen)
            name = app.screen.query_one("#name", Input)
            assert name.value == "gpt-4o-mini"
            price = app.screen.query_one("#price", Input)
            assert price.value == "0.15"
            price.focus()
            await press(pilot, "end", "backspace", "backspace", "2", "5", "enter")
            assert isinstance(app.screen, ModelPickerScreen)
            assert ui_container.models.get_model(
                catalogue["mini"].id
            ).price_per_million_tokens == Decimal("0.25")
            line = next(row for row in screen_text(app).splitlines() if "gpt-4o-mini " in row)
            assert "0.25" in line

    async def test_ctrl_l_opens_discovery_and_escape_comes_back(self, services, catalogue):
        app = PickerHost(services)
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await settle(pilot)
            await press(pilot, "ctrl+g", "ctrl+l")
            assert isinstance(app.screen, DiscoverModelsScreen)
            await press(pilot, "escape")
            assert isinstance(app.screen, ModelPickerScreen)
            assert app.screen.managing

    async def test_footer_lists_the_management_keys(self, services, catalogue):
        app = PickerHost(services)
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await settle(pilot)
            footer = screen_text(app).splitlines()[-1]
            assert "Pick" in footer and "Manage" in footer and "Delete" not in footer
            await press(pilot, "ctrl+g")
            footer = screen_text(app).splitlines()[-1]
            for label in ("Pick", "Done", "Add", "Edit", "Delete", "On/off", "Discover"):
                assert label in footer


class TestDatabaseTrouble:
    async def test_unreachable_database_is_reported_not_fatal(self, tmp_path: Path):
        database = tmp_path / "gone.db"
        url = URL.create("sqlite+pysqlite", database=str(database))
        settings = Settings(
            synergia_database_url=url.render_as_string(hide_password=False), synergia_user="alice"
        )
        container = build(settings)
        # A directory where the database file should be: SQLite cannot open it.
        database.unlink()
        database.mkdir()
        services = container.async_services()
        try:
            app = PickerHost(services)
            async with app.run_test(size=(100, 30), notifications=True) as pilot:
                await settle(pilot)
                assert "cannot open the sqlite database" in screen_text(app).lower()
                await press(pilot, "ctrl+g", "ctrl+r")  # the app keeps working
                assert isinstance(app.screen, ModelFormScreen)
        finally:
            services.shutdown()
            container.close()

    async def test_failed_change_is_reported_and_the_picker_stays(
        self, services, catalogue, ui_container
    ):
        app = PickerHost(services)
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await settle(pilot)
            with ui_container.db.engine.begin() as connection:
                connection.exec_driver_sql("ALTER TABLE models RENAME TO models_gone")
            await press(pilot, "ctrl+g", "ctrl+t")
            text = screen_text(app)
            # The reason names the file now, so it wraps: read it as one line.
            flat = " ".join(text.replace("│", " ").replace("▌", " ").split()).lower()
            assert "no such table: models" in flat
            assert isinstance(app.screen, ModelPickerScreen)


class TestHostileText:
    async def test_control_sequences_and_markup_in_names_show_as_inert_text(
        self, services, ui_container
    ):
        osc = add(ui_container, "osc")
        force_text(ui_container, osc.id, name="\x1b]52;c;aGk=\x07clip", api_model="x\x1b[31mred")
        add(ui_container, "[bold]markup[/]")
        app = PickerHost(services)
        async with app.run_test(size=(120, 30), notifications=True) as pilot:
            await settle(pilot)
            text = screen_text(app)
            assert "␛]52;c;aGk=␇clip" in text
            assert "x␛[31mred" in text
            assert "[bold]markup[/]" in text
            assert "\x1b" not in text and "\x07" not in text

    async def test_hostile_name_in_notifications_and_confirmation_is_inert(
        self, services, ui_container
    ):
        osc = add(ui_container, "osc")
        force_text(ui_container, osc.id, name="\x1b]52;c;aGk=\x07[b]x[/b]")
        app = PickerHost(services)
        async with app.run_test(size=(120, 30), notifications=True) as pilot:
            await settle(pilot)
            await press(pilot, "ctrl+g", "ctrl+t")
            assert "Disabled model '␛]52;c;aGk=␇[b]x[/b]'" in screen_text(app)
            await press(pilot, "ctrl+d")
            text = screen_text(app)
            assert "Delete model '␛]52;c;aGk=␇[b]x[/b]'?" in text
            assert "\x1b" not in text


class TestLook:
    @pytest.mark.parametrize("size", [(80, 24), (120, 40)])
    def test_picker(self, snap_compare, services, catalogue, size):
        async def opened(pilot: Pilot[None]) -> None:
            await settle(pilot)
            steady_cursor(pilot.app)

        app = PickerHost(services, current_model_id=catalogue["mini"].id)
        assert snap_compare(app, terminal_size=size, run_before=opened)

    @pytest.mark.parametrize("size", [(80, 24), (120, 40)])
    def test_manage_mode(self, snap_compare, services, catalogue, size):
        async def manage(pilot: Pilot[None]) -> None:
            await settle(pilot)
            await press(pilot, "ctrl+g")
            steady_cursor(pilot.app)

        app = PickerHost(services, current_model_id=catalogue["mini"].id)
        assert snap_compare(app, terminal_size=size, run_before=manage)
