"""First run: the models a new user can add at once, found from their keys and a local Ollama."""

# Tests take the imported ``fake_provider`` fixture as a parameter, which ruff reads as a
# redefinition of the import.
# ruff: noqa: F811

from __future__ import annotations

from decimal import Decimal

from textual.app import App
from textual.widgets import SelectionList

from synergia_tui.bootstrap import Container
from synergia_tui.services.facade import AsyncServices
from synergia_tui.ui.screens.first_run import FirstRunScreen, nothing_available_hint
from tests.fake_provider_server import Script, fake_provider  # noqa: F401
from tests.ui.test_discover_models import UNSET, ScreenHost, wait_until
from tests.ui.test_model_picker import add, press, screen_text, settle

DEAD_OLLAMA = "http://127.0.0.1:1/v1"
OPENAI_KEY = "sk-first-run-secret-1111111111"
ANTHROPIC_KEY = "sk-ant-first-run-secret-2222222222"


def first_run(
    services: AsyncServices, environ: dict[str, str], ollama_url: str = DEAD_OLLAMA
) -> ScreenHost:
    return ScreenHost(lambda: FirstRunScreen(services, environ=environ, ollama_url=ollama_url))


def offered(app: App[None]) -> list[str]:
    """The model ids offered, top to bottom."""
    selection_list = app.screen.query_one("#first-run-list", SelectionList)
    return [
        selection_list.get_option_at_index(i).prompt.plain.split()[0]
        for i in range(selection_list.option_count)
    ]


def probed(app: App[None]) -> bool:
    """Whether the screen has heard back about Ollama."""
    if not isinstance(app.screen, FirstRunScreen):
        return False
    return "Looking for Ollama" not in str(app.screen.query_one("#first-run-found").render())


class TestOffers:
    async def test_an_openai_key_offers_the_openai_defaults_with_prices(self, services):
        app = first_run(services, {"OPENAI_API_KEY": OPENAI_KEY})
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await wait_until(pilot, lambda: probed(app))
            assert offered(app) == ["gpt-4o-mini", "gpt-4o"]
            text = screen_text(app)
            assert "OPENAI_API_KEY set" in text
            mini = next(line for line in text.splitlines() if "gpt-4o-mini" in line)
            assert "openai" in mini and "0.15 / 0.60" in mini
            assert OPENAI_KEY not in text

    async def test_an_anthropic_key_offers_the_anthropic_defaults(self, services):
        app = first_run(services, {"ANTHROPIC_API_KEY": ANTHROPIC_KEY})
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await wait_until(pilot, lambda: probed(app))
            assert offered(app) == ["claude-3-5-haiku-latest", "claude-sonnet-4-5"]
            sonnet = next(line for line in screen_text(app).splitlines() if "sonnet" in line)
            assert "3.00 / 15.00" in sonnet
            assert ANTHROPIC_KEY not in screen_text(app)

    async def test_an_empty_key_variable_offers_nothing(self, services):
        app = first_run(services, {"OPENAI_API_KEY": "  "})
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await wait_until(pilot, lambda: probed(app))
            assert offered(app) == []
            assert "No OpenAI or Anthropic key set" in screen_text(app)

    async def test_a_local_ollama_offers_its_models_for_free(self, services, fake_provider):
        fake_provider.script = Script(models=("llama3.2:latest", "qwen2.5:7b"))
        app = first_run(services, {}, ollama_url=fake_provider.ollama_base_url)
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await wait_until(pilot, lambda: probed(app))
            assert offered(app) == ["llama3.2:latest", "qwen2.5:7b"]
            text = screen_text(app)
            assert "2 models" in text
            qwen = next(line for line in text.splitlines() if "qwen2.5:7b" in line)
            assert "ollama" in qwen and "free" in qwen
            assert fake_provider.last_request.path == "/api/tags"

    async def test_keys_and_ollama_together_are_all_offered(self, services, fake_provider):
        fake_provider.script = Script(models=("llama3.2:latest",))
        environ = {"OPENAI_API_KEY": OPENAI_KEY, "ANTHROPIC_API_KEY": ANTHROPIC_KEY}
        app = first_run(services, environ, ollama_url=fake_provider.ollama_base_url)
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await wait_until(pilot, lambda: probed(app))
            assert offered(app) == [
                "gpt-4o-mini",
                "gpt-4o",
                "claude-3-5-haiku-latest",
                "claude-sonnet-4-5",
                "llama3.2:latest",
            ]

    async def test_hostile_model_names_from_ollama_are_shown_inert(self, services, fake_provider):
        fake_provider.script = Script(models=("\x1b[2J\x1b[31mwipe", "[bold]x[/]"))
        app = first_run(services, {}, ollama_url=fake_provider.ollama_base_url)
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await wait_until(pilot, lambda: probed(app))
            text = screen_text(app)
            assert "␛[2J␛[31mwipe" in text
            assert "[bold]x[/]" in text


