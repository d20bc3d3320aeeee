"""Writing live replies durably, whatever the database does.

Each reply has a ``ReplyWriter`` that saves what arrived every ``save_interval`` and closes the
reply with its final state. While the database is unreachable, locked or full, the writer
retries with backoff and keeps the newest state in the journal; once the database is back
everything is written and the journal entry removed. So at any moment the newest state of a
reply is in the database or in the journal file, and the next start applies the journal of a
process that ended. ``ReplyStore`` holds one process's writers.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from synergia_tui.core.errors import ConflictError, NotFoundError, StorageError
from synergia_tui.core.journal import JournalEntry, ReplyJournal
from synergia_tui.models import MessageRead
from synergia_tui.providers.base import Usage
from synergia_tui.services.messages import MessageService
from synergia_tui.services.replies import ReplyPlan
from synergia_tui.services.validation import scrub_reply

log = logging.getLogger(__name__)

Runner = Callable[..., Awaitable[Any]]
"""Runs a blocking call off the event loop: ``await run(fn, *args, **kwargs)``."""

_SAVERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="synergia-save")
"""Threads for replies' database calls, apart from the event loop's default executor: a call
stuck on a locked file or a silent server never holds up ``asyncio.run``'s exit (which waits for
the default executor), and never takes a thread the UI's own queries need."""


async def run_off_loop(function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """``await run_off_loop(fn, ...)``: ``fn(...)`` on one of the savers' threads."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_SAVERS, functools.partial(function, *args, **kwargs))


SAVE_INTERVAL_S = 0.5
HEARTBEAT_S = 15.0
"""A reply whose provider is silent (a model thinking) still renews its lease this often."""
BACKOFF_S = (0.2, 0.5, 1.0, 2.0, 4.0)


@dataclass(frozen=True, slots=True)
class StorageChanged:
    """Saving this process's replies paused (``reason`` says why) or resumed (``reason`` None)."""

    reason: str | None

    @property
    def paused(self) -> bool:
        return self.reason is not None


@dataclass(frozen=True, slots=True)
class FinalState:
    """How a reply ended, before (or whether or not) the database has it."""

    status: str
    error: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    tokens_estimated: bool = False
    finish_reason: str | None = None


# -- durable writes ----------------------------------------------------------------------------


@dataclass
class ReplyWriter:
    """Keeps one reply's stored row in step with what arrived; see the module docstring."""

    store: ReplyStore
    message: MessageRead
    owner: str
    parts: list[str] = field(default_factory=list)
    final: FinalState | None = None
    usage: Usage = field(default_factory=lambda: Usage(None, None))
    """The newest counts the provider reported (Anthropic tells input tokens at the start)."""
    stored: MessageRead | None = None
    """The final row as the database returned it, once it has it."""
    _version: int = 0
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None
    _journalled: bool = False

    @property
    def text(self) -> str:
        if len(self.parts) > 1:
            self.parts[:] = ["".join(self.parts)]
        return self.parts[0] if self.parts else ""

    def append(self, chunk: str) -> None:
        self.parts.append(chunk)
        self._version += 1

    def finish(self, final: FinalState) -> None:
        """The reply ended: write its final state now (and retry until the database has it)."""
        self.final = final
        self._version += 1
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"reply-writer-{self.message.id}"
        )

    @property
    def done(self) -> bool:
        return self._task is not None and self._task.done()

    async def wait(self) -> MessageRead | None:
        """Until the final state is stored (or the row is gone); the stored row, if any."""
        if self._task is not None:
            await asyncio.shield(self._task)
        return self.stored

    def in_memory(self) -> MessageRead:
        """The reply as it stands here, stored or not."""
        update: dict[str, Any] = {"content": scrub_reply(self.text)}
        if self.final is not None:
            update.update(asdict(self.final))
        return self.message.model_copy(update=update)

    def journal_now(self) -> None:
        """Put the newest state in the journal (the process is ending before the database took
        it). An unwritable journal is logged: there is nowhere left to keep the text."""
        journal = self.store.journal
        if journal is None:
            return
        entry = JournalEntry(
            message_id=str(self.message.id),
            database=self.store.database,
            user_id=self.store.user_id,
            owner=self.owner,
            content=scrub_reply(self.text),
            **asdict(self.final or FinalState(status="streaming")),
        )
        try:
            journal.write(entry)
            self._journalled = True
        except OSError as exc:
            log.error("reply %s: cannot write the journal either: %s", self.message.id, exc)

    async def _run(self) -> None:
        store = self.store
        stored_version = 0
        last_write = time.monotonic()
        failures = 0
        while True:
            if failures:
                backoff = BACKOFF_S[min(failures - 1, len(BACKOFF_S) - 1)]
                with contextlib.suppress(TimeoutError):  # a final state cuts the wait short
                    await asyncio.wait_for(self._wake.wait(), backoff)
            elif self.final is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), store.save_interval)
            self._wake.clear()
            heartbeat_due = time.monotonic() - last_write >= HEARTBEAT_S
            if self.final is None and self._version == stored_version and not heartbeat_due:
                continue
            version, final, text = self._version, self.final, self.text
            last_write = time.monotonic()
            try:
                if final is None:
                    await store.run(
                        store.messages.save_partial, self.message.id, text, owner=self.owner
                    )
                else:
                    self.stored = await store.run(
                        store.messages.finish_reply,
                        self.message.id,
                        content=text,
                        owner=self.owner,
                        **asdict(final),
                    )
            except StorageError as exc:
                failures += 1
                log.warning("reply %s: saving failed (%d): %s", self.message.id, failures, exc)
                self.journal_now()
                store.paused(self, str(exc))
                continue
            except (NotFoundError, ConflictError) as exc:
                # The chat was deleted, the row is not ours, or the database refuses the row
                # for good: trying again changes nothing. The text stays in the journal, for a
                # person (or a later version) to recover; it is never dropped.
                log.error("reply %s: the database refuses it: %s", self.message.id, exc)
                self.journal_now()
                self.store.closed(self)
                return
            failures = 0
            stored_version = version
            store.resumed(self)
            if final is not None and version == self._version:
                self._forget()
                return

    def _forget(self) -> None:
        if self._journalled and self.store.journal is not None:
            with contextlib.suppress(OSError):
                self.store.journal.remove(str(self.message.id))
        self.store.closed(self)


