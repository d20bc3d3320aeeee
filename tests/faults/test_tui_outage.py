"""In the TUI, PostgreSQL stops mid-reply: the reply keeps streaming on screen, the status bar
says saving is paused, and once the server is back the whole reply is stored. And ``ask`` with
SQLite's write lock held by another process."""

# ruff: noqa: F811
from __future__ import annotations

import asyncio
import json
import subprocess
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy.engine import URL

from synergia_tui.bootstrap import build
from synergia_tui.core.journal import ReplyJournal
from synergia_tui.models import AIModelCreate
from synergia_tui.ui.app import SynergiaApp
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
from tests.ui.conftest import TEST_VERSION, notifications, screen_text, settle


def long_reply(words: int) -> str:
    return " ".join(f"w{i}" for i in range(words))


def live_text(engine) -> str:
    return max((live.text for live in engine.live.values()), default="")


async def until(pilot, condition, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.05)
    return value


async def stream_in_the_tui_through(container, fake_provider, break_it, mend_it) -> None:
    """Stream a reply in the TUI, break the database mid-reply, mend it, and check that the
    screen kept streaming and said saving paused, and that every word is stored."""
    container.models.add_model(
        AIModelCreate(
            name="served",
            provider="openai",
            api_model="fake-model-a",
            base_url=fake_provider.openai_base_url,
            api_key_env="FAKE_KEY",
            price_per_million_tokens=Decimal("1"),
        )
    )
    reply = long_reply(1500)
    fake_provider.script = Script(reply=reply, tokens_per_second=150)  # about 10 s
    services = container.async_services()
    app = SynergiaApp(
        services=services,
        clock=lambda: datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
        version=TEST_VERSION,
        health_interval=None,
    )
    try:
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await settle(pilot)
            await pilot.press(*"a long one please", "enter")
            engine = app.main_screen.engine
            await until(pilot, lambda: "w20 " in live_text(engine), "the first words")
            await asyncio.to_thread(break_it)
            shown_at_break = len(live_text(engine))
            await until(
                pilot,
                lambda: "saving paused" in screen_text(app),
                "the status bar to say saving is paused",
            )
            assert any("Saving paused" in n for n in notifications(app))
            await until(
                pilot,
                lambda: len(live_text(engine)) > shown_at_break + 200,
                "the reply to keep streaming with the database broken",
            )
            await asyncio.to_thread(mend_it)
            await until(pilot, lambda: not engine.live, "the reply to be stored", timeout=60)
            await until(
                pilot,
                lambda: "saving paused" not in screen_text(app),
                "the status bar to say saving resumed",
            )
    finally:
        services.shutdown()
    chat = container.chats.list_chats().chats[0]
    stored = container.messages.list_messages(chat.id).messages[-1]
    assert (stored.status, stored.content) == ("complete", reply)


async def test_the_tui_streams_through_a_postgresql_outage_and_stores_every_word(
    outage_postgres, fake_provider, monkeypatch
):
    cluster, url = outage_postgres
    monkeypatch.setenv("FAKE_KEY", "sk-tui-outage-00000000")
    container = build(settings_for(url))
    try:
        await stream_in_the_tui_through(container, fake_provider, cluster.stop, cluster.start)
    finally:
        container.close()


async def test_the_tui_streams_through_a_full_disk_and_stores_every_word(
    fake_provider, monkeypatch
):
    monkeypatch.setenv("FAKE_KEY", "sk-tui-outage-00000000")
    with small_filesystem("8m") as disk:
        url = URL.create("sqlite+pysqlite", database=str(disk / "synergia.db"))
        container = build(settings_for(url))
        container.ensure_schema()
        filler: list[Path] = []
        try:
            await stream_in_the_tui_through(
                container,
                fake_provider,
                lambda: filler.append(fill(disk)),
                lambda: filler[0].unlink(),
            )
        finally:
            container.close()


def test_ask_through_a_held_write_lock_keeps_printing_and_stores_every_word(
    tmp_path, fake_provider
):
    database = tmp_path / "data" / "synergia" / "synergia.db"
    env = synergia_command_env(tmp_path)
    add_fake_model(env, fake_provider.openai_base_url)
    reply = long_reply(300)
    fake_provider.script = Script(reply=reply, tokens_per_second=60)  # about 5 s
    process = subprocess.Popen(
        [SYNERGIA, "ask", "go"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdout.read(10)
    with write_lock(database):
        time.sleep(3)  # saves wait on the lock meanwhile; the stream does not
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert out.strip().endswith("w299")
    chats = json.loads(
        subprocess.run(
            [SYNERGIA, "chats", "list", "--json"], env=env, capture_output=True, text=True
        ).stdout
    )
    exported = json.loads(
        subprocess.run(
            [SYNERGIA, "chats", "export", chats[0]["id"], "--format", "json"],
            env=env,
            capture_output=True,
            text=True,
        ).stdout
    )
    assert (exported["messages"][-1]["status"], exported["messages"][-1]["content"]) == (
        "complete",
        reply,
    )
    assert ReplyJournal(tmp_path / "state" / "synergia" / "journal").entries() == []


def test_ask_through_a_full_disk_keeps_printing_and_stores_every_word_once_space_is_back(
    tmp_path, fake_provider
):
    with small_filesystem("8m") as disk:
        env = synergia_command_env(tmp_path, SYNERGIA_SQLITE_PATH=str(disk / "synergia.db"))
        add_fake_model(env, fake_provider.openai_base_url)
        reply = long_reply(3000)
        fake_provider.script = Script(reply=reply, tokens_per_second=300)  # about 10 s
        process = subprocess.Popen(
            [SYNERGIA, "ask", "go"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None and process.stdout.read(10)
        filler = fill(disk)
        time.sleep(2)
        filler.unlink()
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        assert out.strip().endswith("w2999")
        assert "saving paused" in err and "full" in err and "saving resumed" in err
        chats = json.loads(
            subprocess.run(
                [SYNERGIA, "chats", "list", "--json"], env=env, capture_output=True, text=True
            ).stdout
        )
        exported = json.loads(
            subprocess.run(
                [SYNERGIA, "chats", "export", chats[0]["id"], "--format", "json"],
                env=env,
                capture_output=True,
                text=True,
            ).stdout
        )
    assert (exported["messages"][-1]["status"], exported["messages"][-1]["content"]) == (
        "complete",
        reply,
    )
