"""Chats: scoped to their owner, soft-deleted, paged by recent activity (both backends)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from synergia_tui.core.errors import NotFoundError, ValidationError
from synergia_tui.models import DEFAULT_TITLE
from tests.support import add_model

MAX_PAGES = 100  # far more than any test stores: a cursor that never ends fails, not hangs


def _all_pages(chats, *, limit: int, query: str | None = None) -> list[list[str]]:
    pages, cursor = [], None
    for _ in range(MAX_PAGES):
        page = chats.list_chats(limit=limit, after=cursor, query=query)
        pages.append([c.title for c in page.chats])
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor
    raise AssertionError(f"still a next page after {MAX_PAGES} pages: the cursor does not advance")


def test_a_new_chat_without_a_title_is_a_new_chat(container):
    chat = container.chats.create_chat()
    assert chat.title == DEFAULT_TITLE
    assert chat.user_id == "alice"
    assert chat.created_at.tzinfo is not None


def test_a_user_cannot_see_another_users_chats(container, other_user):
    mine = container.chats.create_chat(title="alice's plans")
    other_user.chats.create_chat(title="bob's plans")
    assert [c.title for c in container.chats.list_chats().chats] == ["alice's plans"]
    assert [c.title for c in other_user.chats.list_chats().chats] == ["bob's plans"]
    with pytest.raises(NotFoundError):
        other_user.chats.get_chat(mine.id)
    with pytest.raises(NotFoundError):
        other_user.chats.export_chat(mine.id)
    with pytest.raises(NotFoundError):
        other_user.messages.list_messages(mine.id)


def test_a_user_cannot_rename_or_delete_another_users_chat(container, other_user):
    mine = container.chats.create_chat(title="alice's plans")
    with pytest.raises(NotFoundError):
        other_user.chats.rename_chat(mine.id, "hijacked")
    with pytest.raises(NotFoundError):
        other_user.chats.delete_chat(mine.id)
    assert container.chats.get_chat(mine.id).title == "alice's plans"


def test_a_user_cannot_post_into_another_users_chat(container, other_user):
    model = add_model(container)
    mine = container.chats.create_chat(model_id=model.id)
    with pytest.raises(NotFoundError):
        other_user.messages.add_user_message(mine.id, "hello")
    prompt = container.messages.add_user_message(mine.id, "hi")
    with pytest.raises(NotFoundError):
        other_user.messages.finish_reply(prompt.id, content="pwned")


def test_renaming_a_chat_changes_its_title(container):
    chat = container.chats.create_chat()
    assert container.chats.rename_chat(chat.id, "  Trip to Lisbon  ").title == "Trip to Lisbon"
    assert container.chats.get_chat(chat.id).title == "Trip to Lisbon"


@pytest.mark.parametrize("bad", ["", "   ", "nul\x00here", "lone\udc00surrogate", "a\nb"])
def test_titles_that_cannot_be_stored_alike_are_refused(container, bad):
    chat = container.chats.create_chat()
    with pytest.raises(ValidationError):
        container.chats.rename_chat(chat.id, bad)
    with pytest.raises(ValidationError):
        container.chats.create_chat(title=bad)


def test_a_deleted_chat_disappears_but_its_rows_stay(container):
    keep = container.chats.create_chat(title="keep")
    gone = container.chats.create_chat(title="gone")
    container.chats.delete_chat(gone.id)
    assert [c.title for c in container.chats.list_chats().chats] == ["keep"]
    with pytest.raises(NotFoundError):
        container.chats.get_chat(gone.id)
    with pytest.raises(NotFoundError):
        container.chats.delete_chat(gone.id)
    with container.db.engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM chats")).scalar_one()
    assert stored == 2
    assert container.chats.get_chat(keep.id).title == "keep"


def test_chat_pages_neither_overlap_nor_skip(container):
    for n in range(7):
        container.chats.create_chat(title=f"chat {n}")
    pages = _all_pages(container.chats, limit=3)
    assert pages == [["chat 6", "chat 5", "chat 4"], ["chat 3", "chat 2", "chat 1"], ["chat 0"]]


def test_chats_with_the_same_activity_time_are_paged_by_id(container):
    ids = [container.chats.create_chat(title=f"chat {n}").id for n in range(5)]
    with container.db.engine.begin() as conn:
        conn.execute(
            text("UPDATE chats SET updated_at = (SELECT min(updated_at) FROM chats)"),
        )
    pages = _all_pages(container.chats, limit=2)
    flat = [title for page in pages for title in page]
    assert sorted(flat) == sorted(f"chat {n}" for n in range(5))
    assert len(flat) == 5
    by_id = sorted(ids, reverse=True)
    titles = {cid: container.chats.get_chat(cid).title for cid in ids}
    assert flat == [titles[cid] for cid in by_id]


def test_a_new_message_moves_its_chat_to_the_top(container):
    model = add_model(container)
    older = container.chats.create_chat(title="older", model_id=model.id)
    container.chats.create_chat(title="newer", model_id=model.id)
    assert [c.title for c in container.chats.list_chats().chats] == ["newer", "older"]
    container.messages.add_user_message(older.id, "bump")
    assert [c.title for c in container.chats.list_chats().chats] == ["older", "newer"]


def test_the_title_filter_runs_in_the_database_and_pages(container):
    for n in range(5):
        container.chats.create_chat(title=f"Python tip {n}")
        container.chats.create_chat(title=f"Cooking {n}")
    pages = _all_pages(container.chats, limit=2, query="python")
    flat = [t for page in pages for t in page]
    assert flat == [f"Python tip {n}" for n in range(4, -1, -1)]
    assert len(pages) == 3


@pytest.mark.parametrize(
    ("query", "expected"),
    [("100%", ["100% done"]), ("a_b", ["a_b"]), ("\\", ["back\\slash"]), ("%", ["100% done"])],
)
def test_the_title_filter_takes_wildcards_literally(container, query, expected):
    for title in ("100% done", "1000 done", "a_b", "axb", "back\\slash"):
        container.chats.create_chat(title=title)
    assert [c.title for c in container.chats.list_chats(query=query).chats] == expected


@pytest.mark.parametrize("bad", ["nul\x00", "lone\ud800"])
def test_a_filter_that_cannot_be_stored_is_refused_alike_on_both_backends(container, bad):
    with pytest.raises(ValidationError, match="Filter"):
        container.chats.list_chats(query=bad)


def test_a_chat_shows_its_current_models_name(container):
    model = add_model(container, "gpt")
    chat = container.chats.create_chat(model_id=model.id)
    assert chat.model_name == "gpt"
    assert container.chats.list_chats().chats[0].model_name == "gpt"


def test_a_chat_cannot_be_given_a_disabled_or_unknown_model(container):
    add_model(container, "off", enabled=False)
    off = container.models.get_model("off")
    chat = container.chats.create_chat()
    with pytest.raises(ValidationError, match="Model not available"):
        container.chats.set_model(chat.id, off.id)
    with pytest.raises(ValidationError, match="Model not available"):
        container.chats.create_chat(model_id=uuid.uuid4())


def test_an_unknown_chat_is_not_found(container):
    with pytest.raises(NotFoundError, match="not found"):
        container.chats.get_chat(uuid.uuid4())
