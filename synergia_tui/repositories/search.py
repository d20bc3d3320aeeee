"""Full-text search over one user's messages and chat titles: each backend finds and ranks the
hits (``search_sqlite``, ``search_postgres``; how they rank is in ``search_hits``), this puts
the page together."""

from __future__ import annotations

import uuid

from sqlmodel import Session

from synergia_tui.core.search_query import Term
from synergia_tui.models.search import SearchHit
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
