"""Business rules for chats; every call is scoped to one user."""

from __future__ import annotations

import uuid
from datetime import timedelta

from synergia_tui.core.clock import utcnow
from synergia_tui.core.errors import NotFoundError, ValidationError
from synergia_tui.core.ids import id_prefix
from synergia_tui.models import DEFAULT_TITLE, Chat, ChatRead, Message, MessageRead
from synergia_tui.repositories import ChatCursor
from synergia_tui.services.reads import ChatExport, ChatPage, ChatUsage
from synergia_tui.services.unit_of_work import Database, UnitOfWork
from synergia_tui.services.validation import single_line, storable_text

PAGE_SIZE = 50
MAX_PAGE = 500
TITLE_LENGTH = 80


def read_chat(row: Chat, model_name: str | None) -> ChatRead:
    return ChatRead.model_validate({**row.model_dump(), "model_name": model_name})


def read_message(
    row: Message, model_name: str | None, siblings: list[uuid.UUID] | None = None
) -> MessageRead:
    """``row`` as the UI and CLI see it; ``siblings``: the ids of its turn's versions, in order."""
    place = siblings.index(row.id) + 1 if siblings and row.id in siblings else 1
    count = max(len(siblings), place) if siblings else 1
    return MessageRead.model_validate(
        {**row.model_dump(), "model_name": model_name, "sibling": place, "siblings": count}
    )


def read_messages(
    uow: UnitOfWork, rows: list[Message], names: dict[uuid.UUID, str] | None = None
) -> list[MessageRead]:
    """Messages of one chat as read objects, each with its place among its siblings (one query
    for them all); ``names``: model names by id (looked up when not given)."""
    if not rows:
        return []
    if names is None:
        names = uow.models.names_by_id({r.model_id for r in rows if r.model_id})
    siblings = uow.messages.siblings(rows[0].chat_id, {r.parent_id for r in rows})
    return [
        read_message(r, names.get(r.model_id) if r.model_id else None, siblings.get(r.parent_id))
        for r in rows
    ]


def title_from_prompt(prompt: str) -> str:
    """A chat's title: the first line of its first prompt, shortened, on one line."""
    first = next((line.strip() for line in prompt.splitlines() if line.strip()), "")
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in first).split())
    if len(text) > TITLE_LENGTH:
        text = text[: TITLE_LENGTH - 1].rstrip() + "…"
    return text or DEFAULT_TITLE


def find_chat(
    uow: UnitOfWork, user_id: str, chat_id: uuid.UUID, *, for_update: bool = False
) -> Chat:
    """The user's live chat, or NotFoundError (another user's chat is "not found" too)."""
    chat = uow.chats.get_live(user_id, chat_id, for_update=for_update)
    if chat is None:
        raise NotFoundError(f"Chat {chat_id} not found")
    return chat


