"""A search result: a message (or a chat's title) that matched, with a snippet."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import SQLModel

MARK_START, MARK_END = "\x02", "\x03"
"""Around each matched word in ``SearchHit.snippet``: control characters, which no stored text
shows as such (they are made visible on screen), so a match is never confused with the text."""


class SearchHit(SQLModel):
    model_config = {"frozen": True}  # typed as SQLModel's own config dict

    chat_id: uuid.UUID
    message_id: uuid.UUID | None
    """None when the chat's title matched."""
    role: str | None
    created_at: datetime
    """The message's time (a title: the chat's last change)."""
    chat_title: str
    snippet: str
    """The matching text around the match, each match between ``MARK_START`` and ``MARK_END``."""
