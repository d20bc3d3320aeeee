"""Full-text search over one user's messages and chat titles (see migration 0007): FTS5 on
SQLite, ``tsvector`` on PostgreSQL. Ranked (bm25 / ts_rank), newest first on ties."""

from __future__ import annotations

import uuid

from sqlalchemy import Boolean, String, Uuid, bindparam, text
from sqlalchemy.sql.elements import TextClause
from sqlmodel import Session

from synergia_tui.core.pages import MessageCursor
from synergia_tui.core.search_query import Term, fts5_match, tsquery_parts
from synergia_tui.models.search import MARK_END, MARK_START, SearchHit
from synergia_tui.models.types import UTCDateTime

SNIPPET_WORDS = 16

_SQLITE = f"""
SELECT * FROM (
    SELECT c.id AS chat_id, NULL AS message_id, NULL AS role, c.updated_at AS created_at,
           c.title AS chat_title,
           snippet(chats_fts, 0, :start, :end, '…', {SNIPPET_WORDS}) AS snippet,
           bm25(chats_fts) AS rank
    FROM chats_fts JOIN chats c ON c.rowid = chats_fts.rowid
    WHERE chats_fts MATCH :match AND c.user_id = :user AND c.is_deleted = :no
          AND (:chat IS NULL OR c.id = :chat)
    UNION ALL
    SELECT m.chat_id, m.id, m.role, m.created_at, c.title,
           snippet(messages_fts, 0, :start, :end, '…', {SNIPPET_WORDS}),
           bm25(messages_fts)
    FROM messages_fts
    JOIN messages m ON m.rowid = messages_fts.rowid
    JOIN chats c ON c.id = m.chat_id
    WHERE messages_fts MATCH :match AND c.user_id = :user AND c.is_deleted = :no
          AND m.is_deleted = :no AND (:chat IS NULL OR c.id = :chat)
)
ORDER BY rank, created_at DESC, message_id DESC
LIMIT :limit OFFSET :offset
"""

# The snippet is drawn only for the page of hits (ts_headline reads the whole text).
_POSTGRES = """
WITH q AS (SELECT {query} AS q),
hits AS (
    SELECT c.id AS chat_id, NULL::uuid AS message_id, NULL::text AS role,
           c.updated_at AS created_at, ts_rank(c.search, q.q, 1) AS rank
    FROM chats c, q
    WHERE c.search @@ q.q AND c.user_id = :user AND c.is_deleted = :no
          AND (CAST(:chat AS uuid) IS NULL OR c.id = :chat)
    UNION ALL
    SELECT m.chat_id, m.id, m.role, m.created_at, ts_rank(m.search, q.q, 1)
    FROM messages m JOIN chats c ON c.id = m.chat_id, q
    WHERE m.search @@ q.q AND c.user_id = :user AND c.is_deleted = :no
          AND m.is_deleted = :no AND (CAST(:chat AS uuid) IS NULL OR c.id = :chat)
    ORDER BY rank DESC, created_at DESC, message_id DESC NULLS LAST
    LIMIT :limit OFFSET :offset
)
SELECT h.chat_id, h.message_id, h.role, h.created_at, c.title AS chat_title,
       ts_headline('simple', coalesce(m.content, c.title), q.q, :options) AS snippet
FROM hits h JOIN chats c ON c.id = h.chat_id LEFT JOIN messages m ON m.id = h.message_id, q
ORDER BY h.rank DESC, h.created_at DESC, h.message_id DESC NULLS LAST
"""


class SearchRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def search(
        self,
        user_id: str,
        terms: list[Term],
        *,
        chat_id: uuid.UUID | None,
        limit: int,
        offset: int,
    ) -> list[SearchHit]:
        if self.session.get_bind().dialect.name == "sqlite":
            statement = text(_SQLITE).bindparams(
                match=fts5_match(terms), start=MARK_START, end=MARK_END
            )
        else:
            statement = self._postgres(terms)
        hits = statement.bindparams(
            bindparam("chat", chat_id, type_=Uuid),
            bindparam("no", False, type_=Boolean),
            user=user_id,
            limit=limit,
            offset=offset,
        ).columns(chat_id=Uuid, message_id=Uuid, role=String, created_at=UTCDateTime)
        return [
            SearchHit(
                chat_id=row.chat_id,
                message_id=row.message_id,
                role=row.role,
                created_at=row.created_at,
                chat_title=row.chat_title,
                snippet=row.snippet or "",
            )
            for row in self.session.execute(hits)
        ]

    def _postgres(self, terms: list[Term]) -> TextClause:
        parts = tsquery_parts(terms)
        query = " && ".join(f"{function}('simple', :t{i})" for i, (function, _) in enumerate(parts))
        options = (
            f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords={SNIPPET_WORDS + 8}, "
            f"MinWords={SNIPPET_WORDS // 2}, ShortWord=0, MaxFragments=1, FragmentDelimiter=…"
        )
        return text(_POSTGRES.format(query=query)).bindparams(
            options=options, **{f"t{i}": argument for i, (_, argument) in enumerate(parts)}
        )

    def next_on_path(
        self,
        chat_id: uuid.UUID,
        terms: list[Term],
        *,
        start: MessageCursor | None,
        direction: int,
    ) -> uuid.UUID | None:
        """The first message of the chat's path after ``start`` (``direction`` 1) or before
        it (-1) that matches ``terms`` (None: from the chat's first, or its newest, message)."""
        sqlite = self.session.get_bind().dialect.name == "sqlite"
        newer = direction > 0
        order = "" if newer else " DESC"
        if start is None:
            beyond = ""
        else:
            op = ">" if newer else "<"
            beyond = f"AND (m.created_at {op} :at OR (m.created_at = :at AND m.id {op} :id))"
        if sqlite:
            sql = f"""
                SELECT m.id FROM messages m
                WHERE m.chat_id = :chat AND m.on_path = :yes AND m.is_deleted = :no {beyond}
                  AND m.rowid IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH :match)
                ORDER BY m.created_at{order}, m.id{order} LIMIT 1"""
            statement = text(sql).bindparams(match=fts5_match(terms))
        else:
            parts = tsquery_parts(terms)
            query = " && ".join(
                f"{function}('simple', :t{i})" for i, (function, _) in enumerate(parts)
            )
            sql = f"""
                SELECT m.id FROM messages m
                WHERE m.chat_id = :chat AND m.on_path = :yes AND m.is_deleted = :no {beyond}
                  AND m.search @@ ({query})
                ORDER BY m.created_at{order}, m.id{order} LIMIT 1"""
            statement = text(sql).bindparams(
                **{f"t{i}": argument for i, (_, argument) in enumerate(parts)}
            )
        statement = statement.bindparams(
            bindparam("chat", chat_id, type_=Uuid),
            bindparam("yes", True, type_=Boolean),
            bindparam("no", False, type_=Boolean),
        )
        if start is not None:
            statement = statement.bindparams(
                bindparam("at", start.created_at, type_=UTCDateTime),
                bindparam("id", start.id, type_=Uuid),
            )
        return self.session.execute(statement.columns(id=Uuid)).scalar_one_or_none()
