"""Messages: which chats and models accept them, how they page, what they cost (both backends)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from synergia_tui.core.errors import NotFoundError, ValidationError
from synergia_tui.models import AIModelUpdate
from synergia_tui.services import compute_cost
from tests.support import add_model


@pytest.fixture
def chat(container):
    model = add_model(container, "gpt", price="0.15", output_price="0.60")
    return container.chats.create_chat(model_id=model.id)


def _reply(container, chat, *, prompt_tokens=1234, completion_tokens=567, content="Hi!"):
    container.messages.add_user_message(chat.id, "Hello")
    reply = container.messages.start_reply(chat.id, chat.model_id)
    return container.messages.finish_reply(
        reply.id,
        content=content,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
    )


def test_the_first_prompt_titles_the_chat(container, chat):
    container.messages.add_user_message(chat.id, "\n  How do I  reverse a list?\nIn Python")
    container.messages.add_user_message(chat.id, "Second prompt")
    assert container.chats.get_chat(chat.id).title == "How do I reverse a list?"


def test_a_long_first_prompt_gives_a_shortened_one_line_title(container, chat):
    container.messages.add_user_message(chat.id, "word " * 100)
    title = container.chats.get_chat(chat.id).title
    assert len(title) <= 80
    assert title.endswith("…")
    assert "\n" not in title


def test_a_chat_given_a_title_keeps_it(container):
    model = add_model(container)
    chat = container.chats.create_chat(title="Mine", model_id=model.id)
    container.messages.add_user_message(chat.id, "Something else")
    assert container.chats.get_chat(chat.id).title == "Mine"


@pytest.mark.parametrize("empty", ["", "   ", "\n\t \n"])
def test_an_empty_prompt_is_refused(container, chat, empty):
    with pytest.raises(ValidationError, match="Empty prompt"):
        container.messages.add_user_message(chat.id, empty)
    assert container.messages.list_messages(chat.id).messages == []


def test_a_message_to_a_deleted_chat_is_refused(container, chat):
    container.chats.delete_chat(chat.id)
    with pytest.raises(NotFoundError, match="not found"):
        container.messages.add_user_message(chat.id, "anyone there?")


def test_a_message_to_a_disabled_model_is_refused(container, chat):
    container.models.set_enabled("gpt", False)
    with pytest.raises(ValidationError, match="Model not available"):
        container.messages.add_user_message(chat.id, "hello")
    with pytest.raises(ValidationError, match="Model not available"):
        container.messages.start_reply(chat.id, chat.model_id)


def test_a_message_to_a_deleted_model_is_refused(container, chat):
    container.models.delete_model("gpt")
    with pytest.raises(ValidationError, match="Model not available"):
        container.messages.add_user_message(chat.id, "hello")


def test_a_chat_without_a_model_cannot_take_a_prompt(container):
    chat = container.chats.create_chat()
    with pytest.raises(ValidationError, match="Model not available"):
        container.messages.add_user_message(chat.id, "hello")


def test_history_still_names_a_deleted_model(container, chat):
    _reply(container, chat)
    container.models.delete_model("gpt")
    messages = container.messages.list_messages(chat.id).messages
    assert [m.model_name for m in messages] == ["gpt", "gpt"]
    assert container.chats.export_chat(chat.id).messages[1].model_name == "gpt"


def test_cost_prices_input_and_output_tokens_separately_and_exactly(container, chat):
    reply = _reply(container, chat, prompt_tokens=1234, completion_tokens=567)
    # 1234 × 0.15 / 1e6 + 567 × 0.60 / 1e6 = 0.0001851 + 0.0003402
    assert reply.cost == Decimal("0.0005253")
    stored = container.messages.list_messages(chat.id).messages[-1]
    assert stored.cost == Decimal("0.0005253")
    assert isinstance(stored.cost, Decimal)
    usage = container.chats.usage(chat.id)
    assert (usage.prompt_tokens, usage.completion_tokens, usage.cost) == (
        1234,
        567,
        Decimal("0.0005253"),
    )


def test_the_chats_totals_add_every_reply_and_count_a_reply_finished_twice_once(container, chat):
    _reply(container, chat, prompt_tokens=1000, completion_tokens=10)
    second = _reply(container, chat, prompt_tokens=2000, completion_tokens=20)
    # Finished again (a retried save): the same numbers change nothing, new ones replace them.
    container.messages.finish_reply(
        second.id, content="Hi!", prompt_tokens=2000, completion_tokens=20
    )
    usage = container.chats.usage(chat.id)
    assert (usage.prompt_tokens, usage.completion_tokens) == (3000, 30)
    container.messages.finish_reply(
        second.id, content="Hi!", prompt_tokens=2500, completion_tokens=20
    )
    messages = container.messages.list_messages(chat.id).messages
    usage = container.chats.usage(chat.id)
    assert (usage.prompt_tokens, usage.completion_tokens) == (3500, 30)
    assert usage.cost == sum((m.cost for m in messages if m.cost), Decimal(0))
    assert usage.cost == Decimal("0.000543")  # (3500 × 0.15 + 30 × 0.60) per million


def test_cost_uses_the_input_price_when_no_output_price_is_set(container):
    model = add_model(container, "cheap", price="0.15")
    chat = container.chats.create_chat(model_id=model.id)
    reply = _reply(container, chat, prompt_tokens=1234, completion_tokens=567)
    assert reply.cost == Decimal("0.00027015")  # 1801 × 0.15 / 1e6


def test_cost_keeps_tiny_amounts_exact():
    assert compute_cost(1, 1, Decimal("0.000001"), None) == Decimal("0.000000000002")
    assert compute_cost(None, None, Decimal("3"), Decimal("15")) == Decimal(0)
    assert compute_cost(1_000_000, 0, Decimal("0.1"), None) + compute_cost(
        1_000_000, 0, Decimal("0.2"), None
    ) == Decimal("0.3")


def test_later_price_edits_do_not_rewrite_stored_costs(container, chat):
    _reply(container, chat, prompt_tokens=1234, completion_tokens=567)
    container.models.edit_model(
        "gpt",
        AIModelUpdate(
            price_per_million_tokens=Decimal("100"), output_price_per_million_tokens=Decimal("200")
        ),
    )
    assert container.chats.usage(chat.id).cost == Decimal("0.0005253")
    second = _reply(container, chat, prompt_tokens=1_000_000, completion_tokens=0)
    assert second.cost == Decimal("100")
    assert container.chats.usage(chat.id).cost == Decimal("100.0005253")


def test_older_message_pages_neither_overlap_nor_skip(container, chat):
    for n in range(7):
        container.messages.add_user_message(chat.id, f"prompt {n}")
    first = container.messages.list_messages(chat.id, limit=3)
    assert [m.content for m in first.messages] == ["prompt 4", "prompt 5", "prompt 6"]
    second = container.messages.list_messages(chat.id, limit=3, before=first.older_cursor)
    assert [m.content for m in second.messages] == ["prompt 1", "prompt 2", "prompt 3"]
    third = container.messages.list_messages(chat.id, limit=3, before=second.older_cursor)
    assert [m.content for m in third.messages] == ["prompt 0"]
    assert third.older_cursor is None


def _contents(page):
    return [m.content for m in page.messages]


def test_pages_walk_the_chat_both_ways_without_overlap_or_gap(container, chat):
    for n in range(7):
        container.messages.add_user_message(chat.id, f"prompt {n}")
    first = container.messages.first_messages(chat.id, limit=3)
    assert _contents(first) == ["prompt 0", "prompt 1", "prompt 2"]
    assert (first.first_index, first.total, first.older_cursor) == (0, 7, None)
    second = container.messages.list_messages(chat.id, limit=3, after=first.newer_cursor)
    assert _contents(second) == ["prompt 3", "prompt 4", "prompt 5"]
    third = container.messages.list_messages(chat.id, limit=3, after=second.newer_cursor)
    assert _contents(third) == ["prompt 6"]
    assert third.newer_cursor is None
    # Back again from there: the older neighbours, and a way forward from them.
    back = container.messages.list_messages(chat.id, limit=3, before=third.older_cursor)
    assert _contents(back) == ["prompt 3", "prompt 4", "prompt 5"]
    assert back.newer_cursor is not None and back.older_cursor is not None
    newest = container.messages.list_messages(chat.id, limit=3)
    assert (newest.first_index, newest.total, newest.newer_cursor) == (4, 7, None)


def test_a_page_around_a_message_centres_it_and_says_where_it_is(container, chat):
    ids = [container.messages.add_user_message(chat.id, f"prompt {n}").id for n in range(9)]
    page = container.messages.messages_around(chat.id, ids[4], limit=4)
    assert _contents(page) == ["prompt 2", "prompt 3", "prompt 4", "prompt 5"]
    assert (page.first_index, page.total) == (2, 9)
    older = container.messages.list_messages(chat.id, limit=9, before=page.older_cursor)
    newer = container.messages.list_messages(chat.id, limit=9, after=page.newer_cursor)
    assert _contents(older) == ["prompt 0", "prompt 1"]
    assert _contents(newer) == ["prompt 6", "prompt 7", "prompt 8"]
    at_start = container.messages.messages_around(chat.id, ids[0], limit=4)
    assert _contents(at_start)[0] == "prompt 0" and at_start.older_cursor is None
    assert at_start.first_index == 0
    at_end = container.messages.messages_around(chat.id, ids[8], limit=4)
    assert _contents(at_end)[-1] == "prompt 8" and at_end.newer_cursor is None


def test_the_message_at_an_index_in_reading_order_clamped_to_the_chat(container, chat):
    ids = [container.messages.add_user_message(chat.id, f"prompt {n}").id for n in range(5)]
    other = container.chats.create_chat(model_id=chat.model_id)
    container.messages.add_user_message(other.id, "elsewhere")
    assert [container.messages.message_at(chat.id, i) for i in range(5)] == ids
    assert container.messages.message_at(chat.id, 99) == ids[-1]
    assert container.messages.message_at(chat.id, -3) == ids[0]
    empty = container.chats.create_chat(model_id=chat.model_id)
    with pytest.raises(NotFoundError):
        container.messages.message_at(empty.id, 0)


def test_a_page_around_a_message_of_another_chat_is_refused(container, chat):
    other = container.chats.create_chat(model_id=chat.model_id)
    theirs = container.messages.add_user_message(other.id, "elsewhere")
    with pytest.raises(NotFoundError):
        container.messages.messages_around(chat.id, theirs.id)


def test_a_reply_streams_then_completes(container, chat):
    container.messages.add_user_message(chat.id, "Hello")
    reply = container.messages.start_reply(chat.id, chat.model_id)
    assert (reply.status, reply.content) == ("streaming", "")
    container.messages.save_partial(reply.id, "Hel")
    assert container.messages.list_messages(chat.id).messages[-1].content == "Hel"
    done = container.messages.finish_reply(reply.id, content="Hello!", status="cancelled")
    assert (done.status, done.content, done.cost) == ("cancelled", "Hello!", None)


def test_a_reply_cannot_be_finished_as_streaming(container, chat):
    container.messages.add_user_message(chat.id, "Hello")
    reply = container.messages.start_reply(chat.id, chat.model_id)
    with pytest.raises(ValidationError):
        container.messages.finish_reply(reply.id, content="x", status="streaming")


@pytest.mark.parametrize(
    ("bad", "message"),
    [("nul \x00 byte", "NUL byte"), ("lone \ud800 surrogate", "unpaired surrogate")],
)
def test_a_prompt_that_cannot_be_stored_alike_is_refused(container, chat, bad, message):
    with pytest.raises(ValidationError, match=message):
        container.messages.add_user_message(chat.id, bad)
    with pytest.raises(ValidationError, match=message):
        container.chats.set_system_prompt(chat.id, bad)
    assert container.messages.list_messages(chat.id).messages == []


def test_provider_output_with_nul_bytes_is_stored_visibly_scrubbed(container, chat):
    container.messages.add_user_message(chat.id, "Hello")
    reply = container.messages.start_reply(chat.id, chat.model_id)
    container.messages.save_partial(reply.id, "par\x00tial \ud800")
    assert container.messages.list_messages(chat.id).messages[-1].content == "par\u2400tial \ufffd"
    container.messages.finish_reply(
        reply.id, content="fi\x00nal", status="error", error="bad\x00thing"
    )
    stored = container.messages.list_messages(chat.id).messages[-1]
    assert (stored.content, stored.error) == ("fi\u2400nal", "bad\u2400thing")


def test_deleted_chats_messages_cannot_be_listed(container, chat):
    container.messages.add_user_message(chat.id, "Hello")
    container.chats.delete_chat(chat.id)
    with pytest.raises(NotFoundError):
        container.messages.list_messages(chat.id)


def test_messages_written_in_the_same_instant_still_page_without_gaps(container, chat):
    for n in range(5):
        container.messages.add_user_message(chat.id, f"prompt {n}")
    with container.db.engine.begin() as conn:
        conn.execute(
            text("UPDATE messages SET created_at = (SELECT min(created_at) FROM messages)")
        )
    seen, cursor = [], None
    for _ in range(10):  # 5 messages, 2 a page: 3 pages; more means the cursor is stuck
        page = container.messages.list_messages(chat.id, limit=2, before=cursor)
        seen = [m.content for m in page.messages] + seen
        if page.older_cursor is None:
            break
        cursor = page.older_cursor
    else:
        raise AssertionError(f"older pages never ended; seen so far: {seen}")
    assert sorted(seen) == [f"prompt {n}" for n in range(5)]


def test_timestamps_read_back_as_utc_on_both_backends(container, chat):
    prompt = container.messages.add_user_message(chat.id, "Hello")
    stored = container.messages.list_messages(chat.id).messages[0]
    assert stored.created_at.utcoffset() == timedelta(0)
    assert stored.created_at == prompt.created_at
    assert container.chats.get_chat(chat.id).updated_at == prompt.created_at
