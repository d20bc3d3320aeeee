"""Conversations as trees, on both backends: the path shown is the path sent; regenerating and
editing add siblings and never overwrite; switching siblings brings back the branch chosen
there last; forking copies a path; the migration threads existing chats."""

# Tests take the imported ``fake_provider`` fixture as a parameter, which ruff reads as a
# redefinition of the import.
# ruff: noqa: F811

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from synergia_tui.bootstrap import build
from synergia_tui.core import migrations
from synergia_tui.core.db import create_db_engine
from synergia_tui.core.errors import NotFoundError, ValidationError
from tests.conftest import settings_for
from tests.fake_provider_server import Script, fake_provider  # noqa: F401
from tests.test_replies import add_model, ask, fake_key, stream  # noqa: F401


def shown(container, chat_id):
    """The chat's path as (content, sibling, siblings)."""
    page = container.messages.list_messages(chat_id, limit=100)
    return [(m.content, m.sibling, m.siblings) for m in page.messages]


def sent_turns(fake_provider):
    return [(turn["role"], turn["content"]) for turn in fake_provider.last_request.body["messages"]]


async def regenerate(container, chat_id, reply, **kwargs):
    return await stream(container, container.replies.prepare(chat_id, **kwargs))


async def test_the_path_shown_is_the_path_sent_after_regenerating_and_editing(
    container, fake_provider
):
    model = add_model(container, fake_provider)
    fake_provider.script = Script(reply="A1")
    chat_id, _ = await ask(container, model, "Q1")
    fake_provider.script = Script(reply="A2")
    await ask(container, model, "Q2", chat_id=chat_id)
    fake_provider.script = Script(reply="A1 again")
    first_reply = container.messages.list_messages(chat_id).messages[1]
    # Answer the first prompt again, though a later turn follows it: that turn leaves the path.
    await regenerate(container, chat_id, first_reply, replacing=first_reply.id)
    assert sent_turns(fake_provider) == [("user", "Q1")]
    assert shown(container, chat_id) == [("Q1", 1, 1), ("A1 again", 2, 2)]

    fake_provider.script = Script(reply="A3")
    await ask(container, model, "Q3", chat_id=chat_id)
    assert sent_turns(fake_provider) == [("user", "Q1"), ("assistant", "A1 again"), ("user", "Q3")]

    # Edit Q3: a sibling prompt, answered with only the path above it.
    q3 = container.messages.list_messages(chat_id).messages[2]
    fake_provider.script = Script(reply="A3'")
    sent = container.conversation.send("Q3 edited", chat_id=chat_id, edit_of=q3.id)
    assert (sent.prompt.sibling, sent.prompt.siblings, sent.prompt.parent_id) == (
        2,
        2,
        q3.parent_id,
    )
    await stream(container, sent.plan)
    assert sent_turns(fake_provider) == [
        ("user", "Q1"),
        ("assistant", "A1 again"),
        ("user", "Q3 edited"),
    ]
    assert shown(container, chat_id) == [
        ("Q1", 1, 1),
        ("A1 again", 2, 2),
        ("Q3 edited", 2, 2),
        ("A3'", 1, 1),
    ]
    # Nothing was overwritten: every version is stored.
    stored = sorted(m.content for m in container.chats.export_chat(chat_id).messages)
    assert stored == sorted(["Q1", "A1", "Q2", "A2", "A1 again", "Q3", "A3", "Q3 edited", "A3'"])


async def test_switching_siblings_brings_back_the_branch_below_as_it_was(container, fake_provider):
    model = add_model(container, fake_provider)
    fake_provider.script = Script(reply="A1")
    chat_id, first = await ask(container, model, "Q1")
    fake_provider.script = Script(reply="A2")
    await ask(container, model, "Q2", chat_id=chat_id)
    fake_provider.script = Script(reply="B1")
    second = await regenerate(container, chat_id, first, replacing=first.id)
    assert shown(container, chat_id) == [("Q1", 1, 1), ("B1", 2, 2)]

    back = container.messages.switch_sibling(chat_id, second.id, -1)
    assert back is not None and (back.id, back.sibling, back.siblings) == (first.id, 1, 2)
    assert shown(container, chat_id) == [("Q1", 1, 1), ("A1", 1, 2), ("Q2", 1, 1), ("A2", 1, 1)]
    assert container.messages.switch_sibling(chat_id, first.id, -1) is None  # none before it

    # The next reply goes on from the branch shown.
    fake_provider.script = Script(reply="A3")
    await ask(container, model, "Q3", chat_id=chat_id)
    assert sent_turns(fake_provider)[-3:] == [("user", "Q2"), ("assistant", "A2"), ("user", "Q3")]

    container.messages.switch_sibling(chat_id, first.id, 1)
    assert shown(container, chat_id) == [("Q1", 1, 1), ("B1", 2, 2)]
    container.messages.switch_sibling(chat_id, second.id, -1)
    assert [c for c, _, _ in shown(container, chat_id)] == ["Q1", "A1", "Q2", "A2", "Q3", "A3"]


