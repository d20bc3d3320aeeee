"""Synergia's own export document: building its data and reading it back exactly.

The document is ``{"format": "synergia", "version": 1, "chats": [...]}``; each chat has the shape
of ``synergia chats export --format json`` (``chat``, ``current_leaf``, ``messages``) plus
``usage`` (the chat's token and cost totals), so an import restores every exported field. A
single chat's export (that per-chat shape alone) is read too.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from synergia_tui.core.errors import ValidationError
from synergia_tui.services.archive import ArchivedChat, ArchivedMessage
from synergia_tui.services.reads import ChatArchive

FORMAT = "synergia"
VERSION = 1


def chat_data(archive: ChatArchive) -> dict[str, Any]:
    """One chat in the document (values still Python objects: the caller makes them JSON)."""
    export = archive.export
    return {
        "chat": export.chat.model_dump(),
        "usage": {
            "prompt_tokens": archive.usage.prompt_tokens,
            "completion_tokens": archive.usage.completion_tokens,
            "cost": archive.usage.cost,
        },
        "current_leaf": export.leaf_id,
        "messages": [m.model_dump(exclude={"sibling", "siblings"}) for m in export.messages],
    }


def document_data(archives: list[ChatArchive]) -> dict[str, Any]:
    return {"format": FORMAT, "version": VERSION, "chats": [chat_data(a) for a in archives]}


def is_synergia_document(data: object) -> bool:
    if isinstance(data, dict):
        return data.get("format") == FORMAT or ("chat" in data and "messages" in data)
    return False


class _Fields:
    """Typed reads of one JSON object; every failure names where it is."""

    def __init__(self, data: object, where: str) -> None:
        if not isinstance(data, dict):
            raise ValidationError(f"{where}: expected an object")
        self.data = data
        self.where = where

    def _get(self, key: str, kinds: tuple[type, ...], optional: bool) -> Any:
        if key not in self.data:
            if optional:
                return None
            raise ValidationError(f"{self.where}: missing {key}")
        value = self.data[key]
        if value is None and optional:
            return None
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise ValidationError(f"{self.where}: {key} has the wrong type")
        return value

    def text(self, key: str, *, optional: bool = False) -> str | None:
        value: str | None = self._get(key, (str,), optional)
        return value

    def required_text(self, key: str) -> str:
        value = self.text(key)
        assert value is not None
        return value

    def flag(self, key: str, *, default: bool = False) -> bool:
        value = self._get(key, (bool,), True)
        return default if value is None else bool(value)

    def integer(self, key: str, *, optional: bool = True) -> int | None:
        value: int | None = self._get(key, (int,), optional)
        return value

    def uid(self, key: str, *, optional: bool = False) -> uuid.UUID | None:
        value = self.text(key, optional=optional)
        if value is None:
            return None
        try:
            return uuid.UUID(value)
        except ValueError:
            raise ValidationError(f"{self.where}: {key} is not a uuid: {value[:40]!r}") from None

    def required_uid(self, key: str) -> uuid.UUID:
        value = self.uid(key)
        assert value is not None
        return value

    def time(self, key: str) -> datetime:
        value = self.required_text(key)
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValidationError(
                f"{self.where}: {key} is not a timestamp: {value[:40]!r}"
            ) from None
        if parsed.tzinfo is None:
            raise ValidationError(f"{self.where}: {key} has no time zone")
        return parsed.astimezone(UTC)

    def decimal(self, key: str, *, optional: bool = True) -> Decimal | None:
        value = self._get(key, (str, int), optional)
        if value is None:
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ValidationError(f"{self.where}: {key} is not a decimal: {value!r}") from None
        if not number.is_finite() or number < 0:
            raise ValidationError(f"{self.where}: {key} must be a decimal of at least 0")
        return number


def read_document(data: object) -> list[ArchivedChat]:
    """The chats of a Synergia document, or ValidationError naming the first problem."""
    if isinstance(data, dict) and "chats" not in data and "chat" in data:
        return [_read_chat(data, "chat 1")]
    top = _Fields(data, "document")
    version = top.integer("version")
    if version is not None and version > VERSION:
        raise ValidationError(f"document: version {version} is newer than this Synergia reads")
    chats = top.data.get("chats")
    if not isinstance(chats, list):
        raise ValidationError("document: missing chats (a list)")
    return [_read_chat(item, f"chat {n}") for n, item in enumerate(chats, start=1)]


def _read_chat(item: object, where: str) -> ArchivedChat:
    outer = _Fields(item, where)
    chat = _Fields(outer.data.get("chat"), f"{where}: chat")
    chat_id = chat.required_uid("id")
    where = f"{where} ({chat_id})"
    chat.where = where
    raw_messages = outer.data.get("messages")
    if not isinstance(raw_messages, list):
        raise ValidationError(f"{where}: missing messages (a list)")
    messages = [_read_message(m, f"{where}, message {n}") for n, m in enumerate(raw_messages, 1)]
    if "usage" in outer.data:
        usage = _Fields(outer.data["usage"], f"{where}: usage")
        prompt_tokens = usage.integer("prompt_tokens") or 0
        completion_tokens = usage.integer("completion_tokens") or 0
        cost = usage.decimal("cost") or Decimal(0)
    else:  # a single chat's export has no totals: they are its messages' sums
        prompt_tokens = sum(m.prompt_tokens or 0 for m in messages)
        completion_tokens = sum(m.completion_tokens or 0 for m in messages)
        cost = sum((m.cost or Decimal(0) for m in messages), Decimal(0))
    return ArchivedChat(
        id=chat_id,
        where=where,
        title=chat.required_text("title"),
        created_at=chat.time("created_at"),
        updated_at=chat.time("updated_at"),
        model_id=chat.uid("model_id", optional=True),
        model_name=chat.text("model_name", optional=True),
        system_prompt=chat.text("system_prompt", optional=True),
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost=cost,
        messages=messages,
    )


def _read_message(item: object, where: str) -> ArchivedMessage:
    m = _Fields(item, where)
    return ArchivedMessage(
        id=m.required_uid("id"),
        parent_id=m.uid("parent_id", optional=True),
        on_path=m.flag("on_path", default=True),
        role=m.required_text("role"),
        content=m.required_text("content"),
        created_at=m.time("created_at"),
        model_id=m.uid("model_id", optional=True),
        model_name=m.text("model_name", optional=True),
        status=m.required_text("status"),
        error=m.text("error", optional=True),
        prompt_tokens=m.integer("prompt_tokens"),
        completion_tokens=m.integer("completion_tokens"),
        cost=m.decimal("cost"),
        tokens_estimated=m.flag("tokens_estimated"),
        finish_reason=m.text("finish_reason", optional=True),
        is_deleted=m.flag("is_deleted"),
    )
