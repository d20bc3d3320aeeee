"""Full-text search over one user's messages and chat titles: each backend finds and ranks the
hits (``search_sqlite``, ``search_postgres``; how they rank is in ``search_hits``), this puts
the page together."""

from __future__ import annotations

import uuid

from sqlalchemy import Boolean, Uuid, bindparam, text
from sqlmodel import Session

from synergia_tui.core.pages import MessageCursor
from synergia_tui.core.search_query import Term, fts5_match, tsquery_parts
from synergia_tui.models.search import SearchHit
from synergia_tui.models.types import UTCDateTime
from synergia_tui.repositories.search_hits import best
from synergia_tui.repositories.search_postgres import PostgresSearch
from synergia_tui.repositories.search_sqlite import SQLiteSearch


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
        sqlite = self.session.get_bind().dialect.name == "sqlite"
        backend = (SQLiteSearch if sqlite else PostgresSearch)(
            self.session, user_id, terms, chat_id
        )
        need = offset + limit
        hits = best(backend.message_hits(need) + backend.title_hits(need), need)[offset:]
        snippets = backend.snippets(hits)
        return [
            SearchHit(
                chat_id=h.chat_id,
                message_id=h.message_id,
                role=h.role,
                created_at=h.created_at,
                chat_title=h.chat_title,
                snippet=snippets.get(h.key) or "",
            )
            for h in hits
        ]

    def next_on_path(
        self,
        chat_id: uuid.UUID,
        terms: list[Term],
        *,
        start: MessageCursor | None,
        direction: int,
        inclusive: bool = False,
    ) -> uuid.UUID | None:
        """The first message of the chat's path after ``start`` (``direction`` 1) or before
        it (-1) that matches ``terms`` (None: from the chat's first, or its newest, message;
        ``inclusive``: ``start`` itself counts)."""
        sqlite = self.session.get_bind().dialect.name == "sqlite"
        newer = direction > 0
        order = "" if newer else " DESC"
        if start is None:
            beyond = ""
        else:
            op = ">" if newer else "<"
            at_start = op + "=" if inclusive else op
            beyond = f"AND (m.created_at {op} :at OR (m.created_at = :at AND m.id {at_start} :id))"
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
