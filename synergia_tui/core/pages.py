"""Where a page of rows starts: keyset cursors, plain values any layer can hold."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class MessageCursor:
    """A message's place in its chat's order, ``(created_at, id)``: pages start before or after
    it (keyset pagination)."""

    created_at: datetime
    id: uuid.UUID
