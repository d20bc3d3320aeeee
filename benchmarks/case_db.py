"""Case 6: the database layer's hot paths, through the services, on SQLite and PostgreSQL.

Baseline: the same statements, hand-written, on the same database through the bare driver
connection (no ORM, no unit of work, no read objects). The ratio is what Synergia's layers cost
on top of the queries they must run anyway; calls per second are in the note.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from benchmarks import datagen
from benchmarks.databases import BENCH_USER, BenchDatabase, bench_database
from benchmarks.runner import Options, Row, compare

CASE = "6 db"


class RawQueries:
    """The hot paths as plain SQL on one driver connection."""

    def __init__(self, db: BenchDatabase) -> None:
        self.container = db.container()
        self.raw = self.container.db.engine.raw_connection()
        self.sqlite = db.backend == "sqlite"

    def close(self) -> None:
        self.raw.close()
        self.container.close()

    def _p(self, sql: str) -> str:
        return sql if self.sqlite else sql.replace("?", "%s")

    def _id(self, value: uuid.UUID) -> object:
        return value.hex if self.sqlite else value

    def _run(self, statements: list[tuple[str, tuple]], *, write: bool = False) -> list:
        cursor = self.raw.cursor()
        if self.sqlite:
            cursor.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        results = []
        for sql, params in statements:
            cursor.execute(self._p(sql), params)
            results.append(cursor.fetchall() if cursor.description else None)
        self.raw.commit() if not self.sqlite else cursor.execute("COMMIT")
        cursor.close()
        return results

    def list_chats(self) -> None:
        rows = self._run(
            [
                (
                    "SELECT id, user_id, title, model_id, system_prompt, is_deleted, created_at,"
                    " updated_at FROM chats WHERE user_id = ? AND is_deleted = false"
                    " ORDER BY updated_at DESC, id DESC LIMIT 51",
                    (BENCH_USER,),
                )
            ]
        )[0]
        model_ids = tuple({r[3] for r in rows if r[3] is not None})
        if model_ids:
            marks = ", ".join("?" * len(model_ids))
            self._run([(f"SELECT id, name FROM models WHERE id IN ({marks})", model_ids)])

    def message_page(self, chat_id: uuid.UUID) -> None:
        cid = self._id(chat_id)
        rows = self._run(
            [
                (
                    "SELECT id FROM chats WHERE id = ? AND user_id = ? AND is_deleted = false",
                    (cid, BENCH_USER),
                ),
                (
                    "SELECT id, chat_id, model_id, role, content, status, error, prompt_tokens,"
                    " completion_tokens, cost, created_at, is_deleted FROM messages"
                    " WHERE chat_id = ? AND is_deleted = false"
                    " ORDER BY created_at DESC, id DESC LIMIT 31",
                    (cid,),
                ),
            ]
        )[1]
        model_ids = tuple({r[2] for r in rows if r[2] is not None})
        if model_ids:
            marks = ", ".join("?" * len(model_ids))
            self._run([(f"SELECT id, name FROM models WHERE id IN ({marks})", model_ids)])

    def append(self, chat_id: uuid.UUID, model_id: uuid.UUID) -> None:
        from synergia_tui.core.clock import utcnow

        now = utcnow()
        stamp = now.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else now
        cid, mid = self._id(chat_id), self._id(model_id)
        self._run(
            [
                (
                    "SELECT id, title, model_id FROM chats"
                    " WHERE id = ? AND user_id = ? AND is_deleted = false",
                    (cid, BENCH_USER),
                ),
                ("SELECT id, is_enabled, is_deleted FROM models WHERE id = ?", (mid,)),
                (
                    "INSERT INTO messages (id, chat_id, model_id, role, content, status,"
                    " created_at, is_deleted) VALUES (?, ?, ?, 'user', ?, 'complete', ?, false)",
                    (self._id(uuid.uuid4()), cid, mid, "a new prompt", stamp),
                ),
                ("UPDATE chats SET model_id = ?, updated_at = ? WHERE id = ?", (mid, stamp, cid)),
            ],
            write=True,
        )

    def save_partial(self, message_id: uuid.UUID, chat_id: uuid.UUID, content: str) -> None:
        mid = self._id(message_id)
        self._run(
            [
                ("SELECT chat_id, is_deleted FROM messages WHERE id = ?", (mid,)),
                (
                    "SELECT id FROM chats WHERE id = ? AND user_id = ? AND is_deleted = false",
                    (self._id(chat_id), BENCH_USER),
                ),
                ("UPDATE messages SET content = ? WHERE id = ?", (content, mid)),
            ],
            write=True,
        )


def _per_call(fn: Callable[[], object], calls: int) -> Callable[[], float]:
    def measure() -> float:
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        return (time.perf_counter() - start) * 1000 / calls

    return measure


def run_backend(backend: str, options: Options) -> list[Row]:
    chats, per_chat, long_len = (100, 4, 200) if options.quick else (2_000, 20, 2_000)
    calls = 20 if options.quick else 100
    name = "SQLite" if backend == "sqlite" else "PostgreSQL"
    with bench_database(backend, options.postgres_url) as db:
        model_id = datagen.add_model(db)
        chat_rows, messages = datagen.history_rows(chats, per_chat, model_id)
        datagen.write_rows(db, chat_rows, messages)
        chat, rows = datagen.long_chat_rows(long_len, model_id, title="Long chat")
        datagen.write_rows(db, [chat], rows)
        chat_id = chat[0]
        datagen.verify(db, chat_id, rows[-1][4])

        container = db.container()
        raw = RawQueries(db)
        try:
            reply = container.messages.start_reply(chat_id, model_id)
            partial = "token " * 200
            cases: list[tuple[str, Callable[[], object], Callable[[], object]]] = [
                (
                    "list chats page (50)",
                    lambda: container.chats.list_chats(limit=50),
                    raw.list_chats,
                ),
                (
                    "load message page (30)",
                    lambda: container.messages.list_messages(chat_id, limit=30),
                    lambda: raw.message_page(chat_id),
                ),
                (
                    "append message",
                    lambda: container.messages.add_user_message(chat_id, "a new prompt"),
                    lambda: raw.append(chat_id, model_id),
                ),
                (
                    "stream-save batch",
                    lambda: container.messages.save_partial(reply.id, partial),
                    lambda: raw.save_partial(reply.id, chat_id, partial),
                ),
            ]
            result = []
            for label, service_call, raw_call in cases:
                targets, baselines = compare(
                    _per_call(service_call, calls),
                    _per_call(raw_call, calls),
                    repeat=options.repeat,
                    warmup=options.warmup,
                )
                row = Row(
                    case=CASE,
                    name=f"{name}: {label}",
                    unit="ms",
                    samples=targets,
                    baseline="the same SQL by hand on the bare driver connection",
                    baseline_samples=baselines,
                )
                row.note = f"{1000 / row.median:,.0f} calls/s (raw SQL {1000 / row.baseline_median:,.0f}/s)"
                result.append(row)
            return result
        finally:
            raw.close()
            container.close()


def run(options: Options) -> list[Row]:
    from benchmarks.runner import unavailable

    rows = run_backend("sqlite", options)
    if options.postgres_url:
        rows += run_backend("postgresql", options)
    else:
        rows.append(unavailable(CASE, "PostgreSQL: hot paths", "no server: pass --postgres URL"))
    return rows
