"""The async facade: database work runs off the event loop, so the UI never freezes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection

from synergia_tui.core.db import WRITE_OPTION, create_db_engine
from synergia_tui.core.errors import NotFoundError
from synergia_tui.models import AIModelCreate

HOLD_S = 0.5
TICKER_MAX_S = 30.0


@pytest.fixture
def services(container):
    facade = container.async_services()
    yield facade
    facade.shutdown()


@pytest.fixture
def write_lock(db_url, backend) -> Iterator[Connection]:
    """A second connection that holds the lock every writer of ``models`` must wait for."""
    engine = create_db_engine(db_url)
    # On SQLite a writer's transaction starts with BEGIN IMMEDIATE: the database's one write lock.
    connection = engine.execution_options(**{WRITE_OPTION: True}).connect()
    connection.begin()
    if backend == "postgresql":
        connection.execute(text("LOCK TABLE models IN ACCESS EXCLUSIVE MODE"))
    yield connection
    connection.close()
    engine.dispose()


async def test_a_slow_database_call_does_not_stall_the_event_loop(services, write_lock):
    ticks = 0

    async def ticker() -> None:
        # Cancelled once the call returns; the deadline only stops it if the test never gets there.
        nonlocal ticks
        deadline = time.monotonic() + TICKER_MAX_S
        while time.monotonic() < deadline:
            await asyncio.sleep(0.01)
            ticks += 1

    ticking = asyncio.create_task(ticker())
    await asyncio.sleep(0.05)
    # The lock is released from the loop itself: if the call blocked the loop, it never would be.
    asyncio.get_running_loop().call_later(HOLD_S, write_lock.rollback)
    before, start = ticks, time.monotonic()
    added = await services.models.add_model(
        AIModelCreate(name="gpt", provider="openai", api_model="gpt-4o-mini")
    )
    elapsed = time.monotonic() - start
    during = ticks - before
    ticking.cancel()

    assert added.name == "gpt"
    assert elapsed >= HOLD_S * 0.9  # the call really waited on the database
    assert during >= 0.5 * elapsed / 0.01  # and the loop kept ticking meanwhile


async def test_facade_calls_return_read_objects_and_raise_typed_errors(services):
    added = await services.models.add_model(
        AIModelCreate(name="gpt", provider="openai", api_model="gpt-4o-mini")
    )
    chat = await services.chats.create_chat(model_id=added.id)
    await services.messages.add_user_message(chat.id, "Hello")
    page = await services.messages.list_messages(chat.id)
    assert [m.content for m in page.messages] == ["Hello"]
    with pytest.raises(NotFoundError):
        await services.chats.get_chat(added.id)


async def test_many_facade_calls_can_run_at_once(services):
    chats = await asyncio.gather(*(services.chats.create_chat(title=f"c{n}") for n in range(20)))
    assert len({c.id for c in chats}) == 20
    listed = await services.chats.list_chats(limit=100)
    assert len(listed.chats) == 20
