"""PostgreSQL: the GIN index finds the matches; windows of recent rows keep the ranking cheap.

What costs here is not ``ts_rank`` but the heap: every match is a row to read, and a word in
one message of ten is on nearly every page of the table (300 ms for a million messages, all
of it in reading pages). So the windows (see ``search_hits``) are ranges of time, read through
an index on ``messages.created_at`` (migration 0008; for titles, ``ix_chats_user_recent``): the
planner intersects that range with the GIN index, or walks the range and tests each row, and
either way reads only the rows of the window.

The first window is the newest ``FIRST_ROWS`` rows. Each next one is sized from the density of
the one before, to hold about ``WINDOW_MATCHES`` of the user's matches (and at least twice as
many rows); past ``LAST_WINDOW_ROWS`` it is simply everything older, where a rare word's few
matches are read straight from the GIN index. A window is a property of the data and the query,
never of the page asked for, so pages follow one another without gaps or repeats.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Uuid, bindparam, text
from sqlmodel import Session

from synergia_tui.core.search_query import Term, tsquery_parts
from synergia_tui.models.search import MARK_END, MARK_START
from synergia_tui.models.types import UTCDateTime
from synergia_tui.repositories.search_hits import SNIPPET_WORDS, WINDOW_MATCHES, Candidate, best

FIRST_ROWS = 10_000
LAST_WINDOW_ROWS = 250_000

_MESSAGE_BOUND = """
SELECT created_at AS at FROM messages WHERE {below}
ORDER BY created_at DESC OFFSET :n LIMIT 1
"""
_CHAT_BOUND = """
SELECT updated_at AS at FROM chats WHERE user_id = :user AND is_deleted = false AND {below}
ORDER BY updated_at DESC OFFSET :n LIMIT 1
"""
# The tsquery is written out in place (not joined in from a subquery) so that the planner sees
# it and can weigh the GIN index against the window's range by the word's real frequency.
_MESSAGES = """
SELECT -ts_rank(m.search, {query}, 1) AS rank, m.id AS message_id, m.chat_id AS chat_id,
       m.role AS role, m.created_at AS created_at, c.title AS chat_title,
       count(*) OVER () AS matches
FROM messages m JOIN chats c ON c.id = m.chat_id
WHERE m.search @@ {query} AND c.user_id = :user AND c.is_deleted = false
      AND m.is_deleted = false {where}
ORDER BY rank, m.created_at DESC, m.id DESC
LIMIT :k
"""
_TITLES = """
SELECT -ts_rank(c.search, {query}, 1) AS rank, NULL::uuid AS message_id, c.id AS chat_id,
       NULL::text AS role, c.updated_at AS created_at, c.title AS chat_title,
       count(*) OVER () AS matches
