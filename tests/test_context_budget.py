"""The context budget: what the next request of a chat holds against its model's window, and
how the status bar writes it (issue 15, item 1)."""

from __future__ import annotations

import pytest

from synergia_tui.models import AIModelCreate, Message
from synergia_tui.services.replies import ContextSize
from synergia_tui.ui.format import format_context


@pytest.mark.parametrize(
    ("tokens", "window", "estimated", "shown"),
    [
        (12_400, 128_000, False, "12.4k / 128k"),
        (212, 8_000, False, "212 / 8k"),
        (212, 8_000, True, "~212 / 8k"),
        (999, 8_192, True, "~999 / 8.2k"),
        (1_000, 1_000_000, False, "1k / 1M"),
    ],
)
def test_the_budget_is_written_in_tokens_with_k(tokens, window, estimated, shown):
    assert format_context(tokens, window, estimated=estimated) == shown


def test_the_next_request_counts_the_path_exactly_once_a_provider_reported_it(container):
    model = container.models.add_model(
        AIModelCreate(name="m", provider="openai", api_model="x", context_window=8_000)
    )
    chat = container.chats.create_chat(title="t", model_id=model.id, system_prompt="Be brief.")
    replies = container.replies
    assert replies.context_size(None, model.id) == ContextSize(0, False, 8_000)
    assert replies.context_size(chat.id) == ContextSize(3, True, 8_000)  # "Be brief." / 4

    prompt = container.messages.add_user_message(chat.id, "x" * 400)
    assert replies.context_size(chat.id) == ContextSize(103, True, 8_000)  # 409 chars / 4

    reply = container.messages.start_reply(chat.id, model.id)
    container.messages.finish_reply(
        reply.id, content="y" * 200, prompt_tokens=120, completion_tokens=55
    )
    assert replies.context_size(chat.id) == ContextSize(175, False, 8_000)  # as reported

    # A reply whose tokens were estimated is estimated again from what is sent.
    with container.db.unit_of_work(write=True) as uow:
        stored = uow.session.get(Message, reply.id)
        assert stored is not None and stored.parent_id == prompt.id
        stored.tokens_estimated = True
        uow.commit()
    assert replies.context_size(chat.id) == ContextSize(153, True, 8_000)  # 609 chars / 4

    # Without a known window there is nothing to be "of".
    other = container.models.add_model(AIModelCreate(name="n", provider="openai", api_model="y"))
    assert replies.context_size(chat.id, other.id).window is None
