"""Recovery knows whose reply it is: no start-up, in any process, overwrites a live or a finished
reply.

Every change of a reply to ``error`` is recorded by a database trigger, so a reply that was
flipped to "Interrupted" and back during its stream is caught, not only one left that way.
"""

# ruff: noqa: F811
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from synergia_tui.core.clock import utcnow
from synergia_tui.models import AIModelCreate
from synergia_tui.services.replies import INTERRUPTED, ReplyService
from synergia_tui.services.streaming import ReplyStreamer
from tests.conftest import settings_for
from tests.fake_provider_server import Script, fake_provider  # noqa: F401

ANOTHER_MACHINE = "elsewhere/0c2ca64f-0000-0000-0000-000000000000/4242/1"
"""A lease owner on another host: only its lease's expiry can tell it is gone."""

AUDIT = {
    "sqlite": [
        "CREATE TABLE errors_seen (message_id TEXT, error TEXT)",
        "CREATE TRIGGER errors_seen_on_update AFTER UPDATE OF status ON messages"
        " WHEN NEW.status = 'error' BEGIN"
        " INSERT INTO errors_seen VALUES (NEW.id, NEW.error); END",
    ],
    "postgresql": [
        "CREATE TABLE errors_seen (message_id uuid, error text)",
        "CREATE FUNCTION record_error() RETURNS trigger AS $$ BEGIN"
        " INSERT INTO errors_seen VALUES (NEW.id, NEW.error); RETURN NEW; END $$"
        " LANGUAGE plpgsql SECURITY DEFINER",  # the audit is the test's, not the user's
        "CREATE TRIGGER errors_seen_on_update AFTER UPDATE OF status ON messages"
        " FOR EACH ROW WHEN (NEW.status = 'error') EXECUTE FUNCTION record_error()",
    ],
}


@pytest.fixture
def audited(db_url: URL, backend: str):
    """The database under test, recording every reply turned into an error."""
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS errors_seen"))
        if backend == "postgresql":
            conn.execute(text("DROP FUNCTION IF EXISTS record_error() CASCADE"))
        for statement in AUDIT[backend]:
            conn.execute(text(statement))

    def errors_seen() -> list[tuple[str, str]]:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text("SELECT * FROM errors_seen"))]

    yield errors_seen
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE errors_seen"))
        if backend == "postgresql":
            conn.execute(text("DROP FUNCTION record_error() CASCADE"))
    engine.dispose()


@pytest.fixture(autouse=True)
def fake_key(monkeypatch):
    monkeypatch.setenv("FAKE_KEY", "sk-leases-0000000000")


def add_model(container, server):
    return container.models.add_model(
        AIModelCreate(
            name="fake",
            provider="openai",
            api_model="fake-model-a",
            base_url=server.openai_base_url,
            api_key_env="FAKE_KEY",
            price_per_million_tokens=Decimal("1"),
        )
    )


START_UP = textwrap.dedent(
    """
    import sys
    from synergia_tui.bootstrap import build
    from synergia_tui.core.config import Settings
    container = build(Settings(synergia_database_url=sys.argv[1], synergia_user="alice"))
    print(container.recover().interrupted)
    container.close()
    """
)