async def test_a_regenerated_reply_deep_in_a_branch_is_remembered_when_coming_back(
    container, fake_provider
):
    model = add_model(container, fake_provider)
    fake_provider.script = Script(reply="A1")
    chat_id, a1 = await ask(container, model, "Q1")
    fake_provider.script = Script(reply="A2")
    _, a2 = await ask(container, model, "Q2", chat_id=chat_id)
    fake_provider.script = Script(reply="A2 newer")
    a2b = await regenerate(container, chat_id, a2)
    container.messages.switch_sibling(chat_id, a2b.id, -1)  # chose the older A2 again
    fake_provider.script = Script(reply="B1")
    b1 = await regenerate(container, chat_id, a1, replacing=a1.id)
    container.messages.switch_sibling(chat_id, b1.id, -1)
    # Back on A1's branch: A2, the one chosen last, not the newest A2.
    assert [c for c, _, _ in shown(container, chat_id)] == ["Q1", "A1", "Q2", "A2"]


async def test_editing_the_first_prompt_makes_a_second_root(container, fake_provider):
    model = add_model(container, fake_provider)
    fake_provider.script = Script(reply="A1")
    chat_id, _ = await ask(container, model, "first")
    q1 = container.messages.list_messages(chat_id).messages[0]
    sent = container.conversation.send("first, edited", chat_id=chat_id, edit_of=q1.id)
    await stream(container, sent.plan)
    assert sent_turns(fake_provider) == [("user", "first, edited")]
    assert shown(container, chat_id)[0] == ("first, edited", 2, 2)
    container.messages.switch_sibling(chat_id, sent.prompt.id, -1)
    assert shown(container, chat_id) == [("first", 1, 2), ("A1", 1, 1)]


async def test_only_prompts_are_edited_and_only_replies_answered_again(container, fake_provider):
    model = add_model(container, fake_provider)
    fake_provider.script = Script(reply="A1")
    chat_id, reply = await ask(container, model, "Q1")
    prompt = container.messages.list_messages(chat_id).messages[0]
    with pytest.raises(ValidationError):
        container.conversation.send("x", chat_id=chat_id, edit_of=reply.id)
    with pytest.raises(ValidationError):
        container.replies.prepare(chat_id, replacing=prompt.id)
    assert shown(container, chat_id) == [("Q1", 1, 1), ("A1", 1, 1)]  # nothing changed


async def test_a_fork_copies_the_path_up_to_a_message_into_a_new_chat(container, fake_provider):
    model = add_model(container, fake_provider)
    container.chats.set_system_prompt(
        chat_id := (await ask(container, model, "Q1"))[0], "Be brief."
    )
    fake_provider.script = Script(reply="A2")
    await ask(container, model, "Q2", chat_id=chat_id)
    before = shown(container, chat_id)
    at = container.messages.list_messages(chat_id).messages[1]

    fork = container.messages.fork_chat(chat_id, at.id)
    assert fork.id != chat_id and fork.system_prompt == "Be brief."
    assert [c for c, _, _ in shown(container, fork.id)] == [c for c, _, _ in before[:2]]
    copies = container.messages.list_messages(fork.id).messages
    assert copies[1].parent_id == copies[0].id and copies[0].parent_id is None
    assert {m.id for m in copies}.isdisjoint(
        m.id for m in container.messages.list_messages(chat_id).messages
    )
    assert shown(container, chat_id) == before  # the original is left as it was
    # The fork goes on by itself.
    fake_provider.script = Script(reply="A3")
    await ask(container, model, "Q3", chat_id=fork.id)
    assert [c for c, _, _ in shown(container, fork.id)] == [before[0][0], before[1][0], "Q3", "A3"]
    assert len(shown(container, chat_id)) == 4


def test_the_path_is_paged_through_its_partial_index(container):
    """Reading a page of the path uses ``ix_messages_path`` (SQLite's plan says so; on
    PostgreSQL the planner may prefer a scan of a tiny table, so the index's presence is
    checked there)."""
    with container.db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            plan = conn.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT id FROM messages WHERE chat_id = 'x' AND on_path "
                    "AND is_deleted = 0 ORDER BY created_at DESC, id DESC LIMIT 8"
                )
            ).all()
            assert "ix_messages_path" in " ".join(str(row[-1]) for row in plan)
        else:
            names = conn.execute(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_messages_path'")
            ).scalar_one()
            assert "WHERE on_path" in names