class TestNothingAvailable:
    async def test_says_how_to_add_a_model(self, services):
        app = first_run(services, {})
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await wait_until(pilot, lambda: probed(app))
            text = screen_text(app)
            assert "No OpenAI or Anthropic key set" in text
            assert f"No Ollama answering at {DEAD_OLLAMA}" in text
            assert "ctrl+o, then ctrl+g and ctrl+r" in text
            assert "synergia models add NAME --provider openai" in text
            await press(pilot, "enter")  # the focused Close button
        assert app.result == []

    def test_the_hint_is_two_lines_naming_the_keys_and_the_command(self):
        hint = nothing_available_hint()
        assert len(hint.splitlines()) == 2
        assert "ctrl+o" in hint and "ctrl+r" in hint
        assert "--api-key-env OPENAI_API_KEY" in hint


class TestAdding:
    async def test_adds_the_chosen_openai_model_with_its_prices(
        self, services, ui_container: Container
    ):
        app = first_run(services, {"OPENAI_API_KEY": OPENAI_KEY})
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await wait_until(pilot, lambda: probed(app))
            await press(pilot, "down", "space", "ctrl+r")  # gpt-4o
            await wait_until(pilot, lambda: app.result is not UNSET)
        assert [model.name for model in app.result] == ["gpt-4o"]  # type: ignore[attr-defined]
        (stored,) = ui_container.models.list_models()
        assert (stored.name, stored.provider, stored.api_model) == ("gpt-4o", "openai", "gpt-4o")
        assert stored.price_per_million_tokens == Decimal("2.50")
        assert stored.output_price_per_million_tokens == Decimal("10.00")
        assert stored.api_key_env == "OPENAI_API_KEY"

    async def test_adds_ollama_models_pointing_at_the_server_found(
        self, services, ui_container: Container, fake_provider
    ):
        fake_provider.script = Script(models=("llama3.2:latest", "qwen2.5:7b"))
        app = first_run(services, {}, ollama_url=fake_provider.ollama_base_url)
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await wait_until(pilot, lambda: probed(app))
            await press(pilot, "space", "down", "space", "ctrl+r")
            await wait_until(pilot, lambda: app.result is not UNSET)
        stored = {model.name: model for model in ui_container.models.list_models()}
        assert set(stored) == {"llama3.2:latest", "qwen2.5:7b"}
        assert stored["qwen2.5:7b"].provider == "ollama"
        assert stored["qwen2.5:7b"].base_url == fake_provider.ollama_base_url
        assert stored["qwen2.5:7b"].price_per_million_tokens == 0

    async def test_escape_skips_without_adding(self, services, ui_container: Container):
        app = first_run(services, {"OPENAI_API_KEY": OPENAI_KEY})
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await wait_until(pilot, lambda: probed(app))
            await press(pilot, "space", "escape")
        assert app.result == []
        assert ui_container.models.list_models() == []

    async def test_adding_with_nothing_ticked_says_what_to_do(self, services, ui_container):
        app = first_run(services, {"OPENAI_API_KEY": OPENAI_KEY})
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await wait_until(pilot, lambda: probed(app))
            await pilot.click("#first-run-add")
            await settle(pilot)
            assert "Tick models first" in screen_text(app)
            assert app.result is UNSET
        assert ui_container.models.list_models() == []

    async def test_a_name_already_taken_is_skipped_with_a_message(
        self, services, ui_container: Container
    ):
        add(ui_container, "gpt-4o-mini")  # e.g. added from the CLI while this screen was open
        app = first_run(services, {"OPENAI_API_KEY": OPENAI_KEY})
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await wait_until(pilot, lambda: probed(app))
            await press(pilot, "space", "down", "space", "ctrl+r")
            await wait_until(pilot, lambda: "Skipped" in screen_text(app))
            text = screen_text(app)
            assert "Added 1 model: 'gpt-4o'." in text
            assert "Model 'gpt-4o-mini' already exists" in text
            assert offered(app) == ["gpt-4o-mini"]  # what was added left the list
            await press(pilot, "escape")
        assert [model.name for model in app.result] == ["gpt-4o"]  # type: ignore[attr-defined]


async def test_the_app_offers_first_run_models_when_the_catalogue_is_empty(
    ui_container, services, monkeypatch
):
    from synergia_tui.ui.app import SynergiaApp
    from tests.ui.conftest import TEST_VERSION
    from tests.ui.conftest import screen_text as app_text
    from tests.ui.conftest import settle as settle_app

    monkeypatch.setenv("OPENAI_API_KEY", "sk-first-run-000000000")
    app = SynergiaApp(
        services=services, version=TEST_VERSION, health_interval=None, offer_first_run=True
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await settle_app(pilot)
        assert isinstance(app.screen, FirstRunScreen)
        await pilot.press("escape")
        await settle_app(pilot)
        assert "synergia models add" in app_text(app)  # the empty state says how to add one


async def test_the_app_does_not_offer_first_run_once_a_model_exists(
    ui_container, services, monkeypatch
):
    from synergia_tui.models import AIModelCreate
    from synergia_tui.ui.app import SynergiaApp
    from tests.ui.conftest import TEST_VERSION
    from tests.ui.conftest import settle as settle_app

    ui_container.models.add_model(AIModelCreate(name="m", provider="openai", api_model="x"))
    app = SynergiaApp(
        services=services, version=TEST_VERSION, health_interval=None, offer_first_run=True
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await settle_app(pilot)
        assert not isinstance(app.screen, FirstRunScreen)
