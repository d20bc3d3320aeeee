"""What the screen says when something is wrong says what is wrong, in plain text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from synergia_tui.core.config import Settings
from synergia_tui.ui.app import SynergiaApp
from tests.ui.conftest import TEST_VERSION, notifications, settle


def _app_on(url) -> SynergiaApp:
    settings = Settings(synergia_database_url=url.render_as_string(hide_password=False))
    return SynergiaApp(
        settings,
        clock=lambda: datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
        version=TEST_VERSION,
        health_interval=None,
    )


async def _until_notified(pilot, app, needle: str, rounds: int = 200) -> list[str]:
    for _ in range(rounds):
        await pilot.pause(0.02)
        shown = notifications(app)
        if any(needle in n for n in shown):
            return shown
    raise AssertionError(f"no notification with {needle!r}: {notifications(app)}")


@pytest.mark.postgres
async def test_keys_on_an_empty_server_schema_say_to_run_db_upgrade(postgres_databases):
    app = _app_on(postgres_databases.create())  # a database with no schema at all
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        # Start-up finds the schema missing and says so in the pane.
        for _ in range(200):
            await pilot.pause(0.02)
            if app.main_screen.column.unavailable:
                break
        await pilot.press("ctrl+n")
        shown = await _until_notified(pilot, app, "synergia db upgrade")
        assert not any("still opening" in n for n in shown)


async def test_ctrl_c_outside_a_text_box_says_how_to_quit_in_plain_text(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        app.main_screen.set_focus(None)
        await pilot.press("ctrl+c")
        shown = await _until_notified(pilot, app, "to quit")
        assert "Press ctrl+q to quit Synergia." in shown
        assert not any("[b]" in n for n in shown)
