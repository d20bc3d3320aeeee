"""The status bar's context budget while typing: what the next request would use of the
model's window, exact after a reply the provider counted, with the typed prompt estimated."""

# ruff: noqa: F811
from __future__ import annotations

import pytest

from synergia_tui.models import AIModelCreate
from tests.fake_provider_server import Script, fake_provider  # noqa: F401
from tests.ui.conftest import screen_text, settle, wait_until


@pytest.fixture
def windowed_model(ui_container, fake_provider, monkeypatch):
    monkeypatch.setenv("FAKE_KEY", "sk-ui-budget-000000000")
    return ui_container.models.add_model(
        AIModelCreate(
            name="served",
            provider="openai",
            api_model="fake-model-a",
            base_url=fake_provider.openai_base_url,
            api_key_env="FAKE_KEY",
            context_window=8_000,
        )
    )


async def test_the_budget_shows_before_sending_and_follows_the_typing(
    make_app, windowed_model, fake_provider
):
    fake_provider.script = Script(reply="A short answer.", prompt_tokens=100, completion_tokens=50)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        bar = app.main_screen.status_bar
        assert bar.context == "0 / 8k"  # a new chat, nothing in it yet
        await pilot.press(*"hello")
        await wait_until(pilot, lambda: bar.context == "~2 / 8k", "the typed prompt counted")
        await pilot.press("enter")
        await settle(pilot)
        await wait_until(pilot, lambda: bar.context == "150 / 8k", "the reply's own count")
        assert "ctx 150 / 8k" in screen_text(app)
        await pilot.press(*"x" * 40)
        await wait_until(pilot, lambda: bar.context == "~160 / 8k", "typing adds an estimate")
