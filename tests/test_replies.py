"""Replies stream from a real SDK talking to a local server, and are always kept with a status."""

# ruff: noqa: F811
from __future__ import annotations

import asyncio
import subprocess
import sys
from decimal import Decimal

import pytest

from synergia_tui.models import AIModelCreate
from synergia_tui.providers.pool import ProviderPool
from synergia_tui.services.replies import INTERRUPTED, ReplyService
from synergia_tui.services.streaming import ReplyStreamer
from tests.fake_provider_server import Script, fake_provider  # noqa: F401

WAIT_S = 10.0


async def _until(condition, failure: str, timeout: float = WAIT_S) -> None:
    """Let the loop run until ``condition()`` holds; fail with ``failure`` after ``timeout``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{failure} (waited {timeout:.0f}s)")
        await asyncio.sleep(0.01)


def add_model(container, server, provider="openai", **extra):
    base = server.anthropic_base_url if provider == "anthropic" else server.openai_base_url
    return container.models.add_model(
        AIModelCreate(
            name=f"{provider}-model",
            provider=provider,
            api_model="fake-model-a",
            base_url=base,
            api_key_env="FAKE_KEY",
            price_per_million_tokens=Decimal("0.15"),
            output_price_per_million_tokens=Decimal("0.60"),
            **extra,
        )
    )


def dead_owner() -> str:
    """The lease owner id of a process of this machine that has ended."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from synergia_tui.core.process import process_owner as p; print(p())",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@pytest.fixture(autouse=True)
def fake_key(monkeypatch):
    monkeypatch.setenv("FAKE_KEY", "sk-test-secret-key-123456")


async def stream(container, plan, on_text=None, *, providers=None):
    """Stream ``plan`` to its end and return the stored reply."""
    writer = await ReplyStreamer(container.reply_store(), providers=providers).stream(plan, on_text)
    return await writer.wait()


async def ask(container, model, prompt, *, chat_id=None, on_text=None):
    sent = container.conversation.send(prompt, chat_id=chat_id, model_id=model.id)
    return sent.chat.id, await stream(container, sent.plan, on_text)


@pytest.mark.parametrize("provider", ["openai", "anthropic", "ollama"])
async def test_a_reply_is_stored_complete_with_tokens_and_cost(container, fake_provider, provider):
    fake_provider.script = Script(
        reply="Hello there friend", prompt_tokens=1234, completion_tokens=567
    )
    model = add_model(container, fake_provider, provider)
    seen: list[str] = []
    chat_id, final = await ask(container, model, "Say hello", on_text=seen.append)
    assert "".join(seen) == "Hello there friend"
    assert final.status == "complete"
    messages = container.messages.list_messages(chat_id).messages
    assert [(m.role, m.content, m.status) for m in messages] == [
        ("user", "Say hello", "complete"),
        ("assistant", "Hello there friend", "complete"),
    ]
    reply = messages[-1]
    assert (reply.prompt_tokens, reply.completion_tokens) == (1234, 567)
    # 1234 × 0.15 / 1e6 + 567 × 0.60 / 1e6, exactly
    assert reply.cost == Decimal("0.0001851") + Decimal("0.0003402")
    assert container.chats.usage(chat_id).cost == reply.cost


async def test_the_system_prompt_and_history_go_as_context(container, fake_provider):
    fake_provider.script = Script(reply="first answer")
    model = add_model(container, fake_provider)
    chat = container.chats.create_chat(model_id=model.id, system_prompt="Be brief.")
    await ask(container, model, "one", chat_id=chat.id)
    fake_provider.script = Script(reply="second answer")
    await ask(container, model, "two", chat_id=chat.id)
    sent = fake_provider.last_request.body["messages"]
    assert sent == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "first answer"},
        {"role": "user", "content": "two"},
    ]
    assert fake_provider.last_request.headers["authorization"] == "Bearer sk-test-secret-key-123456"


