"""Earlier prompts of a chat, for ``up`` in the prompt box: newest first, a page at a time by
keyset, every branch's prompts, never another chat's or another user's (both backends)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from synergia_tui.core.errors import NotFoundError
from synergia_tui.models import Message
from tests.support import add_model, one_path


@pytest.fixture
def chat(container):
    model = add_model(container)
    return container.chats.create_chat(model_id=model.id)


def _store(container, chat, contents, *, start=None, on_path=True, tie=False):
    """Messages with ``contents`` (even places prompts, odd ones replies), one path; with
    ``tie`` every pair shares one timestamp, so only the id orders them."""
    start = start or datetime(2025, 1, 1, tzinfo=UTC)
    rows = [
        Message(
            chat_id=chat.id,
            model_id=chat.model_id,
            role="user" if i % 2 == 0 else "assistant",
            content=content,
            created_at=start + timedelta(seconds=(i // 2) if tie else i),
            on_path=on_path,
        )
        for i, content in enumerate(contents)
    ]
    with container.db.unit_of_work(write=True) as uow:
        uow.session.add_all(one_path(rows))
        uow.commit()


def _all_prompts(container, chat_id, limit):
    """Every page, following the cursors, and how many pages it took."""
    prompts, pages, cursor = [], 0, None
    while True:
        page = container.messages.recent_prompts(chat_id, limit=limit, before=cursor)
        prompts += page.prompts
        pages += 1
        cursor = page.older_cursor
        if cursor is None:
            return prompts, pages


def test_prompts_come_newest_first_without_the_replies(container, chat):
    container.messages.add_user_message(chat.id, "first\nwith two lines")
    reply = container.messages.start_reply(chat.id, chat.model_id)
    container.messages.finish_reply(reply.id, content="a reply", prompt_tokens=1)
    container.messages.add_user_message(chat.id, "second")
    page = container.messages.recent_prompts(chat.id)
    assert page.prompts == ["second", "first\nwith two lines"]
    assert page.older_cursor is None


def test_a_long_chat_is_read_a_page_at_a_time_and_every_prompt_comes_once(container, chat):
    # 120 prompts (and 120 replies), pairs sharing a timestamp: the id breaks the tie.
    contents = [text for i in range(120) for text in (f"prompt {i}", f"reply {i}")]
    _store(container, chat, contents, tie=True)
    first = container.messages.recent_prompts(chat.id, limit=50)
    assert first.prompts == [f"prompt {i}" for i in range(119, 69, -1)]
    assert first.older_cursor is not None
    prompts, pages = _all_prompts(container, chat.id, limit=50)
    assert pages == 3
    assert prompts == [f"prompt {i}" for i in range(119, -1, -1)]


def test_the_prompts_of_other_branches_are_recalled_too(container, chat):
    # An edited first prompt: its first version left the path, and is still worth recalling.
    _store(container, chat, ["the first version", "its reply"], on_path=False)
    later = datetime(2025, 1, 2, tzinfo=UTC)
    _store(container, chat, ["the edited version", "its reply"], start=later)
    assert container.messages.recent_prompts(chat.id).prompts == [
        "the edited version",
        "the first version",
    ]


def test_a_prompt_sent_twice_in_a_row_is_recalled_once(container, chat):
    _store(container, chat, ["again", "r1", "again", "r2", "other", "r3", "again", "r4"])
    assert container.messages.recent_prompts(chat.id).prompts == ["again", "other", "again"]


def test_only_this_chats_prompts_are_recalled(container, chat):
    other = container.chats.create_chat(model_id=chat.model_id)
    container.messages.add_user_message(other.id, "in the other chat")
    container.messages.add_user_message(chat.id, "in this chat")
    assert container.messages.recent_prompts(chat.id).prompts == ["in this chat"]
    assert container.messages.recent_prompts(other.id).prompts == ["in the other chat"]


def test_another_users_chat_gives_no_prompts(container, other_user, chat):
    container.messages.add_user_message(chat.id, "private")
    with pytest.raises(NotFoundError):
        other_user.messages.recent_prompts(chat.id)
    with pytest.raises(NotFoundError):
        container.messages.recent_prompts(uuid.uuid4())


async def test_the_facade_recalls_prompts_off_the_loop(container, chat):
    container.messages.add_user_message(chat.id, "hello")
    services = container.async_services()
    try:
        page = await services.messages.recent_prompts(chat.id, limit=5)
    finally:
        services.shutdown()
    assert page.prompts == ["hello"]
