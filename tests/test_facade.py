"""The async facade: database work runs off the event loop, so the UI never freezes."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import threading
import time
import types
import typing
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection

from synergia_tui.bootstrap import Container
from synergia_tui.core.db import WRITE_OPTION, create_db_engine
from synergia_tui.core.errors import NotFoundError
from synergia_tui.models import AIModelCreate
from synergia_tui.services.facade import AsyncService, AsyncServices, off_loop

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


def _facade_classes() -> dict[str, type[AsyncService[typing.Any]]]:
    """``AsyncServices``' attributes and their classes (``X | None`` unwrapped)."""
    classes = {}
    for name, hint in typing.get_type_hints(AsyncServices).items():
        if isinstance(hint, types.UnionType):
            (hint,) = (arg for arg in typing.get_args(hint) if arg is not type(None))
        classes[name] = hint
    return classes


def _wrapped_class(facade_class: type[AsyncService[typing.Any]]) -> type:
    (base,) = facade_class.__orig_bases__  # type: ignore[attr-defined]
    (service_class,) = typing.get_args(base)
    return service_class


def test_every_service_of_the_container_is_in_the_facade():
    services = {
        field.name: hint
        for field in dataclasses.fields(Container)
        if (hint := typing.get_type_hints(Container)[field.name]).__name__.endswith("Service")
    }
    facade = {name: _wrapped_class(cls) for name, cls in _facade_classes().items()}
    assert facade == services


@pytest.mark.parametrize("attribute", sorted(_facade_classes()))
def test_the_facade_offers_every_public_method_of_its_service(attribute):
    facade_class = _facade_classes()[attribute]
    service_class = _wrapped_class(facade_class)
    public = {
        name
        for name, _ in inspect.getmembers(service_class, inspect.isfunction)
        if not name.startswith("_")
    }
    offered = {name: d for name, d in vars(facade_class).items() if isinstance(d, off_loop)}
    assert set(offered) == public, f"add the missing methods to {facade_class.__name__}"
    for name, descriptor in offered.items():
        assert descriptor.method is getattr(service_class, name)  # not another service's


async def test_a_facade_method_keeps_its_service_methods_signature(services, container):
    assert inspect.signature(services.chats.list_chats) == inspect.signature(
        container.chats.list_chats
    )
    assert services.chats.sync is container.chats


async def test_a_facade_call_runs_on_a_worker_thread_not_the_event_loop(services, monkeypatch):
    ran_on: list[threading.Thread] = []
    list_chats = services.chats.sync.list_chats

    def recording(**kwargs: typing.Any) -> typing.Any:
        ran_on.append(threading.current_thread())
        return list_chats(**kwargs)

    monkeypatch.setattr(services.chats.sync, "list_chats", recording)
    page = await services.chats.list_chats(limit=5)

    assert page.chats == []
    (thread,) = ran_on
    assert thread is not threading.current_thread()
    assert thread.name.startswith("synergia-db")


def test_wrapping_a_method_under_another_name_is_refused():
    class Probe:
        def where(self) -> str:
            return threading.current_thread().name

    with pytest.raises((TypeError, RuntimeError)) as raised:

        class AsyncProbe(AsyncService[Probe]):
            elsewhere = off_loop(Probe.where)

    error = raised.value.__cause__ or raised.value  # Python 3.11 wraps it in a RuntimeError
    assert isinstance(error, TypeError)
    assert "AsyncProbe.elsewhere wraps a method named 'where'" in str(error)
