"""The real ``synergia`` TUI on a real terminal, ended by a signal mid-reply — with the database
healthy, and with its write lock held by another process."""

# ruff: noqa: F811
from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import signal
import sqlite3
import struct
import subprocess
import termios
import threading
import time
from pathlib import Path

import pytest

from synergia_tui.core.journal import ReplyJournal
from tests.fake_provider_server import Script, fake_provider  # noqa: F401
from tests.faults.conftest import (
    SYNERGIA,
    add_fake_model,
    synergia_command_env,
    wait_for,
    write_lock,
)

LEAVE_ALTERNATE_SCREEN = b"\x1b[?1049l"
SHOW_CURSOR = b"\x1b[?25h"


class Terminal:
    """``synergia`` on an 80×24 pseudo-terminal; everything it writes is kept in ``output``."""

    def __init__(self, env: dict[str, str]) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.process = subprocess.Popen(
            [SYNERGIA],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self.master = master
        self.output = bytearray()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if not ready:
                if self.process.poll() is not None:
                    return
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return  # the child closed the terminal
            if not chunk:
                return
            self.output += chunk

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def wait_for_text(self, needle: str, timeout: float = 20) -> None:
        wait_for(
            lambda: needle.encode() in self.output, timeout=timeout, what=f"{needle!r} on screen"
        )

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=5)
        os.close(self.master)


@pytest.fixture
def tui_env(tmp_path, fake_provider):
    env = synergia_command_env(tmp_path, TERM="xterm-256color")
    add_fake_model(env, fake_provider.openai_base_url)
    return env


def _reply_row(database: Path) -> tuple[str, str] | None:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as connection:
        row = connection.execute(
            "SELECT status, content FROM messages WHERE role = 'assistant'"
        ).fetchone()
    return (row[0], row[1]) if row else None


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("signum", "expected", "database"),
    [
        (signal.SIGTERM, 143, "healthy"),
        (signal.SIGTERM, 143, "locked"),
        (signal.SIGINT, 130, "healthy"),
    ],
)
def test_a_signal_mid_reply_restores_the_terminal_and_keeps_every_word(
    tui_env, tmp_path, fake_provider, signum, expected, database
):
    db_file = tmp_path / "data" / "synergia" / "synergia.db"
    fake_provider.script = Script(
        reply=" ".join(f"w{i}" for i in range(2000)), tokens_per_second=50
    )
    terminal = Terminal(tui_env)
    try:
        terminal.wait_for_text("sqlite ●")
        terminal.type("tell me a long story\r")
        wait_for(
            lambda: (row := _reply_row(db_file)) and "w10 " in row[1],
            timeout=30,
            what="part of the reply saved",
        )
        lock = write_lock(db_file) if database == "locked" else None
        if lock is not None:
            lock.__enter__()
        try:
            time.sleep(1.5)  # more of the reply arrives (and cannot be saved, when locked)
            signalled = time.monotonic()
            terminal.process.send_signal(signum)
            code = terminal.process.wait(timeout=15)
            took = time.monotonic() - signalled
            journal = ReplyJournal(tmp_path / "state" / "synergia" / "journal").entries()
        finally:
            if lock is not None:
                lock.__exit__(None, None, None)
    finally:
        terminal.close()
    assert code == expected
    assert took < 5, f"took {took:.1f} s to end"
    # The terminal was given back as it was: alternate screen left, cursor shown again.
    tail = bytes(terminal.output[-4000:])
    assert LEAVE_ALTERNATE_SCREEN in tail and SHOW_CURSOR in tail
    if database == "healthy":
        assert journal == []
        status, content = _reply_row(db_file)
        assert status == "cancelled" and content.startswith("w0 w1 w2") and "w60 " in content
        return
    # Locked: the database could not take the rest; the journal has it all, and the next start
    # stores it.
    [entry] = journal
    assert entry.status == "cancelled" and "w60 " in entry.content
    before = _reply_row(db_file)
    assert before is not None and len(before[1]) < len(entry.content)
    fake_provider.script = Script(reply="short")
    again = subprocess.run(
        [SYNERGIA, "ask", "again"], env=tui_env, capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 0, again.stderr
    chats = json.loads(
        subprocess.run(
            [SYNERGIA, "chats", "list", "--json"], env=tui_env, capture_output=True, text=True
        ).stdout
    )
    story = next(c for c in chats if c["title"] == "tell me a long story")
    exported = json.loads(
        subprocess.run(
            [SYNERGIA, "chats", "export", story["id"], "--format", "json"],
            env=tui_env,
            capture_output=True,
            text=True,
        ).stdout
    )
    reply = exported["messages"][-1]
    assert (reply["status"], reply["content"]) == ("cancelled", entry.content)
    assert ReplyJournal(tmp_path / "state" / "synergia" / "journal").entries() == []


@pytest.mark.e2e
def test_sigterm_mid_reply_with_postgresql_down_journals_it_and_the_next_start_stores_it(
    tmp_path, fake_provider, outage_postgres
):
    cluster, url = outage_postgres
    env = synergia_command_env(
        tmp_path,
        TERM="xterm-256color",
        SYNERGIA_DATABASE_URL=url.render_as_string(hide_password=False),
    )
    add_fake_model(env, fake_provider.openai_base_url)
    fake_provider.script = Script(
        reply=" ".join(f"w{i}" for i in range(2000)), tokens_per_second=50
    )
    journal_dir = tmp_path / "state" / "synergia" / "journal"
    terminal = Terminal(env)
    try:
        terminal.wait_for_text("postgresql ●")
        terminal.type("tell me a long story\r")
        terminal.wait_for_text("w10")
        cluster.stop()
        try:
            time.sleep(1.5)
            signalled = time.monotonic()
            terminal.process.send_signal(signal.SIGTERM)
            code = terminal.process.wait(timeout=15)
            took = time.monotonic() - signalled
            [entry] = ReplyJournal(journal_dir).entries()
        finally:
            cluster.start()
    finally:
        terminal.close()
    assert code == 143
    assert took < 5, f"took {took:.1f} s to end"
    assert LEAVE_ALTERNATE_SCREEN in bytes(terminal.output[-4000:])
    assert entry.status == "cancelled" and "w40 " in entry.content
    fake_provider.script = Script(reply="short")
    again = subprocess.run(
        [SYNERGIA, "ask", "again"], env=env, capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 0, again.stderr
    chats = json.loads(
        subprocess.run(
            [SYNERGIA, "chats", "list", "--json"], env=env, capture_output=True, text=True
        ).stdout
    )
    story = next(c for c in chats if c["title"] == "tell me a long story")
    exported = json.loads(
        subprocess.run(
            [SYNERGIA, "chats", "export", story["id"], "--format", "json"],
            env=env,
            capture_output=True,
            text=True,
        ).stdout
    )
    reply = exported["messages"][-1]
    assert (reply["status"], reply["content"]) == ("cancelled", entry.content)
    assert ReplyJournal(journal_dir).entries() == []
