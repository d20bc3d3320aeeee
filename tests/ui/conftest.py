"""Fixtures for UI tests: real services on a real (embedded SQLite) database."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import URL

from synergia_tui.bootstrap import Container, build
from synergia_tui.core.config import Settings
from synergia_tui.models import AIModelCreate, AIModelRead, Message
from synergia_tui.services.facade import AsyncServices
from synergia_tui.ui.app import SynergiaApp
from tests.support import one_path

TEST_VERSION = "9.9.9-test"


@pytest.fixture
def ui_container(tmp_path: Path) -> Iterator[Container]:
    """A migrated embedded database for user ``alice`` and the services over it."""
    url = URL.create("sqlite+pysqlite", database=str(tmp_path / "ui" / "synergia.db"))
    settings = Settings(
        synergia_database_url=url.render_as_string(hide_password=False), synergia_user="alice"
    )
    container = build(settings)
    container.ensure_schema()
    yield container
    container.close()


@pytest.fixture
def services(ui_container: Container) -> Iterator[AsyncServices]:
    built = ui_container.async_services()
    yield built
    built.shutdown()


@pytest.fixture
def a_model(ui_container: Container) -> AIModelRead:
    """An enabled model, so prompts can be sent."""
    return ui_container.models.add_model(
        AIModelCreate(
            name="gpt-test", provider="openai", api_model="gpt-4o-mini", price_per_million_tokens=1
        )
    )


def clock_after(container: Container, minutes: int = 5) -> Callable[[], datetime]:
    """A fixed clock ``minutes`` after the newest chat activity (stable relative times)."""
    page = container.chats.list_chats(limit=1)
    newest = page.chats[0].updated_at if page.chats else datetime(2025, 1, 1, tzinfo=UTC)
    fixed = newest + timedelta(minutes=minutes)
    return lambda: fixed


@pytest.fixture
def make_app(services: AsyncServices, ui_container: Container) -> Callable[..., SynergiaApp]:
    """An app over the test database: fixed version, no background health polling."""

    def make(**kwargs: Any) -> SynergiaApp:
        kwargs.setdefault("clock", clock_after(ui_container))
        kwargs.setdefault("version", TEST_VERSION)
        kwargs.setdefault("health_interval", None)
        kwargs.setdefault("live_sync", False)  # tests/ui/test_live_sync.py turns it on
        return SynergiaApp(services=services, **kwargs)

    return make


async def settle(pilot: Any) -> None:
    """Wait until every worker is done and the screen has caught up."""
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def wait_until(
    pilot: Any, condition: Callable[[], bool], what: str = "condition", timeout: float = 20.0
) -> None:
    """Let the app run until ``condition`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not so after {timeout:.0f} s")
        await pilot.pause(0.02)


def screen_text(app: SynergiaApp) -> str:
    """What the terminal would show, as plain text."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def notifications(app: SynergiaApp) -> list[str]:
    return [n.message for n in app._notifications]


def add_messages(container: Container, chat_id: Any, model_id: Any, count: int) -> None:
    """Insert ``count`` alternating messages in one transaction (fast, for long chats), one
    path: each follows the one before."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with container.db.unit_of_work(write=True) as uow:
        uow.session.add_all(
            one_path(
                [
                    Message(
                        chat_id=chat_id,
                        model_id=model_id,
                        role="user" if i % 2 == 0 else "assistant",
                        content=f"message number {i}",
                        created_at=start + timedelta(seconds=i),
                    )
                    for i in range(count)
                ]
            )
        )
        uow.commit()
