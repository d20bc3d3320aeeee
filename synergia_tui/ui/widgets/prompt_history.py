"""The earlier prompts of one chat, as ``up`` / ``down`` in the prompt box walk them.

Pages are read as the walk nears the end of what is loaded, so a chat of 10,000 prompts costs
one page to start (see ``MessageService.recent_prompts``). Position -1 is the draft: what was in
the box before the walk began, given back when ``down`` comes all the way back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from synergia_tui.repositories import MessageCursor
    from synergia_tui.services.reads import PromptPage

PromptLoader = Callable[["MessageCursor | None"], Awaitable["PromptPage | None"]]
"""Reads the page of prompts older than a cursor (None: the newest page); None when the
database is not there to read."""

READ_AHEAD = 5
"""Read the next page once the walk is this close to the oldest prompt loaded."""


class PromptHistory:
    """A walk through one chat's earlier prompts (newest first), loaded a page at a time."""

    def __init__(self, load: PromptLoader | None = None) -> None:
        self._load = load
        self.entries: list[str] = []
        """The prompts loaded so far, newest first."""
        self.position = -1
        """Which entry is shown (-1: the draft)."""
        self.draft = ""
        self._cursor: MessageCursor | None = None
        self._started = False
        self.loading = False

    @property
    def has_more(self) -> bool:
        """Older prompts may be there to read (none read yet, or the last page said so)."""
        return self._load is not None and (not self._started or self._cursor is not None)

    @property
    def walking(self) -> bool:
        return self.position >= 0

    def older(self, text: str) -> str | None:
        """The prompt before the one shown (``text`` is kept as the draft when the walk
        starts); None when it is not loaded (or there is none)."""
        if self.position + 1 >= len(self.entries):
            return None
        if self.position == -1:
            self.draft = text
        self.position += 1
        return self.entries[self.position]

    def newer(self) -> str | None:
        """The prompt after the one shown, or the draft after the newest; None when not
        walking."""
        if self.position < 0:
            return None
        self.position -= 1
        return self.draft if self.position < 0 else self.entries[self.position]

    def wants_page(self) -> bool:
        """The walk is near the oldest prompt loaded and more may be there."""
        return self.has_more and self.position + READ_AHEAD >= len(self.entries)

    async def read_page(self) -> bool:
        """Read the next older page (a prompt repeated across the page edge comes once);
        False when there was none to read."""
        if self._load is None or not self.has_more:
            return False
        page = await self._load(self._cursor)
        if page is None:
            return False
        self._started = True
        self._cursor = page.older_cursor
        for prompt in page.prompts:
            if not self.entries or self.entries[-1] != prompt:
                self.entries.append(prompt)
        return True

    def remember(self, text: str) -> None:
        """A prompt just sent: the newest entry from now on, and the walk starts over."""
        self.stop()
        if self._started and (not self.entries or self.entries[0] != text):
            # (Before the first page is read, that page will bring it.)
            self.entries.insert(0, text)

    def stop(self) -> None:
        """End the walk where it is (the user changed the text): the next one starts anew."""
        self.position = -1
        self.draft = ""
