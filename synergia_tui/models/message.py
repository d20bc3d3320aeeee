"""Messages (table ``messages``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Literal

from sqlalchemy import Boolean, CheckConstraint, Column, Index, Text, text
from sqlmodel import Field, SQLModel

from synergia_tui.core.clock import utcnow
from synergia_tui.models.base import new_id, partial_index
from synergia_tui.models.types import ExactDecimal, UTCDateTime

Role = Literal["system", "user", "assistant"]
Status = Literal["complete", "cut", "streaming", "cancelled", "error"]
ROLES: tuple[str, ...] = ("system", "user", "assistant")
STATUSES: tuple[str, ...] = ("complete", "cut", "streaming", "cancelled", "error")
"""``cut``: the provider stopped the reply at its output token limit (finish reason ``length``)."""
COST_TYPE = ExactDecimal(20, 12)
STILL_STREAMING = "status = 'streaming'"
"""The rows of the partial index ``ix_messages_streaming``; a query must say it in these words
(not with a bound parameter) for the databases to use that index."""
ON_PATH = "on_path"
"""The rows of the partial index ``ix_messages_path``: the messages of each chat's current path
(said in these words, like ``STILL_STREAMING``)."""


class Message(SQLModel, table=True):
    """One message of a chat; ``cost`` is fixed when the reply completes.

    A chat's messages form a tree: each has the message it answers or follows (``parent_id``;
    None for a first prompt). Regenerating a reply or editing a prompt adds a sibling, never
    overwrites. The chat shows, and sends, one path from a root to a leaf: the messages with
    ``on_path`` set (in ``created_at`` order, which along a path is the tree's order).
    """

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_chat_created", "chat_id", "created_at", "id"),
        # Only the rows still streaming: start-up finds a crash's leftovers without a scan.
        partial_index("ix_messages_streaming", "status", where=STILL_STREAMING),
        # The chat's current path, paged by keyset like the whole chat was.
        partial_index("ix_messages_path", "chat_id", "created_at", "id", where=ON_PATH),
        # A message's children (a chat's roots under parent_id NULL), oldest first.
        Index("ix_messages_children", "chat_id", "parent_id", "created_at", "id"),
        CheckConstraint("role IN ('system', 'user', 'assistant')", name="known_role"),
        CheckConstraint(
            "status IN ('complete', 'cut', 'streaming', 'cancelled', 'error')", name="known_status"
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    chat_id: uuid.UUID = Field(foreign_key="chats.id")
    parent_id: uuid.UUID | None = Field(default=None, foreign_key="messages.id")
    """The message this one follows in the tree (None: a first prompt)."""
    on_path: bool = Field(
        default=True, sa_column=Column(Boolean, nullable=False, server_default=text("true"))
    )
    """On the chat's current path: shown and sent."""
    chosen_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When the message last joined the path by a switch of branch: going back to a branch
    follows, at each fork, the child chosen last (else the newest)."""
    model_id: uuid.UUID | None = Field(default=None, foreign_key="models.id")
    role: str = Field(max_length=16)
    content: str = Field(default="", sa_column=Column(Text, nullable=False))
    status: str = Field(default="complete", max_length=16)
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost: Decimal | None = Field(default=None, sa_type=COST_TYPE)
    tokens_estimated: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false"))
    )
    """Some token counts were estimated by Synergia (the provider did not report them)."""
    finish_reason: str | None = Field(default=None, max_length=32)
    """Why the provider stopped: ``stop``, ``length`` (cut at the token limit), ``content_filter``…"""
    lease_owner: str | None = Field(default=None, max_length=200)
    """The process streaming this reply (``host/pid/start``); kept after it ends."""
    lease_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """Until when the owner's claim holds; every save renews it. Only an expired lease may be
    marked interrupted by another process."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    is_deleted: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false"))
    )


class MessageRead(SQLModel):
    """A message as the UI and CLI see it, with the name of its model (even a deleted one)."""

    model_config = {"frozen": True}  # typed as SQLModel's own config dict

    id: uuid.UUID
    chat_id: uuid.UUID
    parent_id: uuid.UUID | None = None
    on_path: bool = True
    model_id: uuid.UUID | None
    model_name: str | None = None
    sibling: int = 1
    """Its place among its siblings (the versions of this turn), from 1, oldest first."""
    siblings: int = 1
    """How many versions of this turn there are (1: never regenerated or edited)."""
    role: str
    content: str
    status: str
    error: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    cost: Decimal | None
    tokens_estimated: bool = False
    finish_reason: str | None = None
    created_at: datetime
    is_deleted: bool

    @property
    def cut_at_limit(self) -> bool:
        """The provider stopped this reply at its output token limit."""
        return self.status == "cut"
