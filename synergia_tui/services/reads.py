"""Plain read objects that services return besides the models' own read schemas."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from synergia_tui.models import ChatRead, MessageRead
from synergia_tui.repositories import ChatCursor, MessageCursor


@dataclass(frozen=True, slots=True)
class ChatPage:
    """One page of the sidebar and where the next one starts (None when this is the last)."""

    chats: list[ChatRead]
    next_cursor: ChatCursor | None


@dataclass(frozen=True, slots=True)
class MessagePage:
    """Messages in reading order (oldest first), and where the older and the newer ones start
    (None: none that way). ``first_index`` is the first message's place in the chat (0 for the
    chat's first) and ``total`` the chat's number of messages, when the query counted them."""

    messages: list[MessageRead]
    older_cursor: MessageCursor | None
    newer_cursor: MessageCursor | None = None
    first_index: int | None = None
    total: int | None = None


@dataclass(frozen=True, slots=True)
class PromptPage:
    """Earlier prompts of a chat, newest first (a prompt sent twice in a row shows once), and
    where the older ones start (None: these are the oldest)."""

    prompts: list[str]
    older_cursor: MessageCursor | None


@dataclass(frozen=True, slots=True)
class ChatUsage:
    """Tokens and cost of a chat so far."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class ChatExport:
    """A chat and all its messages (every branch), oldest first, for export."""

    chat: ChatRead
    messages: list[MessageRead]

    @property
    def path(self) -> list[MessageRead]:
        """The messages of the chat's current path, in order (what the chat shows and sends)."""
        return [m for m in self.messages if m.on_path]

    @property
    def leaf_id(self) -> uuid.UUID | None:
        """The last message of the current path."""
        path = self.path
        return path[-1].id if path else None


@dataclass(frozen=True, slots=True)
class DatabaseHealth:
    """How the database answered the last health check."""

    backend: str
    url: str
    reachable: bool
    latency_ms: float | None
    revision: str | None
    head: str | None
    error: str | None = None
    integrity: str | None = None
    """SQLite's ``quick_check``: ``ok``, ``damaged`` or ``incomplete`` (stopped at its time
    limit); None where it does not apply (PostgreSQL, or the database did not answer)."""


@dataclass(frozen=True, slots=True)
class HealthReport:
    """The app's health, as ``synergia health`` and the status bar show it."""

    status: str  # healthy | degraded | unhealthy
    timestamp: datetime
    version: str
    uptime_s: float
    database: DatabaseHealth
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return self.status == "healthy"


@dataclass(frozen=True, slots=True)
class ChatArchive:
    """A chat's export with its token and cost totals, for ``synergia export``."""

    export: ChatExport
    usage: ChatUsage
