"""What a user's messages cost, summed in the database by day, model or chat.

Only aggregates leave the database. Costs are exact decimals: NUMERIC on PostgreSQL, summed as
such; text on SQLite, summed as integers of 10⁻¹² (the column's scale), which is exact for any
message cost under 1,000 (fifteen significant digits go through a double unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from sqlalchemy import bindparam, text
from sqlmodel import Session

from synergia_tui.models.types import UTCDateTime

By = Literal["day", "model", "chat"]
SCALE = 12
"""Decimal places of ``messages.cost`` (``ExactDecimal(20, 12)``)."""


@dataclass(frozen=True, slots=True)
class UsageSum:
    key: str
    prompt_tokens: int
    completion_tokens: int
    cost: Decimal


_KEYS = {
    ("day", "sqlite"): "substr(m.created_at, 1, 10)",
    ("day", "postgresql"): "to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
    ("model", "sqlite"): "coalesce(md.name, '(no model)')",
    ("model", "postgresql"): "coalesce(md.name, '(no model)')",
    ("chat", "sqlite"): "m.chat_id",
    ("chat", "postgresql"): "m.chat_id::text",
}
_COST = {
    "sqlite": f"coalesce(sum(cast(round(cast(m.cost AS REAL) * 1e{SCALE}) AS INTEGER)), 0)",
    "postgresql": "coalesce(sum(m.cost), 0)",
}


class UsageRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def sums(
        self, user_id: str, by: By, *, since: datetime | None, before: datetime | None
    ) -> list[UsageSum]:
        """Token and cost sums of ``user_id``'s messages that have any (replies, whatever they
        ended as, in chats live or in the trash), created in [since, before), per ``by``."""
        dialect = self.session.get_bind().dialect.name
        key = _KEYS[(by, dialect)]
        where = ""
        if since is not None:
            where += " AND m.created_at >= :since"
        if before is not None:
            where += " AND m.created_at < :before"
        statement = text(
            f"SELECT {key} AS key, coalesce(sum(m.prompt_tokens), 0) AS prompt_tokens, "
            f"coalesce(sum(m.completion_tokens), 0) AS completion_tokens, {_COST[dialect]} AS cost "
            "FROM messages m JOIN chats c ON c.id = m.chat_id "
            "LEFT JOIN models md ON md.id = m.model_id "
            "WHERE c.user_id = :user AND (m.cost IS NOT NULL OR m.prompt_tokens IS NOT NULL "
            f"OR m.completion_tokens IS NOT NULL){where} "
            f"GROUP BY {key} ORDER BY {key}"
        )
        params: dict[str, object] = {"user": user_id}
        for name, value in (("since", since), ("before", before)):
            if value is not None:
                statement = statement.bindparams(bindparam(name, type_=UTCDateTime))
                params[name] = value
        rows = self.session.execute(statement, params).all()
        return [
            UsageSum(
                key=str(row.key),
                prompt_tokens=int(row.prompt_tokens),
                completion_tokens=int(row.completion_tokens),
                cost=(
                    Decimal(int(row.cost)).scaleb(-SCALE)
                    if dialect == "sqlite"
                    else Decimal(row.cost)
                ),
            )
            for row in rows
        ]
