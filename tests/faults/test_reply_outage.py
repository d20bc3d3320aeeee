"""The database goes away while a reply streams: the stream goes on, and no word is lost.

Each case streams a real reply (the OpenAI SDK against the local fake server), breaks the
database in the middle the way it breaks for users — PostgreSQL stopped, SQLite's write lock
held by another process, the disk full — and then looks at what is stored.
"""

# ruff: noqa: F811
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from synergia_tui.bootstrap import build
from synergia_tui.core.journal import ReplyJournal
from synergia_tui.models import AIModelCreate
from synergia_tui.services.streaming import ReplyStreamer, StorageChanged
from tests.conftest import settings_for
from tests.fake_provider_server import Script, fake_provider  # noqa: F401
from tests.faults.conftest import (
    SYNERGIA,
    add_fake_model,
    fill,
    small_filesystem,
    synergia_command_env,
    write_lock,
)

WORDS = 300


def long_reply(words: int = WORDS) -> str:
    return " ".join(f"w{i}" for i in range(words))


@pytest.fixture(autouse=True)
def fake_key(monkeypatch):
    monkeypatch.setenv("FAKE_KEY", "sk-faults-000000000000")


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


class Watch:
    """What the stream showed, and what the store said about saving, with times."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.changes: list[StorageChanged] = []

    def on_text(self, chunk: str) -> None:
        self.text.append(chunk)

    def on_change(self, change: StorageChanged) -> None:
        self.changes.append(change)

    async def until_words(self, count: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while len("".join(self.text).split()) < count:
            assert time.monotonic() < deadline, f"fewer than {count} words arrived in time"
            await asyncio.sleep(0.02)

    @property
    def words(self) -> int:
        return len("".join(self.text).split())


async def stream_through(container, server, outage, *, watch: Watch):
    """Send a prompt, run ``outage`` (an async callable) once some text arrived, and return the
    reply row as stored once everything settled."""
    model = add_model(container, server)
    sent = container.conversation.send("tell me a long story", model_id=model.id)
    store = container.reply_store(on_change=watch.on_change)
    streamer = ReplyStreamer(store)
    task = asyncio.create_task(streamer.stream(sent.plan, watch.on_text))
    await watch.until_words(20)
    await outage()
    writer = await asyncio.wait_for(task, 60)
    stored = await asyncio.wait_for(writer.wait(), 60)
    return sent, stored


async def test_a_write_lock_held_for_12_s_mid_reply_pauses_saving_not_the_stream(
    tmp_path, fake_provider
):
    database = tmp_path / "db" / "synergia.db"
    container = build(settings_for(URL.create("sqlite+pysqlite", database=str(database))))
    container.ensure_schema()
    fake_provider.script = Script(reply=long_reply(400), tokens_per_second=25)
    watch = Watch()

    async def hold_the_lock() -> None:
        before = watch.words
        with write_lock(database):
            await asyncio.sleep(12)
            during = watch.words
        # The stream never waited for the database: words kept arriving all through the lock.
        assert during - before >= 200
        assert watch.changes and watch.changes[0].paused

    try:
        sent, stored = await stream_through(container, fake_provider, hold_the_lock, watch=watch)
        assert (stored.status, stored.content) == ("complete", long_reply(400))
        assert [c.paused for c in watch.changes] == [True, False]
        assert "locked" in (watch.changes[0].reason or "")
        assert ReplyJournal().entries() == []  # written to the database: nothing left behind
    finally:
        container.close()


async def test_postgresql_stopped_for_5_s_mid_reply_loses_no_word(outage_postgres, fake_provider):
    cluster, url = outage_postgres
    container = build(settings_for(url))
    fake_provider.script = Script(reply=long_reply(), tokens_per_second=40)
    watch = Watch()

    async def stop_for_5_s() -> None:
        before = watch.words
        await asyncio.to_thread(cluster.stop)
        await asyncio.sleep(5)
        assert watch.words - before >= 100  # streamed on while the server was down
        await asyncio.to_thread(cluster.start)

    try:
        _, stored = await stream_through(container, fake_provider, stop_for_5_s, watch=watch)
        assert (stored.status, stored.content) == ("complete", long_reply())
        assert watch.changes[0].paused and not watch.changes[-1].paused
    finally:
        container.close()


async def test_a_full_disk_mid_reply_pauses_saving_until_space_is_freed(tmp_path, fake_provider):
    with small_filesystem("8m") as disk:
        database = disk / "synergia.db"
        container = build(settings_for(URL.create("sqlite+pysqlite", database=str(database))))
        container.ensure_schema()
        # Long enough that every save needs new pages the full disk cannot give.
        fake_provider.script = Script(reply=long_reply(3000), tokens_per_second=400)
        watch = Watch()

        async def fill_for_3_s() -> None:
            filler = await asyncio.to_thread(fill, disk)
            deadline = time.monotonic() + 15
            while not watch.changes:
                assert time.monotonic() < deadline, "saving never failed on a full disk"
                await asyncio.sleep(0.05)
            assert "full" in (watch.changes[0].reason or "")
            await asyncio.sleep(1)
            filler.unlink()

        try:
            _, stored = await stream_through(container, fake_provider, fill_for_3_s, watch=watch)
            assert (stored.status, stored.content) == ("complete", long_reply(3000))
            assert [c.paused for c in watch.changes] == [True, False]
        finally:
            container.close()


# -- synergia ask, in a process of its own ---------------------------------------------------


def run_synergia(env, *args, timeout=60):
    return subprocess.run(
        [SYNERGIA, *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def ask_env(url: URL, server) -> dict[str, str]:
    env = synergia_command_env(
        SYNERGIA_DATABASE_URL=url.render_as_string(hide_password=False), SYNERGIA_USER="alice"
    )
    add_fake_model(env, server.openai_base_url)
    return env


def stored_replies(env) -> list[dict]:
    chats = json.loads(run_synergia(env, "chats", "list", "--json").stdout)
    replies = []
    for chat in chats:
        exported = run_synergia(env, "chats", "export", chat["id"], "--format", "json")
        replies += [m for m in json.loads(exported.stdout)["messages"] if m["role"] == "assistant"]
    return replies


def test_ask_keeps_printing_through_an_outage_and_the_next_start_stores_the_journal(
    outage_postgres, fake_provider
):
    cluster, url = outage_postgres
    env = ask_env(url, fake_provider)
    fake_provider.script = Script(reply=long_reply(), tokens_per_second=100)  # about 3 s
    process = subprocess.Popen(
        [SYNERGIA, "ask", "a long one"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.read(20)  # text is flowing: the reply's row exists
    cluster.stop()
    try:
        out, err = process.communicate(timeout=60)
    finally:
        cluster.start()
    # Everything was printed, the database never came back while ask ran: it says where the
    # reply is, and fails.
    assert process.returncode == 1
    assert (out.strip()).endswith(f"w{WORDS - 1}")
    lines = err.strip().splitlines()
    assert "kept in the journal" in lines[-1] and "Traceback" not in err
    entries = ReplyJournal(Path(os.environ["XDG_STATE_HOME"]) / "synergia" / "journal").entries()
    assert [(e.status, e.content) for e in entries] == [("complete", long_reply())]
    # The next start (any command that opens the conversation: here another ask) applies it.
    fake_provider.script = Script(reply="short")
    assert run_synergia(env, "ask", "again").returncode == 0
    replies = stored_replies(env)
    assert sorted((r["status"], r["content"]) for r in replies) == sorted(
        [("complete", long_reply()), ("complete", "short")]
    )
    assert ReplyJournal(Path(os.environ["XDG_STATE_HOME"]) / "synergia" / "journal").entries() == []


async def test_postgresql_on_a_full_disk_mid_reply_loses_no_word(fake_provider, tmp_path):
    """The server's own disk fills up mid-reply (its data folder on a small tmpfs)."""
    from tests.faults.conftest import PrivateCluster
    from tests.support import setup_test_users

    with small_filesystem("64m") as disk:
        os.chown(disk, *_postgres_ids())
        cluster = PrivateCluster(base=disk)
        cluster.start()
        setup_test_users(cluster.server_url, create=True)
        try:
            url = cluster.create_database()
            container = build(settings_for(url))
            fake_provider.script = Script(reply=long_reply(1500), tokens_per_second=150)
            watch = Watch()

            async def fill_for_a_while() -> None:
                filler = await asyncio.to_thread(fill, disk)
                deadline = time.monotonic() + 20
                while not watch.changes:
                    assert time.monotonic() < deadline, "saving never failed on a full disk"
                    await asyncio.sleep(0.05)
                await asyncio.sleep(1)
                filler.unlink()

            try:
                _, stored = await stream_through(
                    container, fake_provider, fill_for_a_while, watch=watch
                )
                assert (stored.status, stored.content) == ("complete", long_reply(1500))
                assert watch.changes[0].paused and not watch.changes[-1].paused
            finally:
                container.close()
        finally:
            cluster.remove()


def _postgres_ids() -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam("postgres")
    return entry.pw_uid, entry.pw_gid