def test_upgrading_threads_existing_chats_into_one_path_each(empty_db_url):
    migrations.upgrade(empty_db_url, "0004")  # the previous Synergia made this database
    engine = create_db_engine(empty_db_url)
    sqlite = engine.dialect.name == "sqlite"

    def key(value):
        return value.hex if sqlite else value

    chat_a, chat_b = uuid.uuid4(), uuid.uuid4()
    rows = {
        chat_a: ["user:Q1", "assistant:A1", "assistant:A1 regenerated", "user:Q2", "assistant:A2"],
        chat_b: ["user:P1", "user:P2", "assistant:R"],
    }
    ids: dict[str, uuid.UUID] = {}
    with engine.begin() as conn:
        for n, (chat, messages) in enumerate(rows.items()):
            conn.execute(
                text(
                    "INSERT INTO chats (id, user_id, title, is_deleted, created_at, updated_at) "
                    "VALUES (:id, 'alice', 't', false, :now, :now)"
                ),
                {"id": key(chat), "now": f"2026-01-0{n + 1} 00:00:00"},
            )
            for i, message in enumerate(messages):
                role, content = message.split(":")
                ids[content] = uuid.uuid4()
                conn.execute(
                    text(
                        "INSERT INTO messages (id, chat_id, role, content, status, created_at, "
                        "is_deleted) VALUES (:id, :chat, :role, :content, 'complete', :at, false)"
                    ),
                    {
                        "id": key(ids[content]),
                        "chat": key(chat),
                        "role": role,
                        "content": content,
                        "at": f"2026-01-01 00:00:{i:02d}",
                    },
                )
    engine.dispose()
    migrations.upgrade(empty_db_url)
    container = build(settings_for(empty_db_url, user="alice"))
    try:
        export = {m.content: m for m in container.chats.export_chat(chat_a).messages}
        export |= {m.content: m for m in container.chats.export_chat(chat_b).messages}
        parents = {c: (export[c].parent_id, export[c].on_path) for c in export}
        assert shown(container, chat_a) == [
            ("Q1", 1, 1),
            ("A1 regenerated", 2, 2),
            ("Q2", 1, 1),
            ("A2", 1, 1),
        ]
        assert shown(container, chat_b) == [("P1", 1, 1), ("P2", 1, 1), ("R", 1, 1)]
    finally:
        container.close()
    assert parents == {
        "Q1": (None, True),
        "A1": (ids["Q1"], False),
        "A1 regenerated": (ids["Q1"], True),
        "Q2": (ids["A1 regenerated"], True),
        "A2": (ids["Q2"], True),
        "P1": (None, True),
        "P2": (ids["P1"], True),
        "R": (ids["P2"], True),
    }


async def test_a_message_on_another_branch_is_shown_by_choosing_the_versions_above_it(
    container, fake_provider
):
    model = add_model(container, fake_provider)
    fake_provider.script = Script(reply="A1")
    chat_id, a1 = await ask(container, model, "Q1")
    fake_provider.script = Script(reply="A2 deep in the old branch")
    _, a2 = await ask(container, model, "Q2", chat_id=chat_id)
    fake_provider.script = Script(reply="B1")
    await regenerate(container, chat_id, a1, replacing=a1.id)
    assert [c for c, _, _ in shown(container, chat_id)] == ["Q1", "B1"]

    # A2 (found by a search, say) is two turns below the version shown: A1 is chosen again.
    assert container.messages.show_version_of(chat_id, a2.id) is True
    assert shown(container, chat_id) == [
        ("Q1", 1, 1),
        ("A1", 1, 2),
        ("Q2", 1, 1),
        ("A2 deep in the old branch", 1, 1),
    ]
    assert container.messages.show_version_of(chat_id, a2.id) is False  # shown already
    # The choice is remembered like one made with ←/→: a new prompt goes on from A2.
    fake_provider.script = Script(reply="A3")
    await ask(container, model, "Q3", chat_id=chat_id)
    assert sent_turns(fake_provider)[-2:] == [
        ("assistant", "A2 deep in the old branch"),
        ("user", "Q3"),
    ]


def test_showing_a_version_of_another_users_chat_is_refused(container, other_user):
    chat = container.chats.create_chat(title="mine")
    with pytest.raises(NotFoundError):
        other_user.messages.show_version_of(chat.id, uuid.uuid4())
