"""Discovering models: what a real server offers, what gets added, and what goes wrong inline."""

# Tests take the imported ``fake_provider`` fixture as a parameter, which ruff reads as a
# redefinition of the import.
# ruff: noqa: F811

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, Select, SelectionList

from synergia_tui.bootstrap import Container
from synergia_tui.core.paths import resource
from synergia_tui.models.ai_model import AIModelRead
from synergia_tui.services.facade import AsyncServices
from synergia_tui.ui.screens.discover_models import DiscoverModelsScreen
from synergia_tui.ui.screens.model_picker import ModelPickerScreen
from tests.fake_provider_server import Script, fake_provider  # noqa: F401
from tests.ui.test_model_picker import add, press, screen_text, settle, shown_names

UNSET = object()
KEY = "sk-discover-secret-0000000000"
ENVIRON = {"OPENAI_API_KEY": KEY}


class ScreenHost(App[None]):
    """Pushes one screen on mount and keeps what it was dismissed with."""

    CSS_PATH = resource("styles.tcss")

    def __init__(self, make_screen: Callable[[], Screen[object]]) -> None:
        super().__init__()
        self.make_screen = make_screen
        self.result: object = UNSET

    def on_mount(self) -> None:
        self.push_screen(self.make_screen(), self._screen_closed)

    def _screen_closed(self, result: object) -> None:
        self.result = result


def discovery(services: AsyncServices, environ: Mapping[str, str] = ENVIRON) -> ScreenHost:
    return ScreenHost(lambda: DiscoverModelsScreen(services, environ=environ))


