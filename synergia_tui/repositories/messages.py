"""Queries over ``messages``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, func, or_, text
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

    def usage(self, chat_id: uuid.UUID) -> tuple[int, int, Decimal]:
        """Prompt tokens, completion tokens and the total cost of a chat's live messages."""
        statement = select(
            func.coalesce(func.sum(Message.prompt_tokens), 0),
            func.coalesce(func.sum(Message.completion_tokens), 0),
        ).where(Message.chat_id == chat_id, col(Message.is_deleted).is_(False))
        prompt, completion = self.session.exec(statement).one()
        # Costs are summed in Python: SQLite stores them as text to keep them exact.
        costs = select(Message.cost).where(
            Message.chat_id == chat_id,
            col(Message.is_deleted).is_(False),
            col(Message.cost).is_not(None),
        )
        # In batches: a chat of thousands of replies never holds all its costs at once.
        rows = self.session.exec(costs.execution_options(yield_per=500))
        return int(prompt), int(completion), sum((c for c in rows if c is not None), Decimal(0))

    def streaming(self) -> list[Message]:
        """Replies left in the ``streaming`` state."""
        statement = select(Message).where(text(STILL_STREAMING))  # the partial index's rows
        return list(self.session.exec(statement))
