"""Start a program in a real pseudo-terminal and time how long until given text is on screen.

The pty's output stream is read as it comes (no polling of a screen capture, which would steal
CPU from the program being measured) and searched for marker strings. Textual draws each styled
run of text as one contiguous string, so a word such as "Quit" arrives unbroken.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Sequence

COLUMNS, LINES = 100, 30


class NotAvailable(Exception):
    """The program could not be measured here; the message says why."""


class PtyProgram:
    """A child process whose stdin, stdout and stderr are one pty of a fixed size."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        size: tuple[int, int] = (COLUMNS, LINES),
    ) -> None:
        master, slave = pty.openpty()
        columns, lines = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        full_env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "", "LINES": ""}
        full_env.update(env or {})
        full_env = {k: v for k, v in full_env.items() if v != ""}
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            list(argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=full_env,
            cwd=cwd,
            start_new_session=True,  # its own session: the pty becomes its controlling terminal
            close_fds=True,
        )
        os.close(slave)
        self.master = master
        self.output = bytearray()
        self.seen: dict[str, float] = {}
        """When (ms after start) each marker of ``wait_for`` first appeared."""

    def read_available(self, timeout: float) -> bytes:
        """What the program wrote within ``timeout`` seconds (empty if nothing)."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return b""
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: the child closed the terminal
            return b""
        self.output.extend(chunk)
        return chunk

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def wait_for(self, markers: Sequence[str], *, timeout: float = 30.0) -> float:
        """Milliseconds from start until every marker has appeared in the output."""
        wanted = [m.encode() for m in markers]
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            chunk = self.read_available(0.05)
            if chunk:
                now = (time.perf_counter() - self.started) * 1000
                for marker, raw in zip(markers, wanted, strict=True):
                    if marker not in self.seen and raw in self.output:
                        self.seen[marker] = now
                if len(self.seen) == len(markers):
                    return now
            if not chunk and self.process.poll() is not None:
                text = _plain(self.output)
                raise NotAvailable(
                    f"{os.path.basename(self.process.args[0])} exited with code "
                    f"{self.process.returncode} before drawing its screen: {text[:160]!r}"
                )
        missing = [m for m in markers if m.encode() not in self.output]
        raise NotAvailable(f"no {missing} on screen after {timeout:.0f} s")

    def close(self) -> None:
        """Stop the program (its whole process group) and release the pty."""
        if self.process.poll() is None:
            for sig, grace in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(self.process.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.process.wait(timeout=grace)
                    break
                except subprocess.TimeoutExpired:
                    continue
        os.close(self.master)

    def __enter__(self) -> PtyProgram:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _plain(data: bytes) -> str:
    """Output with escape sequences dropped, for error messages."""
    import re

    text = data.decode(errors="replace")
    text = re.sub(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b.", "", text)
    return " ".join(text.split())


def first_paint(
    argv: Sequence[str],
    markers: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    seen: list[dict[str, float]] | None = None,
) -> float:
    """Milliseconds from process start until ``markers`` are drawn in the terminal.

    ``seen`` collects, per run, when each marker appeared.
    """
    with PtyProgram(argv, env=env) as program:
        try:
            return program.wait_for(markers)
        finally:
            if seen is not None:
                seen.append(dict(program.seen))


def run_to_exit(argv: Sequence[str], *, env: dict[str, str] | None = None) -> float:
    """Milliseconds a command takes from start to exit (output discarded; must exit 0 or 1)."""
    full_env = {k: v for k, v in {**os.environ, **(env or {})}.items() if v != ""}
    start = time.perf_counter()
    result = subprocess.run(list(argv), env=full_env, capture_output=True, timeout=120)
    elapsed = (time.perf_counter() - start) * 1000
    if result.returncode not in (0, 1):
        raise NotAvailable(
            f"{' '.join(argv)} exited {result.returncode}: {result.stderr.decode()[-200:]}"
        )
    return elapsed
