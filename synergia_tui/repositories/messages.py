"""Queries over ``messages``."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, func, or_, text, update
from sqlmodel import Session, col, select

from synergia_tui.core.pages import MessageCursor
from synergia_tui.models import Message
from synergia_tui.models.message import STILL_STREAMING
from synergia_tui.repositories.ids import id_digits


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

    def oldest_first(
        self, chat_id: uuid.UUID, *, limit: int, after: MessageCursor | None = None
    ) -> list[Message]:
        """Up to ``limit`` live messages of a chat, oldest first, newer than ``after``."""
        statement = select(Message).where(
            Message.chat_id == chat_id, col(Message.is_deleted).is_(False)
        )
        if after is not None:
            statement = statement.where(
                or_(
                    col(Message.created_at) > after.created_at,
                    and_(col(Message.created_at) == after.created_at, col(Message.id) > after.id),
                )
            )
        statement = statement.order_by(col(Message.created_at), col(Message.id)).limit(limit)
        return list(self.session.exec(statement))

    def id_at(self, chat_id: uuid.UUID, index: int) -> uuid.UUID | None:
        """The id of the chat's live message at ``index`` in reading order (0: the first)."""
        statement = (
            select(Message.id)
            .where(Message.chat_id == chat_id, col(Message.is_deleted).is_(False))
            .order_by(col(Message.created_at), col(Message.id))
            .offset(max(0, index))
            .limit(1)
        )
        return self.session.exec(statement).first()

    def ids_with_prefix(self, chat_id: uuid.UUID, prefix: str, *, limit: int) -> list[uuid.UUID]:
        """Ids of the chat's live messages whose hex digits start with ``prefix``."""
        statement = (
            select(Message.id)
            .where(Message.chat_id == chat_id, col(Message.is_deleted).is_(False))
            .where(id_digits(self.session, col(Message.id)).startswith(prefix, autoescape=True))
            .limit(limit)
        )
        return list(self.session.exec(statement))

    def count(self, chat_id: uuid.UUID, *, before: MessageCursor | None = None) -> int:
        """How many live messages the chat has (older than ``before``, when given)."""
        statement = (
            select(func.count())
            .select_from(Message)
            .where(Message.chat_id == chat_id, col(Message.is_deleted).is_(False))
        )
        if before is not None:
            statement = statement.where(
                or_(
                    col(Message.created_at) < before.created_at,
                    and_(col(Message.created_at) == before.created_at, col(Message.id) < before.id),
                )
            )
        return int(self.session.exec(statement).one())

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

    def streaming_in_chat(self, chat_id: uuid.UUID) -> list[Message]:
        """The chat's replies still ``streaming`` (live or left behind)."""
        statement = select(Message).where(text(STILL_STREAMING), Message.chat_id == chat_id)
        return list(self.session.exec(statement))

    def mark_interrupted(
        self,
        message_id: uuid.UUID,
        *,
        owner: str | None,
        error: str,
        expired_before: datetime | None,
    ) -> bool:
        """Turn one ``streaming`` reply of ``owner`` into an error, in one conditional update.

        Nothing changes unless the row is still ``streaming``, still ``owner``'s, and (when
        ``expired_before`` is given) its lease ran out before that moment: a reply that finished,
        or whose owner renewed its lease, in the meantime is left alone. Returns whether it
        changed.
        """
        owned = (
            col(Message.lease_owner).is_(None)
            if owner is None
            else col(Message.lease_owner) == owner
        )
        statement = update(Message).where(
            col(Message.id) == message_id, text(STILL_STREAMING), owned
        )
        if expired_before is not None:
            statement = statement.where(
                or_(
                    col(Message.lease_expires_at).is_(None),
                    col(Message.lease_expires_at) < expired_before,
                )
            )
        result = self.session.execute(
            statement.values(status="error", error=error).execution_options(
                synchronize_session=False
            )
        )
        return bool(getattr(result, "rowcount", 0))  # a CursorResult: an UPDATE's row count
