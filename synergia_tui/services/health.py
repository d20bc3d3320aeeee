"""How healthy the app and its database are."""

from __future__ import annotations

import time

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from synergia_tui.core.clock import utcnow
from synergia_tui.core.migrations import schema_state
from synergia_tui.services.reads import DatabaseHealth, HealthReport
from synergia_tui.services.unit_of_work import Database, describe_database_error


class HealthService:
    """Checks the database: reachable, how fast, and at which schema revision."""

    def __init__(self, db: Database, *, version: str, display_url: str) -> None:
        self.db = db
        self.version = version
        self.display_url = display_url
        self._started = time.monotonic()

    def check(self) -> HealthReport:
        """Healthy: reachable and at head. Degraded: reachable, schema not at head. Else unhealthy."""
        problems: list[str] = []
        start = time.perf_counter()
        try:
            with self.db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            latency = (time.perf_counter() - start) * 1000
            state = schema_state(self.db.engine)
        except SQLAlchemyError as exc:
            reason = describe_database_error(exc)
            database = DatabaseHealth(
                backend=self.db.backend,
                url=self.display_url,
                reachable=False,
                latency_ms=None,
                revision=None,
                head=None,
                error=reason,
            )
            return self._report("unhealthy", database, [f"database unreachable: {reason}"])
        if state.ahead:
            problems.append(f"schema revision {state.current} is newer than this Synergia")
        elif not state.up_to_date:
            problems.append(f"schema at {state.current or 'nothing'}, code at {state.head}")
        database = DatabaseHealth(
            backend=self.db.backend,
            url=self.display_url,
            reachable=True,
            latency_ms=round(latency, 2),
            revision=state.current,
            head=state.head,
        )
        return self._report("degraded" if problems else "healthy", database, problems)

    def _report(self, status: str, database: DatabaseHealth, problems: list[str]) -> HealthReport:
        return HealthReport(
            status=status,
            timestamp=utcnow(),
            version=self.version,
            uptime_s=round(time.monotonic() - self._started, 3),
            database=database,
            problems=problems,
        )
