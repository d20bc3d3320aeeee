"""Finding rows by the first hex digits of their id, alike on both backends."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, func
from sqlmodel import Session


def id_digits(session: Session, column: Any) -> Any:
    """``column`` (a UUID) as its 32 lower-case hex digits, to compare with a prefix."""
    if session.get_bind().dialect.name == "postgresql":
        return func.replace(func.cast(column, String), "-", "")
    return func.lower(func.cast(column, String))  # SQLite stores them as 32 hex digits
