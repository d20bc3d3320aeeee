"""Live sync through a PostgreSQL restart: the status bar says sync is off while the server is
gone, the listener connects again by itself, and what another session stored meanwhile (whose
notifications nobody heard) shows without a keypress."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from synergia_tui.bootstrap import build
from synergia_tui.ui.app import SynergiaApp
from tests.conftest import settings_for
from tests.ui.conftest import TEST_VERSION, screen_text, settle, wait_until


async def test_live_sync_comes_back_after_a_restart_and_catches_up(outage_postgres):
    cluster, url = outage_postgres
    here, there = build(settings_for(url)), build(settings_for(url))
    try:
        here.chats.create_chat(title="Before")
        app = SynergiaApp(
            services=here.async_services(),
            clock=lambda: datetime(2026, 12, 4, 12, 0, tzinfo=UTC),
            version=TEST_VERSION,
            health_interval=None,
        )
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            bar = app.main_screen.status_bar
            await wait_until(pilot, lambda: bar.live is True, "live sync up")

            await asyncio.to_thread(cluster.stop)
            await wait_until(pilot, lambda: bar.live is False, "live sync off", 30.0)
            assert "live sync off" in screen_text(app)
            await asyncio.to_thread(cluster.start)
            # Stored the moment the server is back: the listener may not be listening yet.
            await asyncio.to_thread(there.chats.create_chat, title="While you were away")
            titles = lambda: [c.title for c in app.main_screen.sidebar.chats]  # noqa: E731
            await wait_until(
                pilot, lambda: titles() == ["While you were away", "Before"], "caught up", 30.0
            )
            await wait_until(pilot, lambda: bar.live is True, "live sync back", 30.0)
            there.chats.create_chat(title="And after")
            await wait_until(pilot, lambda: titles()[0] == "And after", "heard again", 10.0)
    finally:
        here.close()
        there.close()
