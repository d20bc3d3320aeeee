"""Sending a prompt is one unit of work: chat, prompt and planned reply together, or nothing.

Run against both backends (the ``container`` fixture): every refusal is checked on the raw
tables, so a half-written send (an empty chat, an orphan prompt) cannot hide behind the
services' own filters.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from synergia_tui.core.clock import utcnow
from synergia_tui.core.errors import ConflictError, NotFoundError, ValidationError
from synergia_tui.models import AIModelCreate, Chat, Message


@pytest.fixture
def model(container):
    return container.models.add_model(
        AIModelCreate(name="m", provider="openai", api_model="gpt-4o-mini")
    )


def rows(container) -> tuple[int, int]:
    """(chats, messages) stored, deleted ones included."""
    with container.db.unit_of_work() as uow:
        chats = uow.session.exec(select(func.count()).select_from(Chat)).one()
        messages = uow.session.exec(select(func.count()).select_from(Message)).one()
    return chats, messages


def stored_messages(container, chat_id) -> list[Message]:
    with container.db.unit_of_work() as uow:
        found = uow.session.exec(
            select(Message).where(Message.chat_id == chat_id).order_by(col(Message.created_at))
        ).all()
        uow.session.expunge_all()
        return list(found)


@pytest.mark.parametrize(
    ("prompt", "reason"),
    [
        ("hello\x00world", "NUL byte"),
        ("broken \ud83d half", "unpaired surrogate"),
        ("", "Empty prompt"),
        ("   \n\t ", "Empty prompt"),
    ],
    ids=["nul", "lone-surrogate", "empty", "blank"],
)
def test_a_rejected_prompt_in_a_new_chat_stores_no_chat_and_no_message(
    container, model, prompt, reason
):
    with pytest.raises(ValidationError, match=reason):
        container.conversation.send(prompt, model_id=model.id)
    assert rows(container) == (0, 0)
    assert container.chats.list_chats().chats == []


def test_a_rejected_prompt_in_an_existing_chat_adds_no_message(container, model):
    chat = container.chats.create_chat(title="Kept", model_id=model.id)
    with pytest.raises(ValidationError, match="NUL byte"):
        container.conversation.send("a\x00b", chat_id=chat.id)
    assert rows(container) == (1, 0)
    assert container.chats.get_chat(chat.id).title == "Kept"


def test_a_disabled_model_is_refused_and_leaves_no_chat(container, model):
    container.models.set_enabled(model.id, False)
    with pytest.raises(ValidationError, match="Model not available"):
        container.conversation.send("hello", model_id=model.id)
    assert rows(container) == (0, 0)


def test_a_deleted_model_is_refused_in_an_existing_chat(container, model):
    chat = container.chats.create_chat(model_id=model.id)
    container.models.delete_model(model.id)
    with pytest.raises(ValidationError, match="Model not available"):
        container.conversation.send("hello", chat_id=chat.id)
    assert rows(container) == (1, 0)


def test_a_deleted_chat_is_refused_and_gets_no_message(container, model):
    chat = container.chats.create_chat(model_id=model.id)
    container.chats.delete_chat(chat.id)
    with pytest.raises(NotFoundError):
        container.conversation.send("hello", chat_id=chat.id, model_id=model.id)
    assert rows(container) == (1, 0)


def test_another_users_chat_is_not_found_and_gets_no_message(container, other_user, model):
    bobs = other_user.chats.create_chat(model_id=model.id)
    with pytest.raises(NotFoundError):
        container.conversation.send("hello", chat_id=bobs.id, model_id=model.id)
    assert other_user.messages.list_messages(bobs.id).messages == []


def test_a_send_stores_the_chat_the_prompt_and_a_reply_leased_to_this_process(container, model):
    sent = container.conversation.send("What is a monad?", model_id=model.id)

    assert sent.created_chat
    assert rows(container) == (1, 2)
    chats = container.chats.list_chats().chats
    assert [(c.id, c.title, c.model_id) for c in chats] == [
        (sent.chat.id, "What is a monad?", model.id)
    ]
    prompt, reply = stored_messages(container, sent.chat.id)
    assert (prompt.role, prompt.content, prompt.status) == ("user", "What is a monad?", "complete")
    assert (reply.role, reply.content, reply.status) == ("assistant", "", "streaming")
    assert reply.id == sent.plan.message.id
    assert reply.lease_owner == container.replies.owner
    assert reply.lease_expires_at is not None and reply.lease_expires_at > utcnow()
    assert reply.created_at > prompt.created_at  # the reply sorts after its prompt
    assert [t.content for t in sent.plan.turns] == ["What is a monad?"]


def test_a_send_into_an_existing_chat_keeps_its_id_and_titles_an_untitled_chat(container, model):
    chat = container.chats.create_chat(model_id=model.id)
    sent = container.conversation.send("Name this chat", chat_id=chat.id)
    assert not sent.created_chat
    assert sent.chat.id == chat.id
    assert container.chats.get_chat(chat.id).title == "Name this chat"
    assert rows(container) == (1, 2)


def test_sending_while_a_reply_streams_in_the_chat_is_a_conflict_and_stores_nothing(
    container, model
):
    first = container.conversation.send("first", model_id=model.id)
    with pytest.raises(ConflictError, match="already streaming"):
        container.conversation.send("second", chat_id=first.chat.id)
    assert rows(container) == (1, 2)
    assert [m.content for m in stored_messages(container, first.chat.id)] == ["first", ""]


def test_a_reply_left_streaming_under_an_expired_lease_does_not_block_a_new_prompt(
    container, model
):
    first = container.conversation.send("first", model_id=model.id)
    with container.db.unit_of_work(write=True) as uow:
        reply = uow.session.get(Message, first.plan.message.id)
        reply.lease_expires_at = utcnow().replace(year=2000)
        uow.commit()
    second = container.conversation.send("second", chat_id=first.chat.id)
    assert second.chat.id == first.chat.id
    assert rows(container) == (1, 4)


def test_a_planned_reply_can_be_closed_as_cut_at_the_token_limit(container, model):
    sent = container.conversation.send("write a long essay", model_id=model.id)
    container.messages.finish_reply(
        sent.plan.message.id,
        content="It was the best of",
        status="cut",
        finish_reason="length",
        prompt_tokens=10,
        completion_tokens=5,
        owner=container.replies.owner,
    )
    reply = stored_messages(container, sent.chat.id)[-1]
    assert (reply.status, reply.finish_reason) == ("cut", "length")
