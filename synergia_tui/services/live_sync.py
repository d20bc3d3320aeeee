"""Live sync: another session of the same user changed their chats, so show it here.

A ``LiveSync`` watches the database on a thread of its own and calls ``on_change`` with the ids
of the chats that changed, or with None when it cannot tell which (then everything shown is read
again). It never reads rows itself: the app does, through its services, under the same rules as
any other read. ``on_state`` says whether it is watching (the status bar shows it).

- **PostgreSQL**: ``LISTEN`` on the user's own channel (``sync_channels``, migration 0010) over a
  dedicated connection; the triggers send only chat ids. Notifications sent while disconnected
  are lost, so after every reconnect ``on_change(None)``: the app reads again what it shows
  (the chat list by ``updated_at``, the open chat's newest messages).
- **SQLite**: ``PRAGMA data_version`` every ``POLL_S``, on a connection of its own; it changes
  when any other connection commits (this process's own writes included, which the app reads as
  nothing new), and costs a page read at most.

The thread blocks between checks (``select`` on the socket, or a timed wait): no busy loop.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import URL

log = logging.getLogger(__name__)

POLL_S = 0.25
"""SQLite: how often ``data_version`` is read."""
BATCH_S = 0.05
"""PostgreSQL: after a notification, how long to gather the ones right behind it (a streaming
reply saves several times a second) before telling the app once."""
RETRY_S = (0.5, 1.0, 2.0, 5.0)
"""PostgreSQL: waits between reconnection attempts (the last one repeats)."""
LISTEN_WAIT_S = 1.0
"""PostgreSQL: the longest a wait for notifications lasts, so ``stop`` is heard this soon."""

Changed = frozenset[uuid.UUID] | None


class LiveSync:
    """Watches the database for changes made by other sessions (see the module docstring)."""

    def __init__(
        self,
        url: URL,
        on_change: Callable[[Changed], object],
        on_state: Callable[[bool], object],
    ) -> None:
        self.url = url
        self.on_change = on_change
        self.on_state = on_state
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: object | None = None

    @property
    def backend(self) -> str:
        return self.url.get_backend_name()

    def start(self) -> None:
        target = self._listen if self.backend == "postgresql" else self._poll
        self._thread = threading.Thread(target=target, name="synergia-live-sync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2 * LISTEN_WAIT_S)

    # -- SQLite ------------------------------------------------------------------------------

    def _poll(self) -> None:
        path = self.url.database or ""
        try:
            # Read-only, by a URI (percent-encoded: a path may hold spaces, # or ?).
            uri = Path(path).resolve().as_uri() + "?mode=ro"
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        except sqlite3.Error:
            log.warning("live sync: cannot open %s", path, exc_info=True)
            self.on_state(False)
            return
        last: int | None = None
        up = False
        try:
            while not self._stop.is_set():
                try:
                    (version,) = conn.execute("PRAGMA data_version").fetchone()
                except sqlite3.Error:
                    if up:
                        up = False
                        self.on_state(False)
                    self._stop.wait(1.0)
                    continue
                if not up:
                    up = True
                    self.on_state(True)
                if last is not None and version != last:
                    self.on_change(None)
                last = version
                self._stop.wait(POLL_S)
        finally:
            conn.close()

    # -- PostgreSQL --------------------------------------------------------------------------

    def _conninfo(self) -> str:
        from psycopg.conninfo import make_conninfo

        url = self.url
        parts = {
            "host": url.host,
            "port": url.port,
            "dbname": url.database,
            "user": url.username,
            "password": url.password,
            "connect_timeout": 5,
            "application_name": "synergia live sync",
        }
        return make_conninfo(**{k: str(v) for k, v in parts.items() if v is not None})

    def _listen(self) -> None:
        import psycopg
        from psycopg import sql

        attempt = 0
        ever = False
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo(), autocommit=True) as conn:
                    channel = self._channel(conn)
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    attempt = 0
                    self.on_state(True)
                    if ever:
                        self.on_change(None)  # what was sent while away is lost: catch up
                    ever = True
                    self._receive(conn)
            except psycopg.Error as exc:
                log.info("live sync: %s", str(exc).splitlines()[0] if str(exc) else exc)
                self.on_state(False)
                self._stop.wait(RETRY_S[min(attempt, len(RETRY_S) - 1)])
                attempt += 1
            except Exception:  # noqa: BLE001 - the app must keep running without sync
                log.exception("live sync stopped")
                self.on_state(False)
                return

    @staticmethod
    def _channel(conn: object) -> str:
        """This user's channel, made the first time they listen."""
        execute = conn.execute  # type: ignore[attr-defined]
        execute("INSERT INTO sync_channels DEFAULT VALUES ON CONFLICT (user_id) DO NOTHING")
        row = execute("SELECT channel FROM sync_channels WHERE user_id = current_user").fetchone()
        return str(row[0])

    def _receive(self, conn: object) -> None:
        notifies = conn.notifies  # type: ignore[attr-defined]
        while not self._stop.is_set():
            changed: set[uuid.UUID] = set()
            for note in notifies(timeout=LISTEN_WAIT_S, stop_after=1):
                changed.add(_chat_id(note.payload))
            if not changed:
                continue
            for note in notifies(timeout=BATCH_S):
                changed.add(_chat_id(note.payload))
            changed.discard(_NIL)
            if changed:
                self.on_change(frozenset(changed))


_NIL = uuid.UUID(int=0)


def _chat_id(payload: str) -> uuid.UUID:
    try:
        return uuid.UUID(payload)
    except ValueError:
        return _NIL
