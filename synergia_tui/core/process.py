"""Who this process is, as a reply's lease names it, and whether another such process still runs.

An owner is ``host/boot/pid/start``: the host name, the kernel's boot id, the process id and the
process's start time in clock ticks. On the same host and boot, a pid whose start time differs is
another process that reused the number, so "gone" is certain; on another host it is unknowable,
and only the lease's expiry can tell.
"""

from __future__ import annotations

import functools
import os
import socket
from enum import Enum
from pathlib import Path

_PROC = Path("/proc")


class OwnerState(Enum):
    ALIVE = "alive"
    GONE = "gone"
    UNKNOWN = "unknown"  # another machine (or no /proc): only the lease's expiry can tell


def _boot_id() -> str:
    try:
        return (_PROC / "sys/kernel/random/boot_id").read_text().strip()[:36]
    except OSError:
        return "-"


def _start_ticks(pid: int) -> str | None:
    """The process's start time since boot (field 22 of /proc/PID/stat), None if there is none."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def _host() -> str:
    return socket.gethostname().replace("/", "_")[:80] or "-"


@functools.cache
def _this_process(pid: int) -> str:
    return f"{_host()}/{_boot_id()}/{pid}/{_start_ticks(pid) or '-'}"


def process_owner() -> str:
    """This process's owner id (computed once per pid: a fork gets its own)."""
    return _this_process(os.getpid())


def owner_state(owner: str | None) -> OwnerState:
    """Whether the process named by ``owner`` still runs."""
    if not owner:
        return OwnerState.GONE  # rows from before leases existed: nobody owns them
    parts = owner.split("/")
    if len(parts) != 4:
        return OwnerState.UNKNOWN
    host, boot, pid_text, start = parts
    if host != _host() or boot != _boot_id() or boot == "-" or not pid_text.isdigit():
        return OwnerState.UNKNOWN
    now = _start_ticks(int(pid_text))
    if now is None:
        return OwnerState.GONE
    return OwnerState.ALIVE if now == start else OwnerState.GONE


def exit_now_if_threads_busy(code: int) -> None:
    """End the process with ``code`` at once while other threads are still alive.

    Those are the database threads: idle, or stuck in a call on a locked SQLite file or a server
    that stopped answering, which holds a thread for its whole timeout; Python would wait for
    them before the process ends. Call this once every reply is stored or in the journal
    (fsync'd), the database closed and the terminal restored: nothing is lost by not waiting.
    """
    import logging
    import sys
    import threading

    here = threading.current_thread()
    if any(t is not here and t.is_alive() and not t.daemon for t in threading.enumerate()):
        sys.stdout.flush()
        sys.stderr.flush()
        logging.shutdown()
        os._exit(code)
