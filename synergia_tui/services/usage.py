"""A user's spend: tokens and cost summed by day, model or chat (``synergia usage``).

A message's cost was computed from its model's prices when it was answered and stored with it,
so later price changes never rewrite it; the sums here are of those stored costs, exactly.
Days are UTC days. Reasoning tokens are not recorded yet (issue 15, item 3): they read 0.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from synergia_tui.core.errors import ValidationError
from synergia_tui.repositories.usage import By, UsageRepository, UsageSum
from synergia_tui.services.unit_of_work import Database


@dataclass(frozen=True, slots=True)
class UsageRow:
    key: str
    """The day (ISO date), the model's name, or the chat's id."""
    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int
    cost: Decimal
    title: str | None = None
    """By chat: the chat's title."""


@dataclass(frozen=True, slots=True)
class UsageReport:
    rows: list[UsageRow]
    total: UsageRow


def _row(found: UsageSum, title: str | None = None) -> UsageRow:
    return UsageRow(
        key=found.key,
        prompt_tokens=found.prompt_tokens,
        completion_tokens=found.completion_tokens,
        reasoning_tokens=0,
        cost=found.cost,
        title=title,
    )


class UsageService:
    def __init__(self, db: Database, user_id: str) -> None:
        self.db = db
        self.user_id = user_id

    def report(
        self, *, by: By = "day", since: date | None = None, until: date | None = None
    ) -> UsageReport:
        """Sums per ``by`` from ``since`` to ``until`` (UTC days, both included)."""
        if by not in ("day", "model", "chat"):
            raise ValidationError(f"usage is by day, model or chat, not {by!r}")
        if since is not None and until is not None and until < since:
            raise ValidationError(f"--until {until} is before --since {since}")
        start = datetime.combine(since, time(), UTC) if since else None
        end = datetime.combine(until + timedelta(days=1), time(), UTC) if until else None
        with self.db.unit_of_work() as uow:
            sums = UsageRepository(uow.session).sums(self.user_id, by, since=start, before=end)
            titles: dict[str, str] = {}
            if by == "chat" and sums:
                chats = uow.chats.titles([_chat_id(s.key) for s in sums])
                titles = {str(chat_id): title for chat_id, title in chats.items()}
        if by == "chat":
            rows = [_row(s, titles.get(str(_chat_id(s.key)))) for s in sums]
            rows = [
                UsageRow(str(_chat_id(r.key)), *_numbers(r), title=r.title)  # canonical ids
                for r in rows
            ]
            rows.sort(key=lambda r: (-r.cost, r.key))  # the most expensive first
        else:
            rows = [_row(s) for s in sums]
        total = UsageRow(
            key="total",
            prompt_tokens=sum(r.prompt_tokens for r in rows),
            completion_tokens=sum(r.completion_tokens for r in rows),
            reasoning_tokens=sum(r.reasoning_tokens for r in rows),
            cost=sum((r.cost for r in rows), Decimal(0)),
        )
        return UsageReport(rows=rows, total=total)


def _numbers(row: UsageRow) -> tuple[int, int, int, Decimal]:
    return row.prompt_tokens, row.completion_tokens, row.reasoning_tokens, row.cost


def _chat_id(key: str) -> uuid.UUID:
    return uuid.UUID(key)  # PostgreSQL's text form or SQLite's 32 hex digits
