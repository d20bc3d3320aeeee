"""The reply journal: what a reply had when the database could not take it.

Whenever the newest state of a reply is not in the database (a save failed: the server is down,
the file is locked, the disk is full), it is here: one small JSON file per reply in a private
folder of the state directory (0700, files 0600), replaced atomically on every change and
removed once the database has the same. The next start applies what a process that ended left
behind. Entries name their database (a display URL, no password), so a journal written against
one database is never applied to another.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from synergia_tui.core import paths

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """A reply's newest state, as its owner knew it."""

    message_id: str
    database: str
    user_id: str
    owner: str
    content: str
    status: str  # "streaming" while the reply was still arriving, else its final status
    error: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    tokens_estimated: bool = False
    finish_reason: str | None = None


class ReplyJournal:
    """Journal files under ``directory`` (the state dir's ``journal/`` by default)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory if directory is not None else paths.state_dir() / "journal"

    def _path(self, message_id: str) -> Path:
        return self.directory / f"{uuid.UUID(message_id)}.json"

    def write(self, entry: JournalEntry) -> None:
        """Keep ``entry`` durably (fsync'd, atomic). Raises OSError when even that fails."""
        paths.private_dir(self.directory)
        target = self._path(entry.message_id)
        temporary = target.with_suffix(f".{os.getpid()}.tmp")
        data = json.dumps(asdict(entry), ensure_ascii=True).encode()
        fd = os.open(temporary, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, target)

    def remove(self, message_id: str) -> None:
        try:
            self._path(message_id).unlink()
        except FileNotFoundError:
            pass

    def set_aside(self, message_id: str) -> None:
        """Keep an entry that cannot be applied as ``….json.unapplied``: out of the way, kept."""
        path = self._path(message_id)
        if path.exists():
            os.replace(path, path.with_name(path.name + ".unapplied"))

    def entries(self) -> list[JournalEntry]:
        """Every readable entry; an unreadable file is logged and left for a person to look at."""
        if not self.directory.is_dir():
            return []
        found: list[JournalEntry] = []
        for path in sorted(self.directory.glob("*.json")):
            try:
                found.append(JournalEntry(**json.loads(path.read_text())))
            except (OSError, ValueError, TypeError) as exc:
                log.warning("journal file %s cannot be read: %s", path.name, type(exc).__name__)
        return found