def start_up_elsewhere(url: URL) -> subprocess.Popen[str]:
    """Another Synergia process starting on the same database (its start-up recovery)."""
    return subprocess.Popen(
        [sys.executable, "-c", START_UP, url.render_as_string(hide_password=False)],
        stdout=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("owner", ["this process", "another machine"])
async def test_start_ups_elsewhere_never_touch_a_reply_that_is_streaming(
    container, db_url, audited, fake_provider, owner
):
    model = add_model(container, fake_provider)
    reply = " ".join(f"w{i}" for i in range(300))
    fake_provider.script = Script(reply=reply, tokens_per_second=300)
    chat = container.chats.create_chat(model_id=model.id)
    container.messages.add_user_message(chat.id, "go")
    replies = (
        container.replies
        if owner == "this process"
        else ReplyService(container.db, "alice", owner=ANOTHER_MACHINE)
    )
    plan = replies.prepare(chat.id)
    seen: list[str] = []
    reading = asyncio.Event()
    resume = asyncio.Event()

    async def show(chunk: str) -> None:
        # After ten words the reader waits (as a busy screen would) until the others have
        # started: the reply is live, its writer saving and renewing its lease, all along.
        seen.append(chunk)
        if len(seen) == 10:
            reading.set()
            await resume.wait()

    task = asyncio.create_task(ReplyStreamer(container.reply_store()).stream(plan, show))
    await asyncio.wait_for(reading.wait(), 30)
    others = [start_up_elsewhere(db_url) for _ in range(4)]
    results = [await asyncio.to_thread(p.communicate, timeout=120) for p in others]
    assert not task.done()
    resume.set()
    stored = await (await task).wait()
    assert [int(out) for out, _ in results] == [0, 0, 0, 0]
    assert (stored.status, stored.content) == ("complete", reply)
    assert audited() == []


def test_a_reply_from_another_machine_is_interrupted_only_once_its_lease_ran_out(
    container, audited
):
    model = container.models.add_model(AIModelCreate(name="m", provider="openai", api_model="x"))
    chat = container.chats.create_chat(model_id=model.id)
    container.messages.add_user_message(chat.id, "hi", model_id=model.id)
    plan = ReplyService(container.db, "alice", owner=ANOTHER_MACHINE).prepare(chat.id)
    container.messages.save_partial(plan.message.id, "so far", owner=ANOTHER_MACHINE)
    assert container.replies.recover_interrupted() == 0  # its lease still holds
    with container.db.unit_of_work(write=True) as uow:
        uow.messages.get(plan.message.id).lease_expires_at = utcnow() - timedelta(seconds=1)
        uow.commit()
    assert container.replies.recover_interrupted() == 1
    reply = container.messages.list_messages(chat.id).messages[-1]
    assert (reply.status, reply.content, reply.error) == ("error", "so far", INTERRUPTED)
    # The owner comes back after all (a long outage): its next save takes the reply back.
    container.messages.save_partial(plan.message.id, "so far, and more", owner=ANOTHER_MACHINE)
    reply = container.messages.list_messages(chat.id).messages[-1]
    assert (reply.status, reply.content, reply.error) == ("streaming", "so far, and more", None)


def test_a_finished_reply_is_never_marked_interrupted(container, audited):
    model = container.models.add_model(AIModelCreate(name="m", provider="openai", api_model="x"))
    chat = container.chats.create_chat(model_id=model.id)
    container.messages.add_user_message(chat.id, "hi", model_id=model.id)
    plan = ReplyService(container.db, "alice", owner=ANOTHER_MACHINE).prepare(chat.id)
    # A start-up read the reply as streaming just before its owner finished it...
    with container.db.unit_of_work(write=True) as uow:
        uow.messages.get(plan.message.id).lease_expires_at = utcnow() - timedelta(seconds=1)
        uow.commit()
    container.messages.finish_reply(
        plan.message.id, content="all of it", status="complete", owner=ANOTHER_MACHINE
    )
    # ...and then ran its update: it must find nothing to change.
    with container.db.unit_of_work(write=True) as uow:
        changed = uow.messages.mark_interrupted(
            plan.message.id, owner=ANOTHER_MACHINE, error=INTERRUPTED, expired_before=utcnow()
        )
        uow.commit()
    assert changed is False
    reply = container.messages.list_messages(chat.id).messages[-1]
    assert (reply.status, reply.content) == ("complete", "all of it")
    assert audited() == []


# -- 200+ concurrent replies on PostgreSQL ---------------------------------------------------

ASKER = textwrap.dedent(
    """
    import asyncio, json, sys
    from synergia_tui.bootstrap import build
    from synergia_tui.core.config import Settings
    from synergia_tui.services.streaming import ReplyStreamer

    url, model_id, count, worker = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

    async def one(container, index, slots):
      async with slots:  # a few at a time per process: the fake server's backlog is small
        # Each reply is a start-up as `synergia ask` does it: recover, send, stream.
        await asyncio.to_thread(container.recover)
        sent = await asyncio.to_thread(
            container.conversation.send, f"question {worker}-{index}", model_id=model_id
        )
        writer = await ReplyStreamer(container.reply_store()).stream(sent.plan)
        stored = await writer.wait()
      return {"id": str(stored.id), "status": stored.status, "content": stored.content}

    async def main():
        container = build(Settings(synergia_database_url=url, synergia_user="alice"))
        slots = asyncio.Semaphore(4)
        results = await asyncio.gather(*(one(container, i, slots) for i in range(count)))
        container.close()
        print(json.dumps(results))

    asyncio.run(main())
    """
)


@pytest.mark.postgres
def test_220_concurrent_replies_with_start_ups_between_them_change_no_finished_reply(
    postgres_databases, fake_provider
):
    from synergia_tui.bootstrap import build
    from synergia_tui.core import migrations

    url = postgres_databases.create()
    migrations.upgrade(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in AUDIT["postgresql"]:
            conn.execute(text(statement))
    container = build(settings_for(url))
    model = add_model(container, fake_provider)
    container.close()
    fake_provider.script = Script(reply="an answer of a few words", tokens_per_second=200)
    workers, each = 8, 28
    env = {**os.environ, "FAKE_KEY": "sk-leases-0000000000"}
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                ASKER,
                url.render_as_string(hide_password=False),
                str(model.id),
                str(each),
                str(worker),
            ],
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        for worker in range(workers)
    ]
    finished = []
    for process in processes:
        out, _ = process.communicate(timeout=240)
        assert process.returncode == 0
        finished += json.loads(out)
    assert len(finished) == workers * each == 224
    assert {r["status"] for r in finished} == {"complete"}
    with engine.connect() as conn:
        stored = dict(
            conn.execute(
                text(
                    "SELECT id::text, status || ':' || content FROM messages"
                    " WHERE role = 'assistant'"
                )
            ).all()
        )
        errors = conn.execute(text("SELECT count(*) FROM errors_seen")).scalar_one()
    engine.dispose()
    # Every reply is stored exactly as its process finished it, and none was ever flipped.
    assert {r["id"]: f"{r['status']}:{r['content']}" for r in finished} == stored
    assert errors == 0