class ChatService:
    """Lists, creates, renames and deletes one user's chats."""

    def __init__(self, db: Database, user_id: str) -> None:
        self.db = db
        self.user_id = user_id

    def list_chats(
        self, *, limit: int = PAGE_SIZE, after: ChatCursor | None = None, query: str | None = None
    ) -> ChatPage:
        """A page of chats, most recent activity first; ``query`` filters titles in the database."""
        limit = max(1, min(limit, MAX_PAGE))
        query = (query or "").strip() or None
        if query is not None:
            # Checked here so both backends answer alike (PostgreSQL and the SQLite driver would
            # each fail in their own way on a NUL or an unpaired surrogate).
            storable_text(query, "Filter")
        with self.db.unit_of_work() as uow:
            rows = uow.chats.page(self.user_id, limit=limit + 1, after=after, title_contains=query)
            more = len(rows) > limit
            rows = rows[:limit]
            names = uow.models.names_by_id({r.model_id for r in rows if r.model_id})
            chats = [read_chat(r, names.get(r.model_id) if r.model_id else None) for r in rows]
        cursor = ChatCursor(rows[-1].updated_at, rows[-1].id) if more and rows else None
        return ChatPage(chats=chats, next_cursor=cursor)

    def create_chat(
        self,
        *,
        title: str | None = None,
        model_id: uuid.UUID | None = None,
        system_prompt: str | None = None,
    ) -> ChatRead:
        """A new, empty chat; without a title it takes one from its first prompt."""
        title = single_line(title, "Title", max_length=500) if title is not None else DEFAULT_TITLE
        if system_prompt is not None:
            storable_text(system_prompt, "System prompt")
        with self.db.unit_of_work(write=True) as uow:
            model_name = None
            if model_id is not None:
                model = uow.models.get(model_id)
                if model is None or model.is_deleted or not model.is_enabled:
                    raise ValidationError("Model not available")
                model_name = model.name
            now = utcnow()
            chat = uow.chats.add(
                Chat(
                    user_id=self.user_id,
                    title=title,
                    model_id=model_id,
                    system_prompt=system_prompt or None,
                    created_at=now,
                    updated_at=now,
                )
            )
            uow.commit()
            return read_chat(chat, model_name)

    def find_chat_by_prefix(self, ref: str) -> ChatRead:
        """The chat whose id is ``ref`` or starts with it (dashes optional; at least 4 digits)."""
        digits = id_prefix(ref, "chat")
        if len(digits) == 32:
            return self.get_chat(uuid.UUID(digits))
        with self.db.unit_of_work() as uow:
            ids = uow.chats.ids_with_prefix(self.user_id, digits, limit=2)
        if not ids:
            raise NotFoundError(f"No chat id starts with {digits}")
        if len(ids) > 1:
            raise ValidationError(f"Several chats' ids start with {digits}: give more digits")
        return self.get_chat(ids[0])

    def get_chat(self, chat_id: uuid.UUID) -> ChatRead:
        with self.db.unit_of_work() as uow:
            chat = find_chat(uow, self.user_id, chat_id)
            names = uow.models.names_by_id({chat.model_id} if chat.model_id else set())
            return read_chat(chat, names.get(chat.model_id) if chat.model_id else None)

    def rename_chat(self, chat_id: uuid.UUID, title: str) -> ChatRead:
        title = single_line(title, "Title", max_length=500)
        with self.db.unit_of_work(write=True) as uow:
            chat = find_chat(uow, self.user_id, chat_id)
            chat.title = title
            uow.commit()
            names = uow.models.names_by_id({chat.model_id} if chat.model_id else set())
            return read_chat(chat, names.get(chat.model_id) if chat.model_id else None)

    def set_model(self, chat_id: uuid.UUID, model_id: uuid.UUID) -> ChatRead:
        """Switch the chat's current model; it must be enabled."""
        with self.db.unit_of_work(write=True) as uow:
            chat = find_chat(uow, self.user_id, chat_id)
            model = uow.models.get(model_id)
            if model is None or model.is_deleted or not model.is_enabled:
                raise ValidationError("Model not available")
            chat.model_id = model.id
            uow.commit()
            return read_chat(chat, model.name)

    def set_system_prompt(self, chat_id: uuid.UUID, system_prompt: str | None) -> ChatRead:
        if system_prompt:
            storable_text(system_prompt, "System prompt")
        with self.db.unit_of_work(write=True) as uow:
            chat = find_chat(uow, self.user_id, chat_id)
            chat.system_prompt = system_prompt or None
            uow.commit()
            names = uow.models.names_by_id({chat.model_id} if chat.model_id else set())
            return read_chat(chat, names.get(chat.model_id) if chat.model_id else None)

    def delete_chat(self, chat_id: uuid.UUID) -> None:
        """Move a chat to the trash; it disappears from lists, its rows stay. Its ``updated_at``
        becomes the time of deletion, which ``empty_trash(older_than=…)`` goes by."""
        with self.db.unit_of_work(write=True) as uow:
            chat = find_chat(uow, self.user_id, chat_id)
            chat.is_deleted = True
            chat.updated_at = utcnow()
            uow.commit()

    # -- trash -----------------------------------------------------------------------------

    def list_trash(
        self, *, limit: int = PAGE_SIZE, after: ChatCursor | None = None, query: str | None = None
    ) -> ChatPage:
        """A page of the user's deleted chats, most recently deleted first; ``query`` filters
        titles as in ``list_chats``."""
        limit = max(1, min(limit, MAX_PAGE))
        query = (query or "").strip() or None
        if query is not None:
            storable_text(query, "Filter")
        with self.db.unit_of_work() as uow:
            rows = uow.chats.page(
                self.user_id, limit=limit + 1, after=after, title_contains=query, deleted=True
            )
            more = len(rows) > limit
            rows = rows[:limit]
            names = uow.models.names_by_id({r.model_id for r in rows if r.model_id})
            chats = [read_chat(r, names.get(r.model_id) if r.model_id else None) for r in rows]
        cursor = ChatCursor(rows[-1].updated_at, rows[-1].id) if more and rows else None
        return ChatPage(chats=chats, next_cursor=cursor)

    def find_in_trash_by_prefix(self, ref: str) -> ChatRead:
        """The deleted chat whose id is ``ref`` or starts with it, as ``find_chat_by_prefix``."""
        digits = id_prefix(ref, "chat")
        with self.db.unit_of_work() as uow:
            ids = uow.chats.ids_with_prefix(self.user_id, digits, limit=2, deleted=True)
            if not ids:
                raise NotFoundError(f"No chat in the trash has an id starting with {digits}")
            if len(ids) > 1:
                raise ValidationError(
                    f"Several chats in the trash have ids starting with {digits}: give more digits"
                )
            chat = uow.chats.get_deleted(self.user_id, ids[0])
            if chat is None:  # purged between the two queries
                raise NotFoundError(f"No chat in the trash has an id starting with {digits}")
            names = uow.models.names_by_id({chat.model_id} if chat.model_id else set())
            return read_chat(chat, names.get(chat.model_id) if chat.model_id else None)

    def restore_chat(self, chat_id: uuid.UUID) -> ChatRead:
        """Take a chat out of the trash, as it was (its messages were never touched)."""
        with self.db.unit_of_work(write=True) as uow:
            chat = uow.chats.get_deleted(self.user_id, chat_id)
            if chat is None:
                raise NotFoundError(f"Chat {chat_id} is not in the trash")
            chat.is_deleted = False
            uow.commit()
            names = uow.models.names_by_id({chat.model_id} if chat.model_id else set())
            return read_chat(chat, names.get(chat.model_id) if chat.model_id else None)

    def purge_chat(self, chat_id: uuid.UUID) -> None:
        """Delete a chat in the trash and its messages from the database, for good."""
        with self.db.unit_of_work(write=True) as uow:
            ids = uow.chats.lock_trash(self.user_id, chat_id=chat_id)
            if not ids or uow.chats.purge(self.user_id, ids) != 1:
                raise NotFoundError(f"Chat {chat_id} is not in the trash")
            uow.commit()

    def empty_trash(self, *, older_than: timedelta | None = None) -> int:
        """Delete every chat in the trash (only those deleted more than ``older_than`` ago) and
        their messages, for good, in one transaction; how many chats went."""
        if older_than is not None and older_than < timedelta(0):
            raise ValidationError("The age must not be negative")
        with self.db.unit_of_work(write=True) as uow:
            before = utcnow() - older_than if older_than is not None else None
            ids = uow.chats.lock_trash(self.user_id, deleted_before=before)
            purged = uow.chats.purge(self.user_id, ids)
            uow.commit()
            return purged

    def usage(self, chat_id: uuid.UUID) -> ChatUsage:
        """Tokens and cost of the chat so far (exact decimals)."""
        with self.db.unit_of_work() as uow:
            chat = find_chat(uow, self.user_id, chat_id)
            return ChatUsage(chat.prompt_tokens, chat.completion_tokens, chat.cost)

    def export_chat(self, chat_id: uuid.UUID) -> ChatExport:
        """The chat with every live message, oldest first."""
        with self.db.unit_of_work() as uow:
            chat = find_chat(uow, self.user_id, chat_id)
            rows = uow.messages.all_in_order(chat_id)
            ids = {r.model_id for r in rows if r.model_id} | (
                {chat.model_id} if chat.model_id else set()
            )
            names = uow.models.names_by_id(ids)
            return ChatExport(
                chat=read_chat(chat, names.get(chat.model_id) if chat.model_id else None),
                messages=read_messages(uow, rows, names),
            )
