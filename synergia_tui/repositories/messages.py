"""Queries over ``messages``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, text
from sqlmodel import Session, col, select

from synergia_tui.models import Message
from synergia_tui.models.message import STILL_STREAMING


@dataclass(frozen=True, slots=True)
class MessageCursor:
    """Where the next (older) page of a chat starts (keyset pagination)."""

    created_at: datetime
    id: uuid.UUID


class MessageRepository:
    """Finds and stores messages."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, message: Message) -> Message:
        self.session.add(message)
        self.session.flush()
        return message

    def get(self, message_id: uuid.UUID) -> Message | None:
        return self.session.get(Message, message_id)

    def newest_first(
        self, chat_id: uuid.UUID, *, limit: int, before: MessageCursor | None = None
    ) -> list[Message]:
        """Up to ``limit`` live messages of a chat, newest first, older than ``before``."""
        statement = select(Message).where(
            Message.chat_id == chat_id, col(Message.is_deleted).is_(False)
        )
        if before is not None:
            statement = statement.where(
                or_(
                    col(Message.created_at) < before.created_at,
                    and_(col(Message.created_at) == before.created_at, col(Message.id) < before.id),
                )
            )
        statement = statement.order_by(
            col(Message.created_at).desc(), col(Message.id).desc()
        ).limit(limit)
        return list(self.session.exec(statement))

    def all_in_order(self, chat_id: uuid.UUID) -> list[Message]:
        statement = (
            select(Message)
            .where(Message.chat_id == chat_id, col(Message.is_deleted).is_(False))
            .order_by(col(Message.created_at), col(Message.id))
        )
        return list(self.session.exec(statement))

    def streaming(self) -> list[Message]:
        """Replies left in the ``streaming`` state."""
        statement = select(Message).where(text(STILL_STREAMING))  # the partial index's rows
        return list(self.session.exec(statement))
