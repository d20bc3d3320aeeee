"""Queries over ``chats``, always scoped to one user."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from synergia_tui.models import Chat, Message
from synergia_tui.repositories.ids import id_digits


@dataclass(frozen=True, slots=True)
class ChatCursor:
    """Where the next page of the sidebar starts (keyset pagination)."""

    updated_at: datetime
    id: uuid.UUID


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class ChatRepository:
    """Finds and stores one user's chats."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, chat: Chat) -> Chat:
        self.session.add(chat)
        self.session.flush()
        return chat

    def get_live(
        self, user_id: str, chat_id: uuid.UUID, *, for_update: bool = False
    ) -> Chat | None:
        """The user's chat unless deleted; ``for_update`` locks its row until the commit (a
        no-op on SQLite, where a writing transaction already holds the whole database)."""
        statement = select(Chat).where(
            Chat.id == chat_id, Chat.user_id == user_id, col(Chat.is_deleted).is_(False)
        )
        if for_update:
            statement = statement.with_for_update()
        return self.session.exec(statement).first()

    def page(
        self,
        user_id: str,
        *,
        limit: int,
        after: ChatCursor | None = None,
        title_contains: str | None = None,
    ) -> list[Chat]:
        """The user's live chats, most recent activity first, starting after ``after``."""
        statement = select(Chat).where(Chat.user_id == user_id, col(Chat.is_deleted).is_(False))
        if title_contains:
            statement = statement.where(
                func.lower(Chat.title).like(_like_pattern(title_contains.lower()), escape="\\")
            )
        if after is not None:
            statement = statement.where(
                or_(
                    col(Chat.updated_at) < after.updated_at,
                    and_(col(Chat.updated_at) == after.updated_at, col(Chat.id) < after.id),
                )
            )
        statement = statement.order_by(col(Chat.updated_at).desc(), col(Chat.id).desc()).limit(
            limit
        )
        return list(self.session.exec(statement))

    def count_messages(self, chat_id: uuid.UUID) -> int:
        statement = (
            select(func.count())
            .select_from(Message)
            .where(Message.chat_id == chat_id, col(Message.is_deleted).is_(False))
        )
        return int(self.session.exec(statement).one())

    def ids_with_prefix(self, user_id: str, prefix: str, *, limit: int) -> list[uuid.UUID]:
        """Ids of the user's live chats whose hex digits start with ``prefix`` (lower-case hex)."""
        digits = id_digits(self.session, col(Chat.id))
        statement = (
            select(Chat.id)
            .where(Chat.user_id == user_id, col(Chat.is_deleted).is_(False))
            .where(digits.startswith(prefix, autoescape=True))
            .limit(limit)
        )
        return list(self.session.exec(statement))
