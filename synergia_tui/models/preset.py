"""System-prompt presets (table ``prompts``): named texts a chat's system prompt is taken from."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from synergia_tui.core.clock import utcnow
from synergia_tui.models.base import new_id
from synergia_tui.models.types import UTCDateTime

PRESET_NAME_LENGTH = 100


class Preset(SQLModel, table=True):
    """One user's named system prompt. A chat copies the text: editing or removing a preset
    never changes a chat that was started from it."""

    __tablename__ = "prompts"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: str = Field(max_length=200)
    name: str = Field(max_length=PRESET_NAME_LENGTH)
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PresetRead(SQLModel):
    """A preset as the UI and CLI see it."""

    model_config = {"frozen": True}  # typed as SQLModel's own config dict

    name: str
    text: str
    updated_at: datetime
