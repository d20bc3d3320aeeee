"""Queries over ``chats``, always scoped to one user."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, func, or_
from sqlmodel import Session, col, select

from synergia_tui.models import Chat, Message
from synergia_tui.repositories.ids import id_digits


@dataclass(frozen=True, slots=True)
class ChatCursor:
    """Where the next page of the sidebar starts (keyset pagination)."""

    updated_at: datetime
    id: uuid.UUID


PURGE_BATCH = 500  # ids per DELETE: well under SQLite's and PostgreSQL's bound-parameter limits


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

    def get_deleted(self, user_id: str, chat_id: uuid.UUID) -> Chat | None:
        """The user's chat if it is in the trash."""
        statement = select(Chat).where(
            Chat.id == chat_id, Chat.user_id == user_id, col(Chat.is_deleted).is_(True)
        )
        return self.session.exec(statement).first()

    def page(
        self,
        user_id: str,
        *,
        limit: int,
        after: ChatCursor | None = None,
        title_contains: str | None = None,
        deleted: bool = False,
    ) -> list[Chat]:
        """The user's live chats (``deleted``: those in the trash), most recent activity first,
        starting after ``after``."""
        statement = select(Chat).where(Chat.user_id == user_id, col(Chat.is_deleted).is_(deleted))
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

    def titles(self, chat_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
        """The titles of these chats (live or in the trash)."""
        if not chat_ids:
            return {}
        statement = select(Chat.id, Chat.title).where(col(Chat.id).in_(chat_ids))
        return {row[0]: row[1] for row in self.session.exec(statement)}

    def count_messages(self, chat_id: uuid.UUID) -> int:
        statement = (
            select(func.count())
            .select_from(Message)
            .where(Message.chat_id == chat_id, col(Message.is_deleted).is_(False))
        )
        return int(self.session.exec(statement).one())

    def ids_with_prefix(
        self, user_id: str, prefix: str, *, limit: int, deleted: bool = False
    ) -> list[uuid.UUID]:
        """Ids of the user's live chats (``deleted``: those in the trash) whose hex digits start
        with ``prefix`` (lower-case hex)."""
        digits = id_digits(self.session, col(Chat.id))
        statement = (
            select(Chat.id)
            .where(Chat.user_id == user_id, col(Chat.is_deleted).is_(deleted))
            .where(digits.startswith(prefix, autoescape=True))
            .limit(limit)
        )
        return list(self.session.exec(statement))

    def lock_trash(
        self,
        user_id: str,
        *,
        chat_id: uuid.UUID | None = None,
        deleted_before: datetime | None = None,
    ) -> list[uuid.UUID]:
        """Ids of the user's chats in the trash (only ``chat_id``; only those deleted before
        ``deleted_before``), their rows locked until the commit so none is restored meanwhile (a
        no-op on SQLite, where a writing transaction holds the whole database)."""
        statement = select(Chat.id).where(Chat.user_id == user_id, col(Chat.is_deleted).is_(True))
        if chat_id is not None:
            statement = statement.where(Chat.id == chat_id)
        if deleted_before is not None:
            statement = statement.where(col(Chat.updated_at) < deleted_before)
        return list(self.session.exec(statement.with_for_update()))

    def purge(self, user_id: str, chat_ids: list[uuid.UUID]) -> int:
        """Delete these chats of the user's trash and all their messages, for good; the number of
        chats deleted. Each batch of messages goes in one statement, so the parent links between
        them are checked once it ends and their order does not matter."""
        purged = 0
        for start in range(0, len(chat_ids), PURGE_BATCH):
            batch = chat_ids[start : start + PURGE_BATCH]
            owned = select(Chat.id).where(
                col(Chat.id).in_(batch), Chat.user_id == user_id, col(Chat.is_deleted).is_(True)
            )
            # Plain bulk deletes: no loaded row is kept in step (the unit of work ends here).
            self.session.execute(
                delete(Message)
                .where(col(Message.chat_id).in_(owned))
                .execution_options(synchronize_session=False)
            )
            result = self.session.execute(
                delete(Chat)
                .where(
                    col(Chat.id).in_(batch),
                    col(Chat.user_id) == user_id,
                    col(Chat.is_deleted).is_(True),
                )
                .execution_options(synchronize_session=False)
            )
            purged += int(result.rowcount)  # type: ignore[attr-defined]
        return purged