@pytest.mark.parametrize(
    ("script", "status_word"),
    [
        (Script(status=401), "refused"),
        (Script(status=404), "not found"),
        (Script(status=500), "500"),
        (Script(reply="a b c d e f", cut_after=3), "lost"),
        (Script(reply="a b c d e f", malformed_after=3), "JSON"),
        (Script(reply="a b c d e f", error_event_after=3), "error"),
    ],
)
async def test_a_failing_provider_leaves_an_error_reply_and_the_prompt(
    container, fake_provider, script, status_word
):
    fake_provider.script = script
    model = add_model(container, fake_provider)
    chat_id, final = await ask(container, model, "keep me")
    assert final.status == "error"
    assert status_word.lower() in (final.error or "").lower()
    messages = container.messages.list_messages(chat_id).messages
    assert [m.content for m in messages if m.role == "user"] == ["keep me"]
    if script.status is None:
        assert messages[-1].content == "a b c "  # what arrived before the break is kept


async def test_rate_limit_is_retried_after_the_servers_delay(container, fake_provider):
    fake_provider.script = Script(status=429, retry_after="0.2")
    model = add_model(container, fake_provider)

    async def lift_limit():
        await _until(lambda: len(fake_provider.requests) >= 1, "the first request never arrived")
        fake_provider.script = Script(reply="after the wait")

    lifter = asyncio.create_task(lift_limit())
    _, final = await ask(container, model, "hi")
    await lifter
    assert final.status == "complete"
    assert final.content == "after the wait"
    assert len(fake_provider.requests) == 2


async def test_cancelling_keeps_what_arrived_as_cancelled(container, fake_provider):
    fake_provider.script = Script(
        reply=" ".join(f"w{i}" for i in range(200)), tokens_per_second=200
    )
    model = add_model(container, fake_provider)
    sent = container.conversation.send("long one", model_id=model.id)
    chat_id = sent.chat.id
    store = container.reply_store()
    seen: list[str] = []
    task = asyncio.create_task(ReplyStreamer(store).stream(sent.plan, seen.append))
    await _until(lambda: len(seen) >= 5, "fewer than 5 deltas arrived")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await store.drain(5.0)
    reply = container.messages.list_messages(chat_id).messages[-1]
    assert reply.status == "cancelled"
    assert reply.content.startswith("w0 w1 w2 w3 w4")
    assert len(reply.content) < len(fake_provider.script.reply)


async def test_regenerate_keeps_the_earlier_reply_and_sends_the_newest(container, fake_provider):
    fake_provider.script = Script(reply="first try")
    model = add_model(container, fake_provider)
    chat_id, _ = await ask(container, model, "question")
    fake_provider.script = Script(reply="second try")
    plan = container.replies.prepare(chat_id, model_id=model.id)
    await stream(container, plan)
    shown = container.messages.list_messages(chat_id).messages
    # The chat shows one path: the new reply, a second version of the answer, in its place.
    assert [(m.content, m.sibling, m.siblings) for m in shown] == [
        ("question", 1, 1),
        ("second try", 2, 2),
    ]
    stored = [m.content for m in container.chats.export_chat(chat_id).messages]
    assert stored == ["question", "first try", "second try"]  # nothing overwritten
    # The regenerate request carried the prompt alone, not the reply it replaces.
    assert fake_provider.last_request.body["messages"] == [{"role": "user", "content": "question"}]


def test_replies_left_streaming_by_a_crash_are_marked_interrupted(container, other_user):
    model = container.models.add_model(AIModelCreate(name="m", provider="openai", api_model="x"))
    chat_id = container.chats.create_chat(model_id=model.id).id
    container.messages.add_user_message(chat_id, "hi")
    # Another process on this machine planned the reply, saved part of it, and died.
    gone = dead_owner()
    plan = ReplyService(container.db, container.replies.user_id, owner=gone).prepare(chat_id)
    container.messages.save_partial(plan.message.id, "half an ans", owner=gone)
    assert other_user.replies.recover_interrupted() == 0  # bob's runs never touch alice's chats
    assert container.replies.recover_interrupted() == 1
    reply = container.messages.list_messages(chat_id).messages[-1]
    assert (reply.status, reply.content, reply.error) == ("error", "half an ans", INTERRUPTED)


