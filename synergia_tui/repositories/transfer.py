"""Queries for bulk export and import: which chats and messages exist, and storing many rows."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlmodel import Session, SQLModel, col, select

from synergia_tui.models import Chat, Message

_CHUNK = 500  # ids per IN (...) list: well under every backend's limit on bound parameters


def _chunks(ids: Iterable[uuid.UUID]) -> Iterable[list[uuid.UUID]]:
    batch: list[uuid.UUID] = []
    for value in ids:
        batch.append(value)
        if len(batch) == _CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


class TransferRepository:
    """Looks up what an import would duplicate and adds rows in the order given."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def live_chat_ids(self, user_id: str) -> list[uuid.UUID]:
        """The user's live chats, oldest first (the order an export of everything lists them)."""
        statement = (
            select(Chat.id)
            .where(Chat.user_id == user_id, col(Chat.is_deleted).is_(False))
            .order_by(col(Chat.created_at), col(Chat.id))
        )
        return list(self.session.exec(statement))

    def chat_owners(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
        """The owner of each of ``ids`` that is stored (deleted or not)."""
        owners: dict[uuid.UUID, str] = {}
        for batch in _chunks(ids):
            statement = select(Chat.id, Chat.user_id).where(col(Chat.id).in_(batch))
            owners.update({row[0]: row[1] for row in self.session.exec(statement)})
        return owners

    def message_chats(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
        """The chat of each of ``ids`` that is stored."""
        found: dict[uuid.UUID, uuid.UUID] = {}
        for batch in _chunks(ids):
            statement = select(Message.id, Message.chat_id).where(col(Message.id).in_(batch))
            found.update({row[0]: row[1] for row in self.session.exec(statement)})
        return found

    def add_in_order(self, rows: Sequence[SQLModel]) -> None:
        """Insert ``rows`` in this order (parents before the messages that follow them)."""
        # The ORM inserts the rows of one table in the order they were added, and the messages'
        # parent links are plain foreign keys it does not sort by: the caller orders them.
        self.session.add_all(rows)
        self.session.flush()