async def wait_until(pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 10.0):
    """Let the app run until ``condition`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    await settle(pilot)
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await settle(pilot)


def status(app: App[None]) -> str:
    return str(app.screen.query_one("#discover-status").render())


def offered(app: App[None]) -> list[str]:
    """The model ids in the list, as shown, top to bottom."""
    selection_list = app.screen.query_one("#discover-list", SelectionList)
    return [
        selection_list.get_option_at_index(i).prompt.plain.split("  ")[0]
        for i in range(selection_list.option_count)
    ]


async def list_models(
    pilot: Pilot[None], *, provider: str = "openai", base_url: str = "", key_env: str = ""
) -> None:
    """Fill the form as a user would, press enter in it, and wait for the answer."""
    screen = pilot.app.screen
    screen.query_one("#discover-provider", Select).value = provider
    screen.query_one("#discover-key-env", Input).value = key_env
    base = screen.query_one("#discover-base-url", Input)
    base.value = base_url
    base.focus()
    await settle(pilot)
    await pilot.press("enter")
    await wait_until(pilot, lambda: not status(pilot.app).startswith("Asking"))


class TestListing:
    async def test_lists_what_an_openai_compatible_server_offers(self, services, fake_provider):
        fake_provider.script = Script(models=("alpha-1", "beta-2", "gamma-3"))
        app = discovery(services)
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await settle(pilot)
            await list_models(pilot, base_url=fake_provider.openai_base_url)
            assert offered(app) == ["alpha-1", "beta-2", "gamma-3"]
            text = screen_text(app)
            assert "3 models at" in text and "beta-2" in text
            request = fake_provider.last_request
            assert request.path == "/v1/models"
            assert request.headers["authorization"] == f"Bearer {KEY}"
            assert KEY not in text

    async def test_the_default_server_and_key_variable_are_shown_as_placeholders(self, services):
        app = discovery(services)
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await settle(pilot)
            text = screen_text(app)
            assert "https://api.openai.com/v1" in text and "OPENAI_API_KEY" in text
            app.screen.query_one("#discover-provider", Select).value = "ollama"
            await settle(pilot)
            text = screen_text(app)
            assert "http://localhost:11434/v1" in text and "not needed" in text

    async def test_lists_an_ollama_servers_pulled_models(self, services, fake_provider):
        fake_provider.script = Script(models=("llama3.2:latest", "qwen2.5:7b"))
        app = discovery(services, environ={})
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await settle(pilot)
            await list_models(pilot, provider="ollama", base_url=fake_provider.ollama_base_url)
            assert offered(app) == ["llama3.2:latest", "qwen2.5:7b"]
            assert fake_provider.last_request.path == "/api/tags"

    async def test_hostile_model_ids_are_shown_inert(self, services, fake_provider):
        fake_provider.script = Script(models=("\x1b[31mred\x1b]0;pwned\x07", "[bold]x[/]"))
        app = discovery(services)
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await settle(pilot)
            await list_models(pilot, base_url=fake_provider.openai_base_url)
            text = screen_text(app)
            assert "␛[31mred␛]0;pwned␇" in text
            assert "[bold]x[/]" in text
            assert "\x1b" not in "".join(offered(app))


class TestAdding:
    async def test_adds_the_selected_models_and_returns_them(
        self, services, ui_container: Container, fake_provider
    ):
        fake_provider.script = Script(models=("alpha-1", "beta-2", "gamma-3"))
        app = discovery(services)
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await settle(pilot)
            await list_models(
                pilot, base_url=fake_provider.openai_base_url, key_env="OPENAI_API_KEY"
            )
            await press(pilot, "space", "down", "down", "space", "ctrl+r")  # alpha and gamma
            await wait_until(pilot, lambda: app.result is not UNSET)
        assert isinstance(app.result, list)
        assert [model.name for model in app.result] == ["alpha-1", "gamma-3"]
        stored = {model.name: model for model in ui_container.models.list_models()}
        assert set(stored) == {"alpha-1", "gamma-3"}
        gamma = stored["gamma-3"]
        assert (gamma.provider, gamma.api_model) == ("openai", "gamma-3")
        assert gamma.base_url == fake_provider.openai_base_url
        assert gamma.api_key_env == "OPENAI_API_KEY"

    async def test_a_model_already_in_the_catalogue_cannot_be_selected_again(
        self, services, ui_container: Container, fake_provider
    ):
        add(ui_container, "beta-2")
        fake_provider.script = Script(models=("alpha-1", "beta-2", "gamma-3"))
        app = discovery(services)
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await settle(pilot)
            await list_models(pilot, base_url=fake_provider.openai_base_url)
            line = next(row for row in screen_text(app).splitlines() if "beta-2" in row)
            assert "already in the catalogue" in line
            await press(pilot, "space", "down", "space")  # down steps over beta-2
            assert app.screen.query_one("#discover-list", SelectionList).selected == [0, 2]
            await press(pilot, "ctrl+r")
            await wait_until(pilot, lambda: app.result is not UNSET)
        assert [model.name for model in app.result] == ["alpha-1", "gamma-3"]  # type: ignore[attr-defined]

    async def test_a_name_taken_meanwhile_is_skipped_with_a_message(
        self, services, ui_container: Container, fake_provider
    ):
        fake_provider.script = Script(models=("alpha-1", "beta-2"))
        app = discovery(services)
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await settle(pilot)
            await list_models(pilot, base_url=fake_provider.openai_base_url)
            add(ui_container, "beta-2")  # another client adds it while the list is open
            await press(pilot, "space", "down", "space", "ctrl+r")
            await wait_until(pilot, lambda: "Skipped" in status(app))
            text = screen_text(app)
            assert "Added 1 model: 'alpha-1'." in text
            assert "Model 'beta-2' already exists" in text
            assert isinstance(app.screen, DiscoverModelsScreen)  # open, so it can be read
            await press(pilot, "escape")
        assert [model.name for model in app.result] == ["alpha-1"]  # type: ignore[attr-defined]
        assert sorted(m.name for m in ui_container.models.list_models()) == ["alpha-1", "beta-2"]

    async def test_escape_without_adding_returns_nothing(self, services, ui_container):
        app = discovery(services)
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await settle(pilot)
            await press(pilot, "escape")
        assert app.result == []
        assert ui_container.models.list_models() == []


class TestProblems:
    async def test_a_dead_server_is_reported_inline(self, services):
        app = discovery(services)
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await settle(pilot)
            await list_models(pilot, base_url="http://127.0.0.1:1/v1")
            assert isinstance(app.screen, DiscoverModelsScreen)
            assert "cannot connect to http://127.0.0.1:1/v1" in screen_text(app)
            assert app.screen.query_one("#discover-status").has_class("-error")
            assert offered(app) == []

    async def test_a_refused_key_is_reported_inline_without_the_key(self, services, fake_provider):
        fake_provider.script = Script(status=401)
        app = discovery(services)
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await settle(pilot)
            await list_models(pilot, base_url=fake_provider.openai_base_url)
            text = screen_text(app)
            assert "openai: the API key was refused (HTTP 401)" in text
            assert KEY not in text and KEY[-4:] not in text

    async def test_a_missing_key_names_the_variable_to_set(self, services, fake_provider):
        app = discovery(services, environ={})
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await settle(pilot)
            await list_models(pilot, base_url=fake_provider.openai_base_url, key_env="MY_KEY")
            assert "set the environment variable MY_KEY" in screen_text(app)
            assert fake_provider.requests == []

    async def test_a_key_pasted_as_the_variable_name_is_refused_and_not_echoed(
        self, services, fake_provider
    ):
        app = discovery(services)
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await settle(pilot)
            pasted = "sk-proj-abc/def+ghi"
            await list_models(pilot, base_url=fake_provider.openai_base_url, key_env=pasted)
            assert "NAME of an environment variable" in status(app)
            assert pasted not in status(app)
            assert fake_provider.requests == []

    async def test_a_problem_can_be_fixed_and_listed_again(self, services, fake_provider):
        fake_provider.script = Script(models=("alpha-1",))
        app = discovery(services)
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await settle(pilot)
            await list_models(pilot, base_url="http://127.0.0.1:1/v1")
            assert "cannot connect" in status(app)
            await list_models(pilot, base_url=fake_provider.openai_base_url)
            assert offered(app) == ["alpha-1"]
            assert not app.screen.query_one("#discover-status").has_class("-error")


class TestFromThePicker:
    async def test_models_added_by_discovery_show_up_in_the_picker(
        self, services, ui_container: Container, fake_provider
    ):
        fake_provider.script = Script(models=("llama3.2:latest", "qwen2.5:7b"))
        app = ScreenHost(lambda: ModelPickerScreen(services))
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await settle(pilot)
            await press(pilot, "ctrl+g", "ctrl+l")
            assert isinstance(app.screen, DiscoverModelsScreen)
            await list_models(pilot, provider="ollama", base_url=fake_provider.ollama_base_url)
            await press(pilot, "down", "space", "ctrl+r")
            await wait_until(pilot, lambda: isinstance(app.screen, ModelPickerScreen))
            await wait_until(pilot, lambda: "qwen2.5:7b" in shown_names(app))
            assert "Added 1 model: 'qwen2.5:7b'." in screen_text(app)
        (stored,) = ui_container.models.list_models()
        assert (stored.name, stored.provider) == ("qwen2.5:7b", "ollama")
        assert isinstance(stored, AIModelRead)