async def test_escape_sequences_from_the_model_are_stored_but_never_printed_raw(
    container, fake_provider
):
    from synergia_tui.core.safe_text import neutralize

    hostile = "ok \x1b]52;c;ZXZpbA==\x07 \x1b[2J [bold]x[/bold]"
    fake_provider.script = Script(chunks=[hostile])
    model = add_model(container, fake_provider)
    _, final = await ask(container, model, "hi")
    assert final.content == hostile  # kept faithfully in the database
    shown = neutralize(final.content)
    assert "\x1b" not in shown and "\x07" not in shown
    assert "␛]52;c;ZXZpbA==␇" in shown


async def test_switching_model_mid_chat_records_each_reply_model_and_usage_adds_up(
    container, fake_provider
):
    first = add_model(container, fake_provider)
    second = container.models.add_model(
        AIModelCreate(
            name="pricier",
            provider="openai",
            api_model="fake-model-b",
            base_url=fake_provider.openai_base_url,
            api_key_env="FAKE_KEY",
            price_per_million_tokens=Decimal("3"),
            output_price_per_million_tokens=Decimal("15"),
        )
    )
    fake_provider.script = Script(reply="from the first", prompt_tokens=100, completion_tokens=10)
    chat_id, one = await ask(container, first, "hello")
    container.chats.set_model(chat_id, second.id)
    fake_provider.script = Script(reply="from the second", prompt_tokens=200, completion_tokens=20)
    _, two = await ask(container, second, "and you?", chat_id=chat_id)
    assert fake_provider.last_request.body["model"] == "fake-model-b"
    messages = container.messages.list_messages(chat_id).messages
    assert [(m.role, m.model_name) for m in messages] == [
        ("user", "openai-model"),
        ("assistant", "openai-model"),
        ("user", "pricier"),
        ("assistant", "pricier"),
    ]
    assert one.cost == Decimal("0.000021")  # 100 × 0.15/M + 10 × 0.60/M
    assert two.cost == Decimal("0.0009")  # 200 × 3/M + 20 × 15/M
    usage = container.chats.usage(chat_id)
    assert (usage.prompt_tokens, usage.completion_tokens) == (300, 30)
    assert usage.cost == one.cost + two.cost
    assert container.chats.get_chat(chat_id).model_name == "pricier"


async def test_a_provider_pool_reuses_one_client_and_its_connection_for_every_reply(
    container, fake_provider
):
    model = add_model(container, fake_provider, "openai")
    chat_id = container.chats.create_chat(model_id=model.id).id
    pool = ProviderPool()
    try:
        for prompt in ("one", "two", "three"):
            container.messages.add_user_message(chat_id, prompt, model_id=model.id)
            plan = container.replies.prepare(chat_id, model_id=model.id)
            final = await stream(container, plan, providers=pool)
            assert (final.status, final.content) == ("complete", fake_provider.script.reply)
        assert len(fake_provider.requests) == 3
        assert fake_provider.connections_opened == 1
    finally:
        await pool.aclose()


async def test_after_a_failed_reply_the_pool_starts_a_fresh_client(container, fake_provider):
    model = add_model(container, fake_provider, "openai")
    chat_id = container.chats.create_chat(model_id=model.id).id
    container.messages.add_user_message(chat_id, "hi", model_id=model.id)
    target = container.replies.target_of(model.id)
    pool = ProviderPool()
    try:
        first = pool.get(target)  # made ahead, as while a prompt is typed
        fake_provider.script = Script(reply="partial answer here", cut_after=2)
        plan = container.replies.prepare(chat_id, model_id=model.id)
        failed = await stream(container, plan, providers=pool)
        fake_provider.script = Script(reply="whole answer")
        plan = container.replies.prepare(chat_id, model_id=model.id)
        final = await stream(container, plan, providers=pool)
        assert (failed.status, failed.content) == ("error", "partial answer ")
        assert (final.status, final.content) == ("complete", "whole answer")
        assert len(fake_provider.requests) == 2
        assert pool.get(target) is not first
    finally:
        await pool.aclose()
