"""Chats as an import brings them in: plain records, checked, whatever file they came from."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from synergia_tui.core.errors import ValidationError
from synergia_tui.models import ROLES, STATUSES
from synergia_tui.services.validation import storable_text


@dataclass(frozen=True, slots=True)
class ArchivedMessage:
    """One message to import, with the name of its model (looked up or created by name)."""

    id: uuid.UUID
    parent_id: uuid.UUID | None
    on_path: bool
    role: str
    content: str
    created_at: datetime
    model_id: uuid.UUID | None = None
    model_name: str | None = None
    status: str = "complete"
    error: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost: Decimal | None = None
    tokens_estimated: bool = False
    finish_reason: str | None = None
    is_deleted: bool = False


@dataclass(frozen=True, slots=True)
class ArchivedChat:
    """One chat to import; ``where`` says where it is in the file, for error messages."""

    id: uuid.UUID
    where: str
    title: str
    created_at: datetime
    updated_at: datetime
    model_id: uuid.UUID | None = None
    model_name: str | None = None
    system_prompt: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: Decimal = Decimal(0)
    messages: list[ArchivedMessage] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import added and what it found already there."""

    chats_added: int = 0
    chats_present: int = 0
    messages_added: int = 0
    messages_present: int = 0
    models_added: list[str] = field(default_factory=list)


def check_archived_chat(chat: ArchivedChat) -> None:
    """Refuse what the database cannot hold, naming the chat and message it is in."""
    _storable(chat.title, f"{chat.where}: title")
    if not chat.title.strip() or len(chat.title) > 500:
        raise ValidationError(f"{chat.where}: the title must be 1 to 500 characters")
    if chat.system_prompt is not None:
        _storable(chat.system_prompt, f"{chat.where}: system prompt")
    ids = {m.id for m in chat.messages}
    if len(ids) != len(chat.messages):
        raise ValidationError(f"{chat.where}: a message id occurs twice")
    for message in chat.messages:
        where = f"{chat.where}, message {message.id}"
        if message.role not in ROLES:
            raise ValidationError(f"{where}: unknown role {message.role!r}")
        if message.status not in STATUSES:
            raise ValidationError(f"{where}: unknown status {message.status!r}")
        if message.parent_id is not None and message.parent_id not in ids:
            raise ValidationError(f"{where}: its parent {message.parent_id} is not in the chat")
        _storable(message.content, f"{where}: content")
        if message.error is not None:
            _storable(message.error, f"{where}: error")
        for value in (message.prompt_tokens, message.completion_tokens):
            if value is not None and value < 0:
                raise ValidationError(f"{where}: a token count is negative")


def _storable(text: str, what: str) -> None:
    try:
        storable_text(text, what)
    except ValidationError as err:
        bad = next(i for i, ch in enumerate(text) if ch == "\x00" or "\ud800" <= ch <= "\udfff")
        raise ValidationError(f"{err.message} (at character {bad + 1})") from None


def parents_first(messages: list[ArchivedMessage]) -> list[ArchivedMessage]:
    """``messages`` ordered so that each comes after its parent (stable otherwise)."""
    by_id = {m.id: m for m in messages}
    placed: set[uuid.UUID] = set()
    ordered: list[ArchivedMessage] = []
    for message in messages:
        chain: list[ArchivedMessage] = []
        seen: set[uuid.UUID] = set()
        current: ArchivedMessage | None = message
        while current is not None and current.id not in placed:
            if current.id in seen:
                raise ValidationError(f"message {current.id}: its parent links form a cycle")
            chain.append(current)
            seen.add(current.id)
            current = by_id.get(current.parent_id) if current.parent_id else None
        for item in reversed(chain):
            placed.add(item.id)
            ordered.append(item)
    return ordered
