"""The chat sidebar: a filter box over a lazily paged list of the user's chats.

It loads its own pages (through the async facade, in workers): the first page for the filter
as it is typed, the next one as the user nears the end. At start-up it can show a first page read
before the services are up (``show_first_page``); the first load replaces it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import var
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from synergia_tui.core.errors import SynergiaError
from synergia_tui.core.safe_text import one_line
from synergia_tui.ui.format import relative_time
from synergia_tui.ui.widgets.chat_list import ChatFilter, ChatList

if TYPE_CHECKING:
    from synergia_tui.core.first_page import ChatTitle
    from synergia_tui.models import ChatRead
    from synergia_tui.services.facade import AsyncServices

CHAT_PAGE = 50
FILTER_DEBOUNCE_S = 0.0  # no wait: each keystroke queries at once; a newer one cancels it


LIVE_MARK = "●"
"""Shown beside a chat whose reply is streaming."""


class ChatSidebar(Vertical):
    """The user's chats, newest activity first; posts ``ChatSelected`` when one is picked.

    Its parent sets ``services`` once the database is up (then calls ``load_chats``) and binds
    ``current_chat`` (highlighted after each reload); it tells the sidebar about chats it
    changed with ``upsert_chat`` and ``remove_chat``. ``clock`` gives the relative times.
    """

    current_chat: var[ChatRead | None] = var(None)

    @dataclass
    class ChatSelected(Message):
        """The user picked a chat to open."""

        chat: ChatRead

    @dataclass
    class ChatCreated(Message):
        """A new (empty) chat was stored and is at the top of the list."""

        chat: ChatRead

    @dataclass
    class ChatRenamed(Message):
        """A chat has a new title."""

        chat: ChatRead

    @dataclass
    class ChatDeleted(Message):
        """A chat was deleted (it went to the trash) and left the list."""

        chat: ChatRead

    @dataclass
    class ChatRestored(Message):
        """A chat came back from the trash (and left the trash's list)."""

        chat: ChatRead

    @dataclass
    class Failed(Message):
        """Loading or changing chats failed; the parent tells the user."""

        error: SynergiaError

    def __init__(
        self,
        *,
        clock: Callable[[], datetime],
        page_size: int = CHAT_PAGE,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.services: AsyncServices | None = None
        self.clock = clock
        self.page_size = page_size
        self.chats: list[ChatRead] = []
        self.has_more = False
        self.now: datetime | None = None
        self._live_chats: frozenset[uuid.UUID] = frozenset()
        self.load_failed = False
        self._query = ""
        self._cursor: Any = None
        self._generation = 0
        self._loading_more = False
        self._first_page: list[ChatTitle] | None = None
        """Shown until the first load: chats read before the services were up."""
        self._picked_early: uuid.UUID | None = None
        """A chat of the first page the user picked; opened once the first load has it."""
        self.showing_trash = False
        """The list shows the deleted chats (``show_trash``) instead of the live ones."""

    def on_mount(self) -> None:
        self.set_loading(True)
        self.set_interval(60, self._refresh_times)

    @property
    def live_chats(self) -> frozenset[uuid.UUID]:
        """Chats with a reply streaming now; they are marked in the list."""
        return self._live_chats

    @live_chats.setter
    def live_chats(self, chats: set[uuid.UUID] | frozenset[uuid.UUID]) -> None:
        changed = frozenset(chats) ^ self._live_chats
        self._live_chats = frozenset(chats)
        for index, chat in enumerate(self.chats):
            if chat.id in changed:
                self.chat_list.replace_option_prompt_at_index(index, self._prompt(chat))

    def compose(self) -> ComposeResult:
        yield ChatFilter(placeholder="Filter chats…", id="chat-filter", compact=True)
        yield ChatList(id="chat-list", markup=False, compact=True)
        yield Static("", id="chat-list-empty", markup=False)

    @property
    def chat_list(self) -> ChatList:
        return self.query_one(ChatList)

    @property
    def filter_text(self) -> str:
        """What the filter box holds."""
        return self.query_one(ChatFilter).value

    @property
    def highlighted_chat(self) -> ChatRead | None:
        index = self.chat_list.highlighted
        return self.chats[index] if index is not None and index < len(self.chats) else None

    def set_loading(self, loading: bool) -> None:
        self.chat_list.loading = loading

    # -- loading -------------------------------------------------------------------------------

    @work(group="chats", exclusive=True)
    async def load_chats(self, query: str, *, debounce: bool = True) -> None:
        """Reload the first page for ``query`` (latest request wins)."""
        services = self.services
        if services is None:
            return
        if debounce:
            await asyncio.sleep(FILTER_DEBOUNCE_S)
        self._generation += 1
        self._query = query
        self.workers.cancel_group(self, "chats-more")
        self._loading_more = False
        listing = services.chats.list_trash if self.showing_trash else services.chats.list_chats
        try:
            page = await listing(limit=self.page_size, query=query)
        except SynergiaError as err:
            self.load_failed = True
            self.drop_first_page()
            self.set_loading(False)
            self.post_message(self.Failed(err))
            return
        self.load_failed = False
        self._cursor = page.next_cursor
        self.now = self.clock()
        highlighted = self._leave_first_page()
        self.show_chats(page.chats, has_more=page.next_cursor is not None, query=query)
        self.set_loading(False)
        if self.showing_trash:
            if self.chats:  # the open chat is not in the trash: start at the top
                self.chat_list.highlighted = 0
        elif self.current_chat is not None:
            self.select_chat(self.current_chat.id)
        elif highlighted is not None:
            self.select_chat(highlighted)
        self._open_picked_early()

    def reload_if_failed(self) -> None:
        """Try the last load again if it failed (the database is back)."""
        if self.load_failed:
            self.load_chats(self._query, debounce=False)

    @work(group="chats-more")
    async def load_more_chats(self) -> None:
        """Append the next page."""
        services = self.services
        if services is None or self._cursor is None or self._loading_more:
            return
        self._loading_more = True
        generation = self._generation
        listing = services.chats.list_trash if self.showing_trash else services.chats.list_chats
        try:
            page = await listing(limit=self.page_size, after=self._cursor, query=self._query)
        except SynergiaError as err:
            self.post_message(self.Failed(err))
            return
        finally:
            self._loading_more = False
        if generation != self._generation:
            return  # the filter changed meanwhile; this page belongs to the old list
        self._cursor = page.next_cursor
        self.append_chats(page.chats, has_more=page.next_cursor is not None)

    # -- changing ------------------------------------------------------------------------------

    @work(group="write")
    async def create_chat(
        self, model_id: uuid.UUID | None, system_prompt: str | None = None
    ) -> None:
        """Store a new chat (with ``model_id`` and ``system_prompt``, if any); the parent opens
        it and lists it."""
        if self.services is None:
            return
        try:
            chat = await self.services.chats.create_chat(
                model_id=model_id, system_prompt=system_prompt
            )
        except SynergiaError as err:
            self.post_message(self.Failed(err))
            return
        # Not listed here: it shows up once the screen has made it the open chat, so a prompt
        # typed after it appears goes to it.
        self.post_message(self.ChatCreated(chat))

    @work(group="write")
    async def rename_chat(self, chat: ChatRead, title: str) -> None:
        if self.services is None:
            return
        try:
            renamed = await self.services.chats.rename_chat(chat.id, title)
        except SynergiaError as err:
            self.post_message(self.Failed(err))
            return
        self.upsert_chat(renamed, to_top=False)
        self.notify(f"Renamed to “{renamed.title}”.")
        self.post_message(self.ChatRenamed(renamed))

    @work(group="write")
    async def delete_chat(self, chat: ChatRead) -> None:
        if self.services is None:
            return
        try:
            await self.services.chats.delete_chat(chat.id)
        except SynergiaError as err:
            self.post_message(self.Failed(err))
            return
        self.remove_chat(chat.id)
        self.notify(f"Deleted “{chat.title}”.")
        self.post_message(self.ChatDeleted(chat))

    def show_trash(self, trash: bool) -> None:
        """Show the deleted chats (``trash``) or the live ones, under the same filter."""
        if trash == self.showing_trash:
            return
        self.showing_trash = trash
        self.query_one(ChatFilter).placeholder = "Filter the trash…" if trash else "Filter chats…"
        self.set_class(trash, "-trash")
        self.load_chats(self.filter_text, debounce=False)

    @work(group="write")
    async def restore_chat(self, chat: ChatRead) -> None:
        """Take ``chat`` out of the trash; it leaves the trash's list."""
        if self.services is None:
            return
        try:
            restored = await self.services.chats.restore_chat(chat.id)
        except SynergiaError as err:
            self.post_message(self.Failed(err))
            return
        if self.showing_trash:
            self.remove_chat(chat.id)
            if not self.chats:
                self._show_empty_state(False, query=self._query)
        self.notify(f"Restored “{one_line(restored.title)}”.")
        self.post_message(self.ChatRestored(restored))

    # -- the first page, before the services are up ---------------------------------------------

    def show_first_page(self, chats: list[ChatTitle]) -> None:
        """Show the newest chats as read at start-up (``core.first_page``) until the first load.

        They are shown as the list will show them; picking one opens it as soon as the services
        are up. Ignored once a load has shown the real page.
        """
        if self.services is not None:
            return
        self._first_page = list(chats)
        self.now = self.clock()
        chat_list = self.chat_list
        chat_list.clear_options()
        chat_list.add_options([Option(self._prompt(chat), id=str(chat.id)) for chat in chats])
        self._show_empty_state(bool(chats), query="")
        self.set_loading(False)

    def drop_first_page(self) -> None:
        """Take the first page away (the database turned out unusable)."""
        if self._first_page is not None:
            self._first_page = None
            self._picked_early = None
            self.chat_list.clear_options()

    def _leave_first_page(self) -> uuid.UUID | None:
        """The real page replaces the first one: which chat was highlighted in it, if any."""
        if self._first_page is None:
            return None
        index = self.chat_list.highlighted
        first, self._first_page = self._first_page, None
        return first[index].id if index is not None and index < len(first) else None

    def _open_picked_early(self) -> None:
        picked, self._picked_early = self._picked_early, None
        chat = next((c for c in self.chats if c.id == picked), None)
        if chat is not None:
            self.post_message(self.ChatSelected(chat))

    # -- showing -------------------------------------------------------------------------------

    def show_chats(self, chats: list[ChatRead], *, has_more: bool, query: str = "") -> None:
        """Replace the list with a fresh first page."""
        self.chats = list(chats)
        self.has_more = has_more
        chat_list = self.chat_list
        chat_list.clear_options()
        chat_list.add_options([self._option(chat) for chat in self.chats])
        self._show_empty_state(bool(self.chats), query=query)

    def _show_empty_state(self, any_chats: bool, *, query: str) -> None:
        empty = self.query_one("#chat-list-empty", Static)
        if any_chats:
            empty.update("")
        elif query:
            empty.update(f"No chat titles contain “{one_line(query)}”.")
        elif self.showing_trash:
            empty.update("The trash is empty.")
        else:
            empty.update("No chats yet. Type a prompt, or ctrl+n for a new chat.")
        empty.display = not any_chats
        self.chat_list.display = any_chats

    def append_chats(self, chats: list[ChatRead], *, has_more: bool) -> None:
        """Add the next page below the loaded chats."""
        known = {chat.id for chat in self.chats}
        fresh = [chat for chat in chats if chat.id not in known]
        self.chats.extend(fresh)
        self.has_more = has_more
        self.chat_list.add_options([self._option(chat) for chat in fresh])

    def upsert_chat(self, chat: ChatRead, *, to_top: bool = True) -> None:
        """Show ``chat`` as it is now; with ``to_top`` it moves to the top (newest activity)."""
        index = next((i for i, c in enumerate(self.chats) if c.id == chat.id), None)
        if index is not None and not to_top:
            self.chats[index] = chat
            self.chat_list.replace_option_prompt_at_index(index, self._prompt(chat))
            return
        if index is not None:
            self.chats.pop(index)
        self.chats.insert(0, chat)
        self._rebuild(select=chat.id)

    @work(group="chats-sync", exclusive=True)
    async def take_stored(self) -> None:
        """Another session changed this user's chats: read the chats shown again (as many as
        are loaded, newest activity first) and show them, new, renamed, gone. The highlight
        stays on its chat; nothing is redrawn when nothing changed."""
        services = self.services
        if services is None or self.load_failed:
            return
        generation = self._generation
        listing = services.chats.list_trash if self.showing_trash else services.chats.list_chats
        try:
            page = await listing(limit=max(self.page_size, len(self.chats)), query=self._query)
        except SynergiaError:
            return  # the status bar says the database is down; the list stays as it was
        if generation != self._generation:
            return  # a load of another list went ahead meanwhile
        if [(c.id, c.title, c.updated_at, c.model_name) for c in page.chats] == [
            (c.id, c.title, c.updated_at, c.model_name) for c in self.chats
        ]:
            return
        highlighted = self.highlighted_chat
        self.now = self.clock()
        self._cursor = page.next_cursor
        self.show_chats(page.chats, has_more=page.next_cursor is not None, query=self._query)
        self.select_chat(highlighted.id if highlighted is not None else None)

    def remove_chat(self, chat_id: uuid.UUID) -> None:
        self.chats = [chat for chat in self.chats if chat.id != chat_id]
        self._rebuild()

    def select_chat(self, chat_id: uuid.UUID | None) -> None:
        """Highlight ``chat_id`` if it is loaded."""
        index = next((i for i, c in enumerate(self.chats) if c.id == chat_id), None)
        if index is not None:
            self.chat_list.highlighted = index

    def _refresh_times(self) -> None:
        """Re-render the relative times (the clock moved on)."""
        self.now = self.clock()
        for index, chat in enumerate(self.chats):
            self.chat_list.replace_option_prompt_at_index(index, self._prompt(chat))

    def _rebuild(self, select: uuid.UUID | None = None) -> None:
        chat_list = self.chat_list
        chat_list.clear_options()
        chat_list.add_options([self._option(chat) for chat in self.chats])
        self.query_one("#chat-list-empty", Static).display = not self.chats
        chat_list.display = bool(self.chats)
        if select is not None:
            self.select_chat(select)

    def _option(self, chat: ChatRead) -> Option:
        return Option(self._prompt(chat), id=str(chat.id))

    def _prompt(self, chat: ChatRead | ChatTitle) -> Table:
        # Text objects, not strings: a title is shown as typed, never parsed as markup.
        grid = Table.grid(expand=True)
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        grid.add_column(justify="right", no_wrap=True, style="dim")
        age = relative_time(chat.updated_at, self.now) if self.now else ""
        if chat.id in self._live_chats:
            age = f"{LIVE_MARK} {age}".rstrip()
        grid.add_row(Text(one_line(chat.title)), Text(f" {age}"))
        return grid

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.load_chats(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.chat_list.focus()

    def on_chat_list_near_end(self, event: ChatList.NearEnd) -> None:
        event.stop()
        if self.has_more and not self._loading_more and self._cursor is not None:
            self.load_more_chats()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self.showing_trash:
            # A deleted chat is not opened (its messages stay out of sight until it is back).
            self.notify("This chat is in the trash: r restores it, f9 leaves the trash.")
        elif event.option_index < len(self.chats):
            self.post_message(self.ChatSelected(self.chats[event.option_index]))
        elif self._first_page is not None and event.option_index < len(self._first_page):
            self._picked_early = self._first_page[event.option_index].id
