"""The test suite's fake provider (``tests/fake_provider_server.py``) in a process of its own.

A real provider is another process: run inside the app's process, the server's pacing thread
would wait for the app's GIL and slow the stream itself down.

With ``stamped=True`` the server also notes when things happen on the wire, on ``clock()``
(``CLOCK_MONOTONIC``, which on Linux is one clock for every process of the machine, so the
server's stamps and the app's can be subtracted):

- ``("request", n, t)``: request ``n`` (0, 1, …) to ``/chat/completions`` has been read whole;
- ``("token", n, t)``: the first text chunk of reply ``n`` is about to be written to the socket.

Each reply's first chunk is then ``first_token(n)``, a word found nowhere else on screen, so a
frame that shows it shows that reply's first token. ``ProviderProcess.events()`` hands the stamps
over (and forgets them).
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import multiprocessing
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from benchmarks.ui_driver import UINotAvailable

ROOT = Path(__file__).resolve().parent.parent


def clock() -> float:
    """Seconds on the system-wide monotonic clock (comparable across processes on Linux)."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def first_token(n: int) -> str:
    """The first chunk of stamped reply ``n`` (without its trailing space)."""
    return f"Firsttoken{n:04d}"


def fake_server_module() -> Any:
    """The test suite's fake provider server, or UINotAvailable."""
    if not (ROOT / "tests" / "fake_provider_server.py").exists():
        raise UINotAvailable("tests/fake_provider_server.py does not exist yet")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    try:
        import tests.fake_provider_server as module
    except Exception as exc:
        raise UINotAvailable(f"cannot import tests/fake_provider_server.py: {exc}") from exc
    return module


def _stamp_server(fake: Any, events: list[tuple[str, int, float]]) -> None:
    """Patch the fake server (in its own process only) to stamp requests and first tokens."""
    lock = threading.Lock()
    numbers = itertools.count()
    record = fake.FakeProviderServer._record
    write = fake._Handler._write

    def stamped_record(server: Any, request: Any) -> Any:
        script = record(server, request)
        if not request.path.endswith("/chat/completions"):
            return script
        with lock:
            n = next(numbers)
            events.append(("request", n, clock()))
        rest = script.text_chunks()[1:]
        return dataclasses.replace(script, chunks=[f"{first_token(n)} ", *rest])

    def stamped_write(handler: Any, text: str) -> None:
        if "Firsttoken" in text:
            # Stamped just before the write: after it, the client may read the token before
            # this thread runs again, and the stamp would come after the arrival it starts.
            stamped = clock()
            n = int(text.split("Firsttoken", 1)[1][:4])
            with lock:
                events.append(("token", n, stamped))
        write(handler, text)

    fake.FakeProviderServer._record = stamped_record
    fake._Handler._write = stamped_write


def _serve(
    chunks: Sequence[str], tokens_per_second: float, stamped: bool, conn: Connection
) -> None:
    """In the server's own process: serve the script until the parent says stop or goes away."""
    fake = fake_server_module()
    events: list[tuple[str, int, float]] = []
    if stamped:
        _stamp_server(fake, events)
    script = fake.Script(chunks=list(chunks), tokens_per_second=tokens_per_second)
    with fake.FakeProviderServer(script) as server:
        conn.send(server.openai_base_url)
        with contextlib.suppress(EOFError):
            while conn.recv() == "events":
                taken = list(events)  # list() and clear() are each atomic under the GIL
                del events[: len(taken)]
                conn.send(taken)


@dataclasses.dataclass
class ProviderProcess:
    """A running fake provider: its OpenAI base URL, and its stamps when ``stamped``."""

    base_url: str
    _conn: Connection

    def events(self) -> list[tuple[str, int, float]]:
        """The stamps noted since the last call, oldest first."""
        self._conn.send("events")
        return self._conn.recv()


@contextlib.contextmanager
def provider_process(
    chunks: Sequence[str], tokens_per_second: float, *, stamped: bool = False
) -> Iterator[ProviderProcess]:
    """The fake provider in a separate process, serving ``chunks`` at ``tokens_per_second``."""
    fake_server_module()  # fail early, here, with a clear reason
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(
        target=_serve,
        args=(list(chunks), tokens_per_second, stamped, child),
        name="fake-provider",
        daemon=True,
    )
    process.start()
    try:
        deadline = time.perf_counter() + 60
        while not parent.poll(0.05):
            if not process.is_alive():
                raise UINotAvailable(f"the fake provider process exited ({process.exitcode})")
            if time.perf_counter() > deadline:
                raise UINotAvailable("the fake provider process did not start within 60 s")
        yield ProviderProcess(parent.recv(), parent)
    finally:
        with contextlib.suppress(OSError):
            parent.send(None)
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join()
