"""How healthy the app and its database are."""

from __future__ import annotations

import sqlite3
import threading
import time

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from synergia_tui.core.clock import utcnow
from synergia_tui.core.errors import explain_database_error
from synergia_tui.core.migrations import schema_state
from synergia_tui.services.reads import DatabaseHealth, HealthReport
from synergia_tui.services.unit_of_work import Database, describe_database_error

INTEGRITY_TIMEOUT_S = 2.0
# The status bar asks for health every few seconds; reading the whole file that often would cost
# the machine more than it tells. A fresh process (`synergia health`) always checks.
INTEGRITY_EVERY_S = 600.0
# How many SQLite VM instructions run between two looks at the clock during the check.
_PROGRESS_STEPS = 1000


class HealthService:
    """Checks the database: reachable, how fast, at which schema revision, and (SQLite) intact."""

    def __init__(
        self,
        db: Database,
        *,
        version: str,
        display_url: str,
        integrity_timeout_s: float = INTEGRITY_TIMEOUT_S,
    ) -> None:
        self.db = db
        self.version = version
        self.display_url = display_url
        self.integrity_timeout_s = integrity_timeout_s
        self._started = time.monotonic()
        self._last_integrity: tuple[float, str, str | None] | None = None

    def check(self) -> HealthReport:
        """Healthy: reachable, intact and at head. Degraded: schema not at head. Else unhealthy."""
        problems: list[str] = []
        damage: str | None = None
        integrity: str | None = None
        start = time.perf_counter()
        try:
            with self.db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
                latency = (time.perf_counter() - start) * 1000
                if self.db.backend == "sqlite":
                    integrity, damage = self._integrity(connection)
            state = schema_state(self.db.engine)
        except SQLAlchemyError as exc:
            # Worded as every command words it, with the settings that fix it.
            reason = explain_database_error(exc, self.db.engine.url)
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
        if damage is not None:
            problems.append(f"the database file is damaged: {damage}")
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
            integrity=integrity,
        )
        status = "unhealthy" if damage is not None else "degraded" if problems else "healthy"
        return self._report(status, database, problems)

    def _integrity(self, connection: Connection) -> tuple[str, str | None]:
        """The last ``quick_check`` verdict, run again when it is older than INTEGRITY_EVERY_S."""
        now = time.monotonic()
        if self._last_integrity is None or now - self._last_integrity[0] > INTEGRITY_EVERY_S:
            self._last_integrity = (now, *self._quick_check(connection))
        return self._last_integrity[1], self._last_integrity[2]

    def _quick_check(self, connection: Connection) -> tuple[str, str | None]:
        """Run ``PRAGMA quick_check`` within the time limit: (integrity, reason of the damage)."""
        raw = connection.connection.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        deadline = time.monotonic() + self.integrity_timeout_s
        # The progress handler stops the row-by-row part of the check; the b-tree walk is one
        # long VM instruction on older SQLite, which only interrupt() stops, hence the timer.
        raw.set_progress_handler(lambda: int(time.monotonic() > deadline), _PROGRESS_STEPS)
        timer = threading.Timer(self.integrity_timeout_s, raw.interrupt)
        timer.daemon = True
        timer.start()
        try:
            rows = [str(row[0]) for row in raw.execute("PRAGMA quick_check(10)").fetchall()]
        except sqlite3.DatabaseError as exc:
            if "interrupt" in str(exc).lower():
                return "incomplete", None
            return "damaged", describe_database_error(exc)
        finally:
            timer.cancel()
            timer.join()
            raw.set_progress_handler(None, 0)
        if rows == ["ok"]:
            return "ok", None
        more = f" (and {len(rows) - 1} more)" if len(rows) > 1 else ""
        first = rows[0].splitlines()[0] if rows and rows[0] else "no answer"
        return "damaged", first[:300] + more

    def _report(self, status: str, database: DatabaseHealth, problems: list[str]) -> HealthReport:
        return HealthReport(
            status=status,
            timestamp=utcnow(),
            version=self.version,
            uptime_s=round(time.monotonic() - self._started, 3),
            database=database,
            problems=problems,
        )
