"""The trash: deleted chats can be listed, restored and purged for good (both backends)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text, update
from sqlmodel import col

from synergia_tui.bootstrap import Container
from synergia_tui.core.clock import utcnow
from synergia_tui.core.errors import NotFoundError, ValidationError
from synergia_tui.models import Chat, ChatRead
from tests.support import add_model, past_policies, run_commands


def _chat_with_replies(container: Container, title: str) -> ChatRead:
    """A chat of two turns: messages whose parent links point at each other."""
    model = add_model(container, f"m-{uuid.uuid4().hex[:8]}")
    chat = container.chats.create_chat(title=title, model_id=model.id)
    for prompt in ("first", "second"):
        container.messages.add_user_message(chat.id, prompt)
        reply = container.messages.start_reply(chat.id, model.id)
        container.messages.finish_reply(
            reply.id, content=f"re: {prompt}", prompt_tokens=1, completion_tokens=1
        )
    return chat


def _count(container: Container, chat_id: uuid.UUID) -> tuple[int, int]:
    """(chats, messages) rows stored for ``chat_id``, counted in SQL past every service (and,
    on PostgreSQL, past row-level security)."""
    # The id column is native uuid on PostgreSQL and CHAR(32) hex on SQLite.
    key: object = chat_id if container.db.backend == "postgresql" else chat_id.hex
    engine = create_engine(past_policies(container.db.engine.url))
    try:
        with engine.connect() as conn:
            chats = conn.execute(text("SELECT count(*) FROM chats WHERE id = :id"), {"id": key})
            messages = conn.execute(
                text("SELECT count(*) FROM messages WHERE chat_id = :id"), {"id": key}
            )
            return int(chats.scalar_one()), int(messages.scalar_one())
    finally:
        engine.dispose()


def _deleted_days_ago(container: Container, chat_id: uuid.UUID, days: int) -> None:
    with container.db.engine.begin() as conn:
        conn.execute(
            update(Chat)
            .where(col(Chat.id) == chat_id)
            .values(updated_at=utcnow() - timedelta(days=days))
        )


def test_a_deleted_chat_is_in_the_trash_and_comes_back_with_its_messages(container):
    chat = _chat_with_replies(container, "plans")
    kept = container.chats.create_chat(title="kept")
    container.chats.delete_chat(chat.id)

    assert [c.title for c in container.chats.list_chats().chats] == ["kept"]
    trash = container.chats.list_trash().chats
    assert [(c.id, c.is_deleted) for c in trash] == [(chat.id, True)]
    assert trash[0].updated_at > chat.updated_at  # the time it was deleted

    restored = container.chats.restore_chat(chat.id)
    assert not restored.is_deleted
    assert container.chats.list_trash().chats == []
    assert {c.id for c in container.chats.list_chats().chats} == {chat.id, kept.id}
    assert [m.content for m in container.messages.list_messages(chat.id).messages] == [
        "first",
        "re: first",
        "second",
        "re: second",
    ]


def test_the_trash_lists_the_most_recently_deleted_first(container):
    first = container.chats.create_chat(title="first")
    second = container.chats.create_chat(title="second")
    container.chats.delete_chat(second.id)
    container.chats.delete_chat(first.id)
    assert [c.title for c in container.chats.list_trash().chats] == ["first", "second"]


def test_only_chats_in_the_trash_can_be_restored_or_purged(container):
    live = container.chats.create_chat(title="live")
    with pytest.raises(NotFoundError):
        container.chats.restore_chat(live.id)
    with pytest.raises(NotFoundError):
        container.chats.purge_chat(live.id)
    with pytest.raises(NotFoundError):
        container.chats.find_in_trash_by_prefix(live.id.hex[:8])
    assert container.chats.empty_trash() == 0
    assert _count(container, live.id) == (1, 0)


def test_purging_a_chat_removes_its_rows_and_messages_and_nothing_else(container):
    doomed = _chat_with_replies(container, "doomed")
    other = _chat_with_replies(container, "other")
    also_deleted = container.chats.create_chat(title="also in the trash")
    container.chats.delete_chat(doomed.id)
    container.chats.delete_chat(also_deleted.id)
    assert _count(container, doomed.id) == (1, 4)

    container.chats.purge_chat(doomed.id)

    assert _count(container, doomed.id) == (0, 0)
    assert _count(container, other.id) == (1, 4)
    assert [c.id for c in container.chats.list_trash().chats] == [also_deleted.id]
    with pytest.raises(NotFoundError):
        container.chats.restore_chat(doomed.id)


def test_emptying_the_trash_by_age_goes_by_the_time_of_deletion(container):
    old = _chat_with_replies(container, "old")
    recent = _chat_with_replies(container, "recent")
    live = _chat_with_replies(container, "live")
    container.chats.delete_chat(old.id)
    container.chats.delete_chat(recent.id)
    _deleted_days_ago(container, old.id, 10)
    _deleted_days_ago(container, live.id, 30)  # old activity, but not in the trash

    assert container.chats.empty_trash(older_than=timedelta(days=7)) == 1
    assert _count(container, old.id) == (0, 0)
    assert _count(container, recent.id) == (1, 4)
    assert _count(container, live.id) == (1, 4)

    assert container.chats.empty_trash() == 1
    assert _count(container, recent.id) == (0, 0)
    assert _count(container, live.id) == (1, 4)
    with pytest.raises(ValidationError):
        container.chats.empty_trash(older_than=timedelta(days=-1))


def test_another_users_trash_is_never_listed_restored_or_purged(container, other_user):
    mine = _chat_with_replies(container, "alice's secret")
    container.chats.delete_chat(mine.id)

    assert other_user.chats.list_trash().chats == []
    with pytest.raises(NotFoundError):
        other_user.chats.restore_chat(mine.id)
    with pytest.raises(NotFoundError):
        other_user.chats.purge_chat(mine.id)
    with pytest.raises(NotFoundError):
        other_user.chats.find_in_trash_by_prefix(mine.id.hex)
    assert other_user.chats.empty_trash() == 0
    assert other_user.chats.empty_trash(older_than=timedelta(0)) == 0

    assert _count(container, mine.id) == (1, 4)
    assert [c.id for c in container.chats.list_trash().chats] == [mine.id]


# -- the command line -------------------------------------------------------------------------


def test_chats_rm_trash_restore_and_rename_from_the_command_line(container, db_url):
    chat = _chat_with_replies(container, "plans")
    prefix = chat.id.hex[:8]

    renamed, removed, listed, trash_json, trash_text, restored, after = run_commands(
        db_url,
        ["chats", "rename", prefix, "Better plans"],
        ["chats", "rm", prefix],
        ["chats", "list", "--json"],
        ["chats", "trash", "--json"],
        ["chats", "trash"],
        ["chats", "restore", prefix],
        ["chats", "list", "--json"],
    )
    for result in (renamed, removed, listed, trash_json, trash_text, restored, after):
        assert (result.returncode, result.stderr) == (0, ""), result
    assert renamed.stdout == f"renamed {chat.id} to Better plans\n"
    assert json.loads(listed.stdout) == []
    (trashed,) = json.loads(trash_json.stdout)
    assert set(trashed) == set(ChatRead.model_fields)  # the shape `chats list --json` has
    assert (trashed["id"], trashed["title"], trashed["is_deleted"]) == (
        str(chat.id),
        "Better plans",
        True,
    )
    header, row = trash_text.stdout.splitlines()
    assert header.split() == ["ID", "DELETED", "MODEL", "TITLE"]
    assert row.startswith(str(chat.id)) and row.endswith("Better plans")
    assert [c["id"] for c in json.loads(after.stdout)] == [str(chat.id)]


def test_chats_purge_needs_yes_and_really_deletes(container, db_url):
    doomed = _chat_with_replies(container, "doomed")
    old = _chat_with_replies(container, "old")
    kept = _chat_with_replies(container, "kept")
    for chat in (doomed, old):
        container.chats.delete_chat(chat.id)
    _deleted_days_ago(container, old.id, 3)

    refused, both, by_id, by_age, nothing_left, live_id, everything = run_commands(
        db_url,
        ["chats", "purge"],
        ["chats", "purge", doomed.id.hex[:8], "--older-than", "1", "--yes"],
        ["chats", "purge", doomed.id.hex[:8], "--yes"],
        ["chats", "purge", "--older-than", "2", "--yes"],
        ["chats", "purge", "--yes"],
        ["chats", "purge", kept.id.hex[:8], "--yes"],
        ["chats", "trash", "--json"],
    )
    assert refused.returncode == 2
    assert refused.stderr == "synergia: chats purge deletes chats for good; add --yes to confirm\n"
    assert both.returncode == 2 and len(both.stderr.splitlines()) == 1
    assert "not allowed with" in both.stderr
    assert (by_id.returncode, by_id.stdout) == (0, f"purged {doomed.id} (doomed)\n")
    assert (by_age.returncode, by_age.stdout) == (0, "purged 1 chat\n")
    assert (nothing_left.returncode, nothing_left.stdout) == (0, "purged 0 chats\n")
    assert live_id.returncode == 1
    assert live_id.stderr.startswith("synergia: No chat in the trash has an id starting with")
    assert len(live_id.stderr.splitlines()) == 1
    assert json.loads(everything.stdout) == []
    assert _count(container, doomed.id) == (0, 0)
    assert _count(container, old.id) == (0, 0)
    assert _count(container, kept.id) == (1, 4)


def test_chats_purge_with_no_id_empties_the_whole_trash_of_this_user_only(
    container, other_user, db_url
):
    mine = [_chat_with_replies(container, f"mine {n}") for n in range(3)]
    bobs = _chat_with_replies(other_user, "bob's")
    for chat in mine:
        container.chats.delete_chat(chat.id)
    other_user.chats.delete_chat(bobs.id)

    (purged,) = run_commands(db_url, ["chats", "purge", "--yes"])  # as alice
    assert (purged.returncode, purged.stdout) == (0, "purged 3 chats\n")
    assert all(_count(container, chat.id) == (0, 0) for chat in mine)
    assert _count(container, bobs.id) == (1, 4)
    assert [c.id for c in other_user.chats.list_trash().chats] == [bobs.id]


def test_a_bad_id_is_one_line_with_exit_1(container, db_url):
    results = run_commands(
        db_url,
        ["chats", "restore", "ffff0000"],
        ["chats", "rm", "ffff0000"],
        ["chats", "rename", "ffff0000", "x"],
        ["chats", "restore", "not-an-id"],
    )
    for result in results:
        assert result.returncode == 1, result
        assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert "not a chat id" in results[3].stderr


def test_the_trash_can_be_filtered_by_title(container):
    for title in ("Rust notes", "Python notes", "Groceries"):
        container.chats.delete_chat(container.chats.create_chat(title=title).id)
    container.chats.create_chat(title="Live notes")
    found = container.chats.list_trash(query="NOTES").chats
    assert sorted(c.title for c in found) == ["Python notes", "Rust notes"]