class ReplyStore:
    """The durable writes of one process's live replies.

    ``run`` puts each database call on a thread (never the caller's event loop); ``on_change``
    hears when saving pauses (the database is away) and when it resumes.
    """

    def __init__(
        self,
        messages: MessageService,
        *,
        journal: ReplyJournal | None,
        database: str,
        run: Runner | None = None,
        save_interval: float = SAVE_INTERVAL_S,
        on_change: Callable[[StorageChanged], None] | None = None,
    ) -> None:
        self.messages = messages
        self.user_id = messages.user_id
        self.journal = journal
        self.database = database
        self.run = run if run is not None else run_off_loop
        self.save_interval = save_interval
        self.on_change = on_change
        self.writers: dict[uuid.UUID, ReplyWriter] = {}
        self._failing: dict[uuid.UUID, str] = {}

    @property
    def pause_reason(self) -> str | None:
        """Why saving is paused, or None while every reply is being saved."""
        return next(iter(self._failing.values()), None)

    def open(self, plan: ReplyPlan) -> ReplyWriter:
        writer = ReplyWriter(self, plan.message, plan.owner)
        self.writers[plan.message.id] = writer
        writer.start()
        return writer

    def paused(self, writer: ReplyWriter, reason: str) -> None:
        was = self.pause_reason
        self._failing[writer.message.id] = reason
        if was is None:
            self._tell(StorageChanged(reason))

    def resumed(self, writer: ReplyWriter) -> None:
        if self._failing.pop(writer.message.id, None) is not None and not self._failing:
            self._tell(StorageChanged(None))

    def closed(self, writer: ReplyWriter) -> None:
        self.writers.pop(writer.message.id, None)
        self.resumed(writer)

    def _tell(self, change: StorageChanged) -> None:
        if self.on_change is not None:
            self.on_change(change)

    async def drain(self, timeout: float) -> bool:
        """Give every reply up to ``timeout`` seconds to reach the database; journal the rest.

        Called when the process must end. Returns whether everything was stored.
        """
        writers = list(self.writers.values())
        for writer in writers:
            if writer.final is None:
                writer.finish(FinalState(status="cancelled"))
        tasks = [w._task for w in writers if w._task is not None and not w._task.done()]
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)
        left = [w for w in writers if not w.done]
        for writer in left:
            writer.journal_now()
            if writer._task is not None:
                writer._task.cancel()
        return not left

    def journal_all(self) -> None:
        """Synchronously journal every reply not yet stored (a crash or a signal's last act)."""
        for writer in list(self.writers.values()):
            writer.journal_now()
