"""SQLite: FTS5 finds and ranks the matches, then they are checked against the user and the trash.

The FTS5 index holds every user's rows, deleted or not, so the order of work matters. Joining
first (the chats of the user, then an FTS lookup for each) costs a lookup per chat; ranking
every match then joining costs a bm25 per match. Instead:

- **windows** (see ``search_hits``) are cut by rowid, each holding exactly ``WINDOW_MATCHES``
  matches of the index: ``ORDER BY rowid DESC LIMIT 1 OFFSET n`` walks the posting list without
  ranking, some fifty times cheaper than bm25;
- within a window FTS5 ranks alone (``ORDER BY rank LIMIT k`` in a subquery), and only those k
  rows are joined to their message and chat. The hits kept are the visible ones ranked strictly
  above the k-th: nothing unseen can come before them. When they are fewer than needed (the top
  belongs to another user, or to the trash, or ties run past k), k grows, up to the window.

What windows cannot remove: bm25 weighs each term by how rare it is in the whole index, and
FTS5 counts that once per search by running each term over every row. For a word it is a walk
of its posting list (10 ms for one in five of a million messages); for a phrase it checks the
positions in every message holding both words, about 60 ms for ``"the error"`` there, most of
such a search's time.

A search within one chat starts from the chat's messages and looks each one up in the index:
exact, at a cost that grows with the chat rather than with the database.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Uuid, bindparam, text
from sqlmodel import Session

from synergia_tui.core.search_query import Term, fts5_match
from synergia_tui.models.search import MARK_END, MARK_START
from synergia_tui.models.types import UTCDateTime
from synergia_tui.repositories.search_hits import SNIPPET_WORDS, WINDOW_MATCHES, Candidate, best

_MAX_ROWID = 2**63 - 1
_MIN_ROWID = -(2**63)
FIRST_K = 64
"""Rows FTS5 hands over first (at least twice what the page needs)."""

_CUT = """
SELECT rowid FROM {fts} WHERE {fts} MATCH :match AND rowid <= :hi
ORDER BY rowid DESC LIMIT 1 OFFSET :n
"""
_TOP = """
SELECT t.rowid AS rowid, t.rank AS rank, {columns}
FROM (SELECT rowid, rank FROM {fts} WHERE {fts} MATCH :match AND rowid BETWEEN :lo AND :hi
      ORDER BY rank LIMIT :k) AS t
{joins}
"""
_MESSAGE_COLUMNS = """m.id AS message_id, m.chat_id AS chat_id, m.role AS role,
       m.created_at AS created_at, c.title AS chat_title,
       (c.user_id = :user AND c.is_deleted = 0 AND m.is_deleted = 0) AS visible"""
_TITLE_COLUMNS = """NULL AS message_id, c.id AS chat_id, NULL AS role,
       c.updated_at AS created_at, c.title AS chat_title,
       (c.user_id = :user AND c.is_deleted = 0) AS visible"""
_MESSAGE_JOINS = """CROSS JOIN messages m ON m.rowid = t.rowid
CROSS JOIN chats c ON c.id = m.chat_id"""
_TITLE_JOINS = "CROSS JOIN chats c ON c.rowid = t.rowid"

# CROSS JOIN fixes the order: the chat, its messages, then the index for each.
_IN_CHAT_MESSAGES = f"""
SELECT m.rowid AS rowid, bm25(messages_fts) AS rank, {_MESSAGE_COLUMNS}
FROM chats c CROSS JOIN messages m ON m.chat_id = c.id
CROSS JOIN messages_fts ON messages_fts.rowid = m.rowid
WHERE c.id = :chat AND messages_fts MATCH :match
"""
_IN_CHAT_TITLE = f"""
SELECT c.rowid AS rowid, bm25(chats_fts) AS rank, {_TITLE_COLUMNS}
FROM chats c CROSS JOIN chats_fts ON chats_fts.rowid = c.rowid
WHERE c.id = :chat AND chats_fts MATCH :match
"""
# ``+rowid`` is not offered to FTS5 (it would run the whole query once per rowid); the range
# keeps the walk to the page's stretch of the posting list.
_SNIPPETS = f"""
SELECT rowid, snippet({{fts}}, 0, :start, :end, '…', {SNIPPET_WORDS}) AS snippet
FROM {{fts}} WHERE {{fts}} MATCH :match AND rowid BETWEEN :lo AND :hi AND +rowid IN :rowids
"""


class SQLiteSearch:
    """One search, on SQLite."""

    def __init__(
        self, session: Session, user_id: str, terms: list[Term], chat_id: uuid.UUID | None
    ) -> None:
        self.session = session
        self.user_id = user_id
        self.match = fts5_match(terms)
        self.chat_id = chat_id

    def message_hits(self, need: int) -> list[Candidate]:
        if self.chat_id is not None:
            return self._in_chat(_IN_CHAT_MESSAGES, "m", need)
        top = _TOP.format(fts="messages_fts", columns=_MESSAGE_COLUMNS, joins=_MESSAGE_JOINS)
        return self._windows("messages_fts", top, "m", need)

    def title_hits(self, need: int) -> list[Candidate]:
        if self.chat_id is not None:
            return self._in_chat(_IN_CHAT_TITLE, "c", need)
        top = _TOP.format(fts="chats_fts", columns=_TITLE_COLUMNS, joins=_TITLE_JOINS)
        return self._windows("chats_fts", top, "c", need)

    def snippets(self, hits: list[Candidate]) -> dict[tuple[str, object], str]:
        out: dict[tuple[str, object], str] = {}
        for kind, fts in (("m", "messages_fts"), ("c", "chats_fts")):
            rowids = [h.key[1] for h in hits if h.key[0] == kind]
            if not rowids:
                continue
            statement = text(_SNIPPETS.format(fts=fts)).bindparams(
                bindparam("rowids", expanding=True)
            )
            rows = self.session.execute(
                statement,
                {
                    "match": self.match,
                    "start": MARK_START,
                    "end": MARK_END,
                    "lo": min(rowids),  # type: ignore[type-var]
                    "hi": max(rowids),  # type: ignore[type-var]
                    "rowids": rowids,
                },
            )
            out.update(((kind, row.rowid), row.snippet) for row in rows)
        return out

    # -- internals --------------------------------------------------------------------------

    def _windows(self, fts: str, top: str, kind: str, need: int) -> list[Candidate]:
        hits: list[Candidate] = []
        hi, window = _MAX_ROWID, 0
        cut_sql = text(_CUT.format(fts=fts))
        while len(hits) < need:
            cut = self.session.execute(
                cut_sql, {"match": self.match, "hi": hi, "n": WINDOW_MATCHES - 1}
            ).scalar()
            lo = _MIN_ROWID if cut is None else cut
            hits += self._top(top, kind, window, lo, hi, need - len(hits))
            if cut is None:
                break
            hi, window = cut - 1, window + 1
        return hits

    def _top(
        self, top: str, kind: str, window: int, lo: int, hi: int, need: int
    ) -> list[Candidate]:
        """The ``need`` best visible hits of one window (fewer when it has fewer)."""
        k = max(2 * need, FIRST_K)
        while True:
            rows = self._rows(top, lo=lo, hi=hi, k=k)
            if len(rows) < k:  # every match of the window is here
                sure = [r for r in rows if r.visible]
            else:
                kth = max(r.rank for r in rows)
                sure = [r for r in rows if r.visible and r.rank < kth]
                if len(sure) < need:
                    k *= 4
                    continue
            return best([_candidate(r, kind, window) for r in sure], need)

    def _in_chat(self, sql: str, kind: str, need: int) -> list[Candidate]:
        rows = self._rows(sql, chat=self.chat_id)
        return best([_candidate(r, kind, 0) for r in rows if r.visible], need)

    def _rows(self, sql: str, **params: Any) -> list[Any]:
        clause = text(sql)
        if "chat" in params:
            clause = clause.bindparams(bindparam("chat", type_=Uuid))
        statement = clause.columns(message_id=Uuid, chat_id=Uuid, created_at=UTCDateTime)
        return list(
            self.session.execute(statement, {"match": self.match, "user": self.user_id, **params})
        )


def _candidate(row: Any, kind: str, window: int) -> Candidate:
    return Candidate(
        window=window,
        rank=row.rank,
        created_at=row.created_at,
        chat_id=row.chat_id,
        message_id=row.message_id,
        role=row.role,
        chat_title=row.chat_title,
        key=(kind, row.rowid),
    )