FROM chats c
WHERE c.search @@ {query} AND c.user_id = :user AND c.is_deleted = false {where}
ORDER BY rank, c.updated_at DESC
LIMIT :k
"""
_SNIPPETS = {
    "m": "SELECT id, ts_headline('simple', content, {query}, :options) AS snippet "
    "FROM messages WHERE id IN :ids",
    "c": "SELECT id, ts_headline('simple', title, {query}, :options) AS snippet "
    "FROM chats WHERE id IN :ids",
}
_OPTIONS = (
    f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords={SNIPPET_WORDS + 8}, "
    f"MinWords={SNIPPET_WORDS // 2}, ShortWord=0, MaxFragments=1, FragmentDelimiter=…"
)


class PostgresSearch:
    """One search, on PostgreSQL."""

    def __init__(
        self, session: Session, user_id: str, terms: list[Term], chat_id: uuid.UUID | None
    ) -> None:
        self.session = session
        self.user_id = user_id
        self.chat_id = chat_id
        parts = tsquery_parts(terms)
        joined = " && ".join(f"{fn}('simple', :t{i})" for i, (fn, _) in enumerate(parts))
        self.query = f"({joined})"
        self.terms = {f"t{i}": argument for i, (_, argument) in enumerate(parts)}

    def message_hits(self, need: int) -> list[Candidate]:
        # A word the statistics do not know is guessed at ~1,000 matches, and the planner then
        # hashes the user's whole chats table (85,000 rows, 45 ms) to join a rare word's seven
        # matches. A window holds at most some thousands of matches: looking each one's chat up
        # by primary key is the better plan for every window, so hash joins are off for the
        # search's own transaction (SET LOCAL ends with it).
        self.session.execute(text("SET LOCAL enable_hashjoin = off"))
        return self._hits(_MESSAGES, _MESSAGE_BOUND, "m.created_at", "m.chat_id", "m", need)

    def title_hits(self, need: int) -> list[Candidate]:
        return self._hits(_TITLES, _CHAT_BOUND, "c.updated_at", "c.id", "c", need)

    def snippets(self, hits: list[Candidate]) -> dict[tuple[str, object], str]:
        out: dict[tuple[str, object], str] = {}
        for kind, sql in _SNIPPETS.items():
            ids = [h.key[1] for h in hits if h.key[0] == kind]
            if ids:
                statement = text(sql.format(query=self.query)).bindparams(
                    bindparam("ids", expanding=True, type_=Uuid)
                )
                rows = self.session.execute(
                    statement, {"ids": ids, "options": _OPTIONS, **self.terms}
                )
                out.update(((kind, row.id), row.snippet) for row in rows)
        return out

    # -- internals --------------------------------------------------------------------------

    def _hits(
        self, sql: str, bound_sql: str, time: str, chat: str, kind: str, need: int
    ) -> list[Candidate]:
        if self.chat_id is not None:  # one chat: ranked whole
            where = f"AND {chat} = :chat"
            return self._window(sql, where, {"chat": self.chat_id}, kind, 0, need)[0]
        hits: list[Candidate] = []
        hi: datetime | None = None
        rows, window = FIRST_ROWS, 0
        while len(hits) < need:
            lo = self._bound(bound_sql, time, hi, rows) if rows <= LAST_WINDOW_ROWS else None
            where = (f"AND {time} >= :lo " if lo else "") + (f"AND {time} < :hi" if hi else "")
            found, matches = self._window(
                sql, where, {"lo": lo, "hi": hi}, kind, window, need - len(hits)
            )
            hits += found
            if lo is None:
                break
            hi, window = lo, window + 1
            rows *= max(2, WINDOW_MATCHES // max(matches, 1))
        return hits

    def _bound(self, sql: str, time: str, hi: datetime | None, rows: int) -> datetime | None:
        """The time of the ``rows``-th newest row before ``hi`` (None: fewer are left)."""
        column = time.split(".")[1]
        clause = text(sql.format(below=f"{column} < :hi" if hi else "true"))
        params: dict[str, Any] = {"n": rows - 1, "user": self.user_id}
        if hi:
            clause = clause.bindparams(bindparam("hi", type_=UTCDateTime))
            params["hi"] = hi
        value: datetime | None = self.session.execute(
            clause.columns(at=UTCDateTime), params
        ).scalar()
        return value

    def _window(
        self, sql: str, where: str, params: dict[str, Any], kind: str, window: int, need: int
    ) -> tuple[list[Candidate], int]:
        """The ``need`` best visible hits in one window, and how many it holds."""
        clause = text(sql.format(query=self.query, where=where))
        for name in ("lo", "hi"):
            if f":{name}" in where:
                clause = clause.bindparams(bindparam(name, type_=UTCDateTime))
        if ":chat" in where:
            clause = clause.bindparams(bindparam("chat", type_=Uuid))
        statement = clause.columns(message_id=Uuid, chat_id=Uuid, created_at=UTCDateTime)
        values = {k: v for k, v in params.items() if f":{k}" in where}
        rows = list(
            self.session.execute(
                statement, {"user": self.user_id, "k": need, **self.terms, **values}
            )
        )
        hits = [
            Candidate(
                window=window,
                rank=float(r.rank),
                created_at=r.created_at,
                chat_id=r.chat_id,
                message_id=r.message_id,
                role=r.role,
                chat_title=r.chat_title,
                key=(kind, r.message_id if kind == "m" else r.chat_id),
            )
            for r in rows
        ]
        return best(hits, need), (rows[0].matches if rows else 0)
