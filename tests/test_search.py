"""Full-text search over messages and chat titles, on both backends: matching (words ANDed,
phrases, prefixes), ranking, snippets, isolation, deleted rows, the index kept in step, the
migration's backfill, and `synergia search`."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from synergia_tui.bootstrap import build
from synergia_tui.core import migrations
from synergia_tui.core.db import create_db_engine
from synergia_tui.core.errors import NotFoundError, ValidationError
from synergia_tui.core.search_query import Term, parse
from synergia_tui.models import Message
from synergia_tui.models.search import MARK_END, MARK_START
from synergia_tui.repositories import search_postgres, search_sqlite
from tests.conftest import settings_for
from tests.support import one_path, run_commands

START = datetime(2026, 1, 1, tzinfo=UTC)


def add_chat(container, title: str, texts: list[str]) -> uuid.UUID:
    """A chat holding ``texts`` (user and assistant in turn), a second apart."""
    chat = container.chats.create_chat(title=title)
    with container.db.unit_of_work(write=True) as uow:
        uow.session.add_all(
            one_path(
                [
                    Message(
                        chat_id=chat.id,
                        role="user" if i % 2 == 0 else "assistant",
                        content=content,
                        created_at=START + timedelta(seconds=i),
                    )
                    for i, content in enumerate(texts)
                ]
            )
        )
        uow.commit()
    return chat.id


def found(container, query: str, **kwargs) -> list[str]:
    """The snippets of the message hits, matches shown as [..]."""
    hits = container.search.search(query, **kwargs)
    return [
        h.snippet.replace(MARK_START, "[").replace(MARK_END, "]")
        for h in hits
        if h.message_id is not None
    ]


def plain(snippets: list[str]) -> list[str]:
    return [s.replace("[", "").replace("]", "") for s in snippets]


def test_queries_are_read_the_same_way_for_both_databases():
    assert parse('tea "green leaves" matc* ') == [
        Term("words", "tea"),
        Term("phrase", "green leaves"),
        Term("prefix", "matc"),
    ]
    assert parse('*** "" " a') == [Term("phrase", "a")]  # no word: dropped; open quote: to the end
    assert parse('say "AND" OR NEAR(x) -y') == [  # FTS5 syntax is only text here
        Term("words", "say"),
        Term("phrase", "AND"),
        Term("words", "OR"),
        Term("words", "NEAR(x)"),
        Term("words", "-y"),
    ]


def test_words_are_anded_phrases_keep_their_order_and_a_star_is_a_prefix(container):
    add_chat(
        container,
        "Tea",
        [
            "green tea is made from leaves",
            "leaves of green plants",
            "a matcha latte, please",
            "tea with milk",
        ],
    )
    assert sorted(plain(found(container, "green leaves"))) == [
        "green tea is made from leaves",
        "leaves of green plants",
    ]
    assert plain(found(container, '"green tea"')) == ["green tea is made from leaves"]
    assert found(container, '"tea green"') == []
    assert found(container, "matc*") == ["a [matcha] latte, please"]
    assert found(container, "matc") == []  # without the star, a whole word
    assert found(container, "coffee") == []
    # FTS5 operators are words like any other: no syntax error, no surprise.
    assert found(container, 'NEAR(green "AND" leaves') == []


def test_the_best_match_comes_first_and_the_newest_among_equals(container):
    chat = add_chat(
        container,
        "Ranking",
        [
            "rust",
            "a long message that mentions rust once among many other words about cooking",
            "rust rust rust",
            "rust",
        ],
    )
    hits = [h for h in container.search.search("rust", chat_id=chat) if h.message_id]
    texts = [h.snippet.replace(MARK_START, "").replace(MARK_END, "") for h in hits]
    assert texts[-1].startswith("a long message")  # diluted: last
    shorts = [h for h in hits if h.snippet == f"{MARK_START}rust{MARK_END}"]
    assert len(shorts) == 2 and shorts[0].created_at > shorts[1].created_at  # a tie: newest first


def test_ranked_a_window_at_a_time_every_hit_comes_once_and_only_the_users_own(
    container, other_user, monkeypatch
):
    # Tiny windows, so that a handful of rows takes the paths a million messages take: many
    # windows, the best matches of a window belonging to another user or to the trash, ties.
    monkeypatch.setattr(search_sqlite, "WINDOW_MATCHES", 3)
    monkeypatch.setattr(search_sqlite, "FIRST_K", 2)
    monkeypatch.setattr(search_postgres, "WINDOW_MATCHES", 3)
    monkeypatch.setattr(search_postgres, "FIRST_ROWS", 4)
    mine = []
    for i in range(6):
        # The other user's and the deleted chat's matches are short: they rank first (their
        # titles match too).
        add_chat(other_user, f"Their walrus {i}", ["walrus", "walrus", "nothing"])
        gone = add_chat(container, f"Gone walrus {i}", ["walrus", "walrus walrus"])
        container.chats.delete_chat(gone)
        mine.append(
            add_chat(
                container,
                f"Mine {i}",
                [f"a walrus among {'many ' * i}other words", "no match", "walrus too, once"],
            )
        )
    everything = container.search.search("walrus", limit=200)
    assert {h.chat_id for h in everything} == set(mine)
    assert len(everything) == 12 and all(h.message_id for h in everything)  # each once
    for size in (1, 5):  # pages follow on exactly, however small
        pages = [
            container.search.search("walrus", limit=size, offset=n) for n in range(0, 15, size)
        ]
        assert [h for page in pages for h in page] == everything
    assert [(h.chat_id, h.message_id) for h in everything] == list(
        dict.fromkeys((h.chat_id, h.message_id) for h in everything)
    )


def test_snippets_mark_the_match_in_a_long_message(container):
    words = [f"filler{i}" for i in range(400)]
    words[200] = "needle"
    add_chat(container, "Long", [" ".join(words)])
    [snippet] = found(container, "needle")
    assert "[needle]" in snippet
    assert len(snippet) < 400  # a window around the match, not the whole message
    assert "filler199" in snippet or "filler201" in snippet


def test_titles_are_searched_too_and_every_hit_names_its_chat(container):
    chat = add_chat(container, "Trip to Lisbon", ["where should we eat?"])
    hits = container.search.search("lisbon")
    assert [(h.chat_id, h.message_id, h.role, h.chat_title) for h in hits] == [
        (chat, None, None, "Trip to Lisbon")
    ]
    assert hits[0].snippet == f"Trip to {MARK_START}Lisbon{MARK_END}"
    [hit] = container.search.search("eat")
    assert (hit.chat_id, hit.role, hit.chat_title) == (chat, "user", "Trip to Lisbon")


def test_another_users_chats_and_deleted_ones_are_never_found(container, other_user):
    mine = add_chat(container, "Mine", ["the secret word is walrus"])
    add_chat(other_user, "Bob's walrus", ["bob also says walrus"])
    gone = add_chat(container, "Deleted", ["a walrus in the bin"])
    container.chats.delete_chat(gone)
    assert [h.chat_id for h in container.search.search("walrus")] == [mine]
    assert {h.chat_title for h in other_user.search.search("walrus")} == {"Bob's walrus"}
    with pytest.raises(NotFoundError):  # another user's chat cannot be searched by id
        container.search.search("walrus", chat_id=gone)


def test_the_index_follows_edits_and_deletes(container):
    chat = add_chat(container, "Edits", ["the first draft", "keep this one"])
    with container.db.unit_of_work(write=True) as uow:
        uow.session.execute(
            text("UPDATE messages SET content = 'the final version' WHERE content LIKE '%draft%'")
        )
        uow.commit()
    assert found(container, "draft") == []
    assert found(container, "final") == ["the [final] version"]
    container.chats.rename_chat(chat, "Renamed notes")
    assert [h.chat_title for h in container.search.search("notes")] == ["Renamed notes"]
    assert container.search.search("edits") == []
    with container.db.unit_of_work(write=True) as uow:
        uow.session.execute(text("DELETE FROM messages WHERE content = 'keep this one'"))
        uow.commit()
    assert found(container, "keep") == []
    assert found(container, "final") == ["the [final] version"]


def test_a_search_says_when_there_is_nothing_to_search_for(container):
    for query in ("", "   ", "***", '""'):
        with pytest.raises(ValidationError, match="Nothing to search for"):
            container.search.search(query)
    with pytest.raises(ValidationError):
        container.search.search("x" * 2_000)


def test_a_reply_of_a_megabyte_of_distinct_words_is_still_stored_and_found(container):
    # PostgreSQL's tsvector holds at most 1 MB: the index takes the first 100,000 characters,
    # and the reply itself is stored whole.
    words = [uuid.uuid4().hex for _ in range(32_000)]
    chat = add_chat(container, "Huge", ["start " + " ".join(words)])
    stored = container.messages.list_messages(chat).messages[0].content
    assert len(stored) > 1_000_000
    assert found(container, "start")
    assert found(container, words[10])


def test_upgrading_indexes_what_the_database_already_holds(empty_db_url):
    migrations.upgrade(empty_db_url, "0006")  # the previous Synergia made this database
    engine = create_db_engine(empty_db_url)
    key = (lambda v: v.hex) if engine.dialect.name == "sqlite" else (lambda v: v)
    chat, message = uuid.uuid4(), uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO chats (id, user_id, title, is_deleted, created_at, updated_at) "
                "VALUES (:id, 'alice', 'Old notes', false, :now, :now)"
            ),
            {"id": key(chat), "now": "2026-01-01 00:00:00"},
        )
        conn.execute(
            text(
                "INSERT INTO messages (id, chat_id, role, content, status, created_at, "
                "is_deleted, on_path) VALUES (:id, :chat, 'user', 'an old question about "
                "kubernetes', 'complete', :at, false, true)"
            ),
            {"id": key(message), "chat": key(chat), "at": "2026-01-01 00:00:01"},
        )
    engine.dispose()
    migrations.upgrade(empty_db_url)
    container = build(settings_for(empty_db_url))
    try:
        [hit] = container.search.search("kubernetes")
        assert (hit.chat_id, hit.message_id, hit.chat_title) == (chat, message, "Old notes")
        assert [h.chat_id for h in container.search.search("notes")] == [chat]
    finally:
        container.close()
    migrations.downgrade(empty_db_url, "0006")  # and back: the index goes, the rows stay
    migrations.upgrade(empty_db_url)


def test_synergia_search_prints_hits_and_json_with_exactly_its_fields(container, db_url):
    chat = add_chat(container, "CLI", ["the quick brown fox", "jumps over the lazy dog"])
    ref = str(chat)[:8]
    shown, as_json, nothing, only, empty = run_commands(
        db_url,
        ["search", "fox"],
        ["search", "lazy", "dog", "--json"],
        ["search", "nothing-like-it", "--json"],
        ["search", "the", "--chat", ref, "--json"],
        ["search", "***"],
    )
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0].split() == ["CHAT", "MESSAGE", "ROLE", "TIME", "SNIPPET"]
    assert ref in lines[1] and "user" in lines[1] and "«fox»" in lines[1]

    hits = json.loads(as_json.stdout)
    assert [set(hit) for hit in hits] == [
        {"chat_id", "message_id", "role", "created_at", "chat_title", "snippet"}
    ]
    assert hits[0]["chat_id"] == str(chat) and hits[0]["role"] == "assistant"
    assert "«lazy» «dog»" in hits[0]["snippet"]
    assert (nothing.returncode, json.loads(nothing.stdout)) == (0, [])
    assert {hit["chat_id"] for hit in json.loads(only.stdout)} == {str(chat)}
    assert empty.returncode != 0 and empty.stdout == ""
    assert empty.stderr == "synergia: Nothing to search for: give a word\n"


def test_the_sqlite_index_is_whole_at_head(container, backend):
    # A later migration that rebuilds messages or chats (Alembic's batch mode copies a table)
    # would drop the triggers and renumber rowids: this says so at once.
    if backend != "sqlite":
        pytest.skip("PostgreSQL's index is a generated column: nothing to keep in step")
    add_chat(container, "Whole", ["some words", "more words"])
    with container.db.unit_of_work(write=True) as uow:
        triggers = uow.session.execute(
            text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_fts_%'")
        ).scalars()
        assert sorted(triggers) == sorted(
            f"{table}_fts_{what}" for table in ("chats", "messages") for what in ("ai", "ad", "au")
        )
        for table in ("messages_fts", "chats_fts"):  # raises if the index and the table differ
            uow.session.execute(text(f"INSERT INTO {table}({table}) VALUES ('integrity-check')"))


def test_n_and_shift_n_step_through_the_matches_of_the_path_in_reading_order(container):
    texts = ["a kettle", "nothing", "the kettle boils", "tea", "Kettles? one kettle more"]
    chat = add_chat(container, "Kettles", texts)
    ids = [m.id for m in container.messages.list_messages(chat, limit=10).messages]
    step = container.search.next_match
    assert step("kettle", chat) == ids[0]  # from the top
    assert step("kettle", chat, start=ids[0]) == ids[2]
    assert step("kettle", chat, start=ids[2]) == ids[4]
    assert step("kettle", chat, start=ids[4]) is None  # the last one: nothing below
    assert step("kettle", chat, start=ids[4], direction=-1) == ids[2]
    assert step("kettle", chat, direction=-1) == ids[4]  # from the newest
    # From what is on screen (no message selected): its first message counts too.
    assert step("kettle", chat, start=ids[2], inclusive=True) == ids[2]
    assert step("kettle", chat, start=ids[3], inclusive=True) == ids[4]
    assert step("kettle", chat, start=ids[2], direction=-1, inclusive=True) == ids[2]
    assert step('"kettle boils"', chat) == ids[2]
    assert step("kett*", chat, start=ids[2]) == ids[4]
    assert step("absent", chat) is None
    other = add_chat(container, "Other", ["kettle"])
    with pytest.raises(NotFoundError):  # a message of another chat is no place to start
        step("kettle", chat, start=container.messages.list_messages(other).messages[0].id)


def test_stepping_through_matches_skips_other_branches_and_deleted_messages(container):
    chat = add_chat(container, "Branches", ["kettle one", "reply", "kettle two"])
    ids = [m.id for m in container.messages.list_messages(chat, limit=10).messages]
    with container.db.unit_of_work(write=True) as uow:
        uow.session.execute(
            text("UPDATE messages SET on_path = :no WHERE id = :id").bindparams(
                no=False, id=ids[2].hex if container.db.engine.dialect.name == "sqlite" else ids[2]
            )
        )
        uow.commit()
    assert container.search.next_match("kettle", chat, start=ids[0]) is None
    container.chats.delete_chat(chat)
    with pytest.raises(NotFoundError):
        container.search.next_match("kettle", chat)


def test_matches_are_found_in_text_as_the_databases_find_them():
    from synergia_tui.core.search_marks import find_matches, pattern_for

    text_ = "Café CAFE cafés, the décor; Straße strasse; kettle-kettles"
    assert [text_[a:b] for a, b in find_matches(text_, pattern_for(parse("cafe")))] == [
        "Café",
        "CAFE",
    ]
    assert [text_[a:b] for a, b in find_matches(text_, pattern_for(parse("caf*")))] == [
        "Café",
        "CAFE",
        "cafés",
    ]
    assert [text_[a:b] for a, b in find_matches(text_, pattern_for(parse("strasse")))] == [
        "Straße",
        "strasse",
    ]
    assert [text_[a:b] for a, b in find_matches(text_, pattern_for(parse('"the decor"')))] == [
        "the",
        "décor",
    ]
    assert find_matches(text_, pattern_for(parse("kettl"))) == []  # whole words only
    assert find_matches(text_, None) == []
