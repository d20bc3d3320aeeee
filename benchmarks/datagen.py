"""Bulk data for the benchmarks, written straight through the driver.

Going through the services would take hours for a million messages; instead rows are generated
in Python and written with one ``executemany`` per batch (SQLite) or ``COPY`` (PostgreSQL), in a
single transaction. The values use the exact storage formats of the column types in
``synergia_tui.models.types`` (SQLite: hex UUIDs, naive-UTC timestamp text, decimals as text),
and ``verify`` reads them back through the services to prove it.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import islice

from benchmarks.databases import BENCH_USER, BenchDatabase
from synergia_tui.models import AIModelCreate

CHAT_COLUMNS = (
    "id",
    "user_id",
    "title",
    "model_id",
    "system_prompt",
    "is_deleted",
    "created_at",
    "updated_at",
)
MESSAGE_COLUMNS = (
    "id",
    "chat_id",
    "model_id",
    "role",
    "content",
    "status",
    "error",
    "prompt_tokens",
    "completion_tokens",
    "cost",
    "created_at",
    "is_deleted",
    "parent_id",  # added by ``write_rows``: each message follows the one before it
)
BATCH = 20_000

_TOPICS = (
    "postgres",
    "migration",
    "invoice",
    "textual",
    "docker",
    "kubernetes",
    "rust",
    "python",
    "regex",
    "budget",
    "holiday",
    "recipe",
    "terraform",
    "pytest",
    "async",
    "sqlite",
    "nginx",
    "latency",
    "refactor",
    "poem",
)
_VERBS = ("Fix", "Explain", "Refactor", "Plan", "Draft", "Review", "Debug", "Compare", "Summarise")
_SHORT_REPLIES = (
    "Sure — here is the short version.",
    "Use an index on `(chat_id, created_at)`; the planner will pick it up.",
    "It depends on the workload. **Measure first**, then decide.",
    "- check the logs\n- restart the worker\n- open an issue if it persists",
)


def rich_message(i: int) -> str:
    """A reply as models write them: headings, lists, inline code and a fenced code block."""
    return (
        f"## Step {i}\n\n"
        f"Here is how to handle case **{i}** without blocking the loop:\n\n"
        "1. read the page with a keyset cursor\n"
        "2. render only what is visible\n"
        "3. keep `older_cursor` for the next page\n\n"
        "```python\n"
        f"async def load_page_{i}(service, cursor):\n"
        "    page = await service.list_messages(chat_id, before=cursor)\n"
        "    for message in page.messages:\n"
        "        yield render(message)\n"
        "```\n\n"
        f"That keeps the cost of opening a chat constant (message {i})."
    )


def reading_message(i: int) -> str:
    """About 400 characters of Markdown; every tenth message carries a fenced code block."""
    if i % 10 == 9:
        return (
            f"### Paging, part {i}\n\n"
            f"Keep a **cursor** per page so message {i} loads in constant time:\n\n"
            "```python\n"
            f"async def older_{i}(service, chat_id, cursor):\n"
            "    page = await service.list_messages(chat_id, before=cursor)\n"
            "    return page.messages, page.older_cursor\n"
            "```\n\n"
            "Then mount only what is near the view, and drop what scrolled a few "
            "screens away: the pane stays as light as it was when the chat opened."
        )
    return (
        f"Message {i}: when a chat grows past a few thousand messages, the pane should not "
        "mount them all. Keep a *window* of views near the screen, load the page above as "
        "the reader scrolls up, and unmount what scrolled far away.\n\n"
        f"- a page of messages around **{i}**\n"
        "- `older_cursor` and `newer_cursor` to extend it\n"
        "- a spacer standing in for what is not mounted\n\n"
        "That way the cost of a key does not grow with the chat."
    )


def add_model(
    db: BenchDatabase, *, name: str = "bench-model", base_url: str | None = None
) -> uuid.UUID:
    """One enabled model through the real service (also what chats point at)."""
    container = db.container()
    try:
        model = container.models.add_model(
            AIModelCreate(
                name=name,
                provider="openai",
                api_model="fake-model-a",
                base_url=base_url,
                api_key_env="SYNERGIA_BENCH_API_KEY",
                price_per_million_tokens=Decimal("0.15"),
                output_price_per_million_tokens=Decimal("0.60"),
            )
        )
    finally:
        container.close()
    return model.id


# -- row generators ----------------------------------------------------------------------------


def _chat_row(
    chat_id: uuid.UUID, title: str, model_id: uuid.UUID, created: datetime, updated: datetime
) -> tuple:
    return (chat_id, BENCH_USER, title, model_id, None, False, created, updated)


def _message_row(
    chat_id: uuid.UUID, model_id: uuid.UUID, index: int, content: str, created: datetime
) -> tuple:
    user = index % 2 == 0
    return (
        uuid.uuid4(),
        chat_id,
        model_id,
        "user" if user else "assistant",
        content,
        "complete",
        None,
        None if user else 120,
        None if user else 480,
        None if user else Decimal("0.000306"),
        created,
        False,
    )


def history_rows(
    chats: int, messages_per_chat: int, model_id: uuid.UUID, *, seed: int = 5
) -> tuple[list[tuple], Iterator[tuple]]:
    """``chats`` chats with varied titles, and a lazy stream of their messages."""
    rng = random.Random(seed)
    now = datetime.now(UTC) - timedelta(days=1)
    chat_rows = []
    for i in range(chats):
        title = f"{rng.choice(_VERBS)} the {rng.choice(_TOPICS)} {rng.choice(_TOPICS)} #{i}"
        updated = now - timedelta(seconds=(chats - i) * 60)
        created = updated - timedelta(seconds=messages_per_chat * 2)
        chat_rows.append(_chat_row(uuid.uuid4(), title, model_id, created, updated))

    def messages() -> Iterator[tuple]:
        for chat in chat_rows:
            start = chat[6]
            for j in range(messages_per_chat):
                content = f"Question {j} about {chat[2]}?" if j % 2 == 0 else _SHORT_REPLIES[j % 4]
                yield _message_row(chat[0], model_id, j, content, start + timedelta(seconds=j * 2))

    return chat_rows, messages()


def long_chat_rows(messages: int, model_id: uuid.UUID, *, title: str) -> tuple[tuple, list[tuple]]:
    """One chat with ``messages`` messages; replies carry Markdown with code blocks."""
    chat_id = uuid.uuid4()
    start = datetime.now(UTC) - timedelta(hours=2) - timedelta(seconds=messages)
    rows = [
        _message_row(
            chat_id,
            model_id,
            i,
            f"Prompt {i}: how do I page through a long history?" if i % 2 == 0 else rich_message(i),
            start + timedelta(seconds=i),
        )
        for i in range(messages)
    ]
    chat = _chat_row(chat_id, title, model_id, start, start + timedelta(seconds=messages))
    return chat, rows


def reading_chat_rows(
    messages: int, model_id: uuid.UUID, *, title: str
) -> tuple[tuple, list[tuple]]:
    """One chat of ``messages`` ~400-character Markdown messages, oldest first."""
    chat_id = uuid.uuid4()
    start = datetime.now(UTC) - timedelta(hours=2) - timedelta(seconds=messages)
    rows = [
        _message_row(chat_id, model_id, i, reading_message(i), start + timedelta(seconds=i))
        for i in range(messages)
    ]
    chat = _chat_row(chat_id, title, model_id, start, start + timedelta(seconds=messages))
    return chat, rows


# -- writers -----------------------------------------------------------------------------------


def _sqlite_value(value: object) -> object:
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def _batches(rows: Iterable[tuple], size: int = BATCH) -> Iterator[list[tuple]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _threaded(messages: Iterable[tuple]) -> Iterator[tuple]:
    """Message rows (each chat's in reading order) with their parent: the row before, in one
    path per chat, as Synergia stores a conversation."""
    chat = parent = None
    for row in messages:
        if row[1] != chat:
            chat, parent = row[1], None
        yield (*row, parent)
        parent = row[0]


def write_rows(db: BenchDatabase, chats: Sequence[tuple], messages: Iterable[tuple]) -> None:
    """Insert chats then messages in one transaction, the fastest way each backend offers
    (on PostgreSQL COPY, as the owner: PostgreSQL refuses COPY FROM under row-level security)."""
    messages = _threaded(messages)
    if db.owner_url is not None:
        db = type(db)(db.backend, db.owner_url)
    container = db.container()
    engine = container.db.engine
    raw = engine.raw_connection()
    try:
        if db.backend == "sqlite":
            _write_sqlite(raw, chats, messages)
        else:
            _write_postgres(raw, chats, messages)
    finally:
        raw.close()
        container.close()


def _write_sqlite(raw, chats: Sequence[tuple], messages: Iterable[tuple]) -> None:  # noqa: ANN001
    cursor = raw.cursor()
    # A big page cache keeps the random-UUID primary-key index in memory while it grows.
    cursor.execute("PRAGMA cache_size = -400000")
    cursor.execute("BEGIN IMMEDIATE")
    for table, columns, rows in (
        ("chats", CHAT_COLUMNS, chats),
        ("messages", MESSAGE_COLUMNS, messages),
    ):
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        for batch in _batches(rows):
            cursor.executemany(sql, [tuple(_sqlite_value(v) for v in row) for row in batch])
    cursor.execute("COMMIT")
    cursor.execute("ANALYZE")
    cursor.close()


def _write_postgres(raw, chats: Sequence[tuple], messages: Iterable[tuple]) -> None:  # noqa: ANN001
    connection = raw.driver_connection  # psycopg 3
    with connection.cursor() as cursor:
        for table, columns, rows in (
            ("chats", CHAT_COLUMNS, chats),
            ("messages", MESSAGE_COLUMNS, messages),
        ):
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    connection.commit()
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE chats")
        cursor.execute("ANALYZE messages")
    connection.autocommit = False


def verify(db: BenchDatabase, chat_id: uuid.UUID, expected_last: str) -> None:
    """Read the newest message back through the services: the storage formats were right."""
    container = db.container()
    try:
        page = container.messages.list_messages(chat_id, limit=1)
        if not page.messages or page.messages[-1].content != expected_last:
            raise AssertionError(f"generated data does not read back for chat {chat_id}")
        if container.chats.list_chats(limit=1).chats == []:
            raise AssertionError("generated chats do not read back")
    finally:
        container.close()
