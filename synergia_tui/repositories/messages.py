"""Queries over ``messages``."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Uuid, and_, func, literal, or_, text, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from synergia_tui.core.pages import MessageCursor
from synergia_tui.models import Message
from synergia_tui.models.message import ON_PATH, STILL_STREAMING
from synergia_tui.repositories.ids import id_digits

_ON_PATH = text(ON_PATH)  # the partial index's rows: the chats' current paths


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
        """Up to ``limit`` messages of a chat's path, newest first, older than ``before``."""
        statement = select(Message).where(
            Message.chat_id == chat_id, _ON_PATH, col(Message.is_deleted).is_(False)
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
        """Up to ``limit`` messages of a chat's path, oldest first, newer than ``after``."""
        statement = select(Message).where(
            Message.chat_id == chat_id, _ON_PATH, col(Message.is_deleted).is_(False)
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

    def prompts_newest_first(
        self, chat_id: uuid.UUID, *, limit: int, before: MessageCursor | None = None
    ) -> list[tuple[uuid.UUID, datetime, str]]:
        """Up to ``limit`` of the chat's prompts (user messages, on any branch), newest first,
        older than ``before``, as ``(id, created_at, content)``.

        Walks ``ix_messages_chat_created`` backwards from ``before``, so each page costs the
        same however long the chat is (no offset, no count).
        """
        statement = select(Message.id, Message.created_at, Message.content).where(
            Message.chat_id == chat_id,
            Message.role == "user",
            col(Message.is_deleted).is_(False),
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
        return [(row[0], row[1], row[2]) for row in self.session.exec(statement)]

    def id_at(self, chat_id: uuid.UUID, index: int) -> uuid.UUID | None:
        """The id of the message at ``index`` on the chat's path (0: the first)."""
        statement = (
            select(Message.id)
            .where(Message.chat_id == chat_id, _ON_PATH, col(Message.is_deleted).is_(False))
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
        """How many messages the chat's path has (older than ``before``, when given)."""
        statement = (
            select(func.count())
            .select_from(Message)
            .where(Message.chat_id == chat_id, _ON_PATH, col(Message.is_deleted).is_(False))
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
        """Every live message of the chat, on its path or not, oldest first."""
        statement = (
            select(Message)
            .where(Message.chat_id == chat_id, col(Message.is_deleted).is_(False))
            .order_by(col(Message.created_at), col(Message.id))
        )
        return list(self.session.exec(statement))

    # -- the tree ------------------------------------------------------------------------------

    def leaf(self, chat_id: uuid.UUID) -> Message | None:
        """The last message of the chat's path (what a new prompt follows)."""
        rows = self.newest_first(chat_id, limit=1)
        return rows[0] if rows else None

    def siblings(
        self, chat_id: uuid.UUID, parent_ids: set[uuid.UUID | None]
    ) -> dict[uuid.UUID | None, list[uuid.UUID]]:
        """The ids of the children of each of ``parent_ids`` (None: the chat's first prompts),
        oldest first."""
        parents = {p for p in parent_ids if p is not None}
        conditions = []
        if parents:
            conditions.append(col(Message.parent_id).in_(parents))
        if None in parent_ids:
            conditions.append(col(Message.parent_id).is_(None))
        if not conditions:
            return {}
        statement = (
            select(Message.parent_id, Message.id)
            .where(Message.chat_id == chat_id, col(Message.is_deleted).is_(False))
            .where(or_(*conditions))
            .order_by(col(Message.created_at), col(Message.id))
        )
        found: dict[uuid.UUID | None, list[uuid.UUID]] = {p: [] for p in parent_ids}
        for parent_id, message_id in self.session.exec(statement):
            found.setdefault(parent_id, []).append(message_id)
        return found

    def leave_path(self, chat_id: uuid.UUID, start: MessageCursor) -> None:
        """Take ``start`` and everything after it off the chat's path."""
        statement = (
            update(Message)
            .where(col(Message.chat_id) == chat_id, _ON_PATH)
            .where(
                or_(
                    col(Message.created_at) > start.created_at,
                    and_(col(Message.created_at) == start.created_at, col(Message.id) >= start.id),
                )
            )
            .values(on_path=False)
            .execution_options(synchronize_session=False)
        )
        self.session.execute(statement)

    def branch_from(self, message_id: uuid.UUID) -> list[uuid.UUID]:
        """``message_id`` and, below it, at each fork the child chosen last (else the newest),
        down to a leaf: the path a switch to ``message_id`` shows (one recursive query)."""
        child = aliased(Message)
        down = select(literal(message_id, Uuid).label("id")).cte("down", recursive=True)
        next_child = (
            select(child.id)
            .where(child.parent_id == down.c.id, col(child.is_deleted).is_(False))
            .order_by(
                func.coalesce(child.chosen_at, child.created_at).desc(),
                col(child.created_at).desc(),
                col(child.id).desc(),
            )
            .limit(1)
            .scalar_subquery()
        )
        down = down.union_all(select(next_child.label("id")).where(down.c.id.is_not(None)))
        statement = select(down.c.id).where(down.c.id.is_not(None))
        return [row for row in self.session.exec(statement)]

    def join_path(self, message_ids: list[uuid.UUID]) -> None:
        """Put these messages on their chat's path."""
        for start in range(0, len(message_ids), 500):
            statement = (
                update(Message)
                .where(col(Message.id).in_(message_ids[start : start + 500]))
                .values(on_path=True)
                .execution_options(synchronize_session=False)
            )
            self.session.execute(statement)

    def path_to(self, message_id: uuid.UUID) -> list[Message]:
        """``message_id`` and every message above it, from the chat's first prompt down (one
        recursive query)."""
        parent = aliased(Message)
        up = (
            select(Message.id, Message.parent_id, literal(0).label("depth"))
            .where(Message.id == message_id)
            .cte("up", recursive=True)
        )
        up = up.union_all(
            select(parent.id, parent.parent_id, (up.c.depth + 1).label("depth")).where(
                parent.id == up.c.parent_id
            )
        )
        statement = select(Message).join(up, col(Message.id) == up.c.id).order_by(up.c.depth.desc())
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
