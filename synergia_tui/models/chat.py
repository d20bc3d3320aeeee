"""Chats (table ``chats``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Column, Index, Text, text
from sqlmodel import Field, SQLModel

from synergia_tui.core.clock import utcnow
from synergia_tui.models.base import new_id
from synergia_tui.models.types import ExactDecimal, UTCDateTime

DEFAULT_TITLE = "New chat"


class Chat(SQLModel, table=True):
    """A conversation owned by one user; ``updated_at`` is bumped by every new message."""

    __tablename__ = "chats"
    __table_args__ = (Index("ix_chats_user_recent", "user_id", "is_deleted", "updated_at"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: str = Field(max_length=200)
    title: str = Field(default=DEFAULT_TITLE, max_length=500)
    model_id: uuid.UUID | None = Field(default=None, foreign_key="models.id")
    system_prompt: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    is_deleted: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false"))
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # What the chat's replies have used so far, kept up to date as each reply finishes: the
    # status bar reads one row, however long the chat.
    prompt_tokens: int = Field(
        default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": text("0")}
    )
    completion_tokens: int = Field(
        default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": text("0")}
    )
    cost: Decimal = Field(
        default=Decimal(0),
        sa_type=ExactDecimal(20, 12),
        sa_column_kwargs={"server_default": text("'0'")},
    )


class ChatRead(SQLModel):
    """A chat as the UI and CLI see it, with its current model's name."""

    model_config = {"frozen": True}  # typed as SQLModel's own config dict

    id: uuid.UUID
    user_id: str
    title: str
    model_id: uuid.UUID | None
    model_name: str | None = None
    system_prompt: str | None
    is_deleted: bool
    created_at: datetime
    updated_at: datetime
