"""Messages between the app and its screens: the app posts down, a screen posts up.

Declared here, apart from both, so a screen never imports the app (import-linter keeps it so).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    # Type names only: the services import SQLAlchemy, which loads after the first paint (and
    # the first page's reader sqlite3, which loads in the start-up worker).
    from synergia_tui.core.first_page import ChatTitle
    from synergia_tui.services.facade import AsyncServices


@dataclass
class FirstPage(Message):
    """Down, app → main screen: the newest chats, read before the database stack is up.

    The screen sets ``shown`` once they are painted (the app waits for that before it loads the
    stack, whose imports would otherwise slow the paint down).
    """

    chats: list[ChatTitle]
    shown: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class DatabaseReady(Message):
    """Down, app → main screen: the database stack is up and these are its services."""

    services: AsyncServices


@dataclass
class DatabaseUnavailable(Message):
    """Down, app → main screen: the database cannot be used (unreachable, schema behind, ...).

    ``retry_s`` is how often the app tries again, or None when it has given up.
    """

    message: str
    retry_s: float | None = None

    @property
    def retrying(self) -> bool:
        return self.retry_s is not None


class SetAsideLoadedObjects(Message):
    """Up, to the app: what is loaded by now stays for good (start-up done, an SDK loaded), so
    take it out of the garbage collector's view (see ``SynergiaApp.set_aside_loaded_objects``)."""


class WidgetsDropped(Message):
    """Up, to the app: ``count`` widgets holding a message each were unmounted (the message
    pane's window moved on). Their memory comes back only with a full garbage collection,
    which reading on through a long chat would otherwise put off (it is never quiet)."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count


class Activity(Message):
    """Up, to the app: something is being shown at the user's request (a chat opening, older
    messages), so this is not a quiet moment for a full garbage collection."""


@dataclass
class SyncChanged(Message):
    """From the live-sync thread to the main screen: another session changed these chats
    (None: it cannot say which; everything shown is read again)."""

    chats: frozenset[uuid.UUID] | None


@dataclass
class SyncState(Message):
    """From the live-sync thread to the main screen: whether it is watching the database."""

    up: bool
