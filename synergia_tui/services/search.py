"""Search over everything a user said and was told: messages and chat titles, ranked."""

from __future__ import annotations

import uuid

from synergia_tui.core.errors import NotFoundError, ValidationError
from synergia_tui.core.pages import MessageCursor
from synergia_tui.core.search_query import Term, parse
from synergia_tui.models.search import SearchHit
from synergia_tui.services.chats import find_chat
from synergia_tui.services.unit_of_work import Database

MAX_QUERY_CHARS = 1_000
MAX_HITS = 200


def _terms(query: str) -> list[Term]:
    if len(query) > MAX_QUERY_CHARS:
        raise ValidationError(f"A search is at most {MAX_QUERY_CHARS:,} characters")
    terms = parse(query)
    if not terms:
        raise ValidationError("Nothing to search for: give a word")
    return terms


class SearchService:
    """Full-text search over one user's chats (never another user's, never deleted ones)."""

    def __init__(self, db: Database, user_id: str) -> None:
        self.db = db
        self.user_id = user_id

    def search(
        self,
        query: str,
        *,
        chat_id: uuid.UUID | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> list[SearchHit]:
        """The best matches of ``query`` (words ANDed, ``"a phrase"``, ``prefix*``), best
        first and newest first among equals; ``limit`` of them after the first ``offset``."""
        terms = _terms(query)
        if not 1 <= limit <= MAX_HITS:
            raise ValidationError(f"A page of results holds 1 to {MAX_HITS} hits")
        with self.db.unit_of_work() as uow:
            if chat_id is not None:
                find_chat(uow, self.user_id, chat_id)
            return uow.search.search(
                self.user_id, terms, chat_id=chat_id, limit=limit, offset=max(0, offset)
            )

    def next_match(
        self,
        query: str,
        chat_id: uuid.UUID,
        *,
        start: uuid.UUID | None = None,
        direction: int = 1,
        inclusive: bool = False,
    ) -> uuid.UUID | None:
        """The next message (``direction`` 1, reading down) or previous one (-1) on the chat's
        path after message ``start`` that matches ``query`` (from the chat's first or newest
        message when ``start`` is None; with ``inclusive``, ``start`` itself counts); None when
        there is none that way (``n``/``N``)."""
        terms = _terms(query)
        with self.db.unit_of_work() as uow:
            find_chat(uow, self.user_id, chat_id)
            cursor = None
            if start is not None:
                message = uow.messages.get(start)
                if message is None or message.chat_id != chat_id:
                    raise NotFoundError(f"Message {start} is not in this chat")
                cursor = MessageCursor(message.created_at, message.id)
            return uow.search.next_on_path(
                chat_id, terms, start=cursor, direction=direction, inclusive=inclusive
            )
