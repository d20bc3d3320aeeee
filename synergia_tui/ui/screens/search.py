"""The search screen (ctrl+f): every chat's messages and titles, searched as you type.

Focus stays in the query box, so typing always searches; up/down/pageup/pagedown move through
the results and enter opens the one highlighted. Each keystroke starts a new search and cancels
the one before (``exclusive``), and results that arrive for an older query are dropped: what is
shown is always for what is typed. Scrolling to the last result loads the next page.

Snippets are the database's, with the matched words between ``MARK_START`` and ``MARK_END``:
they are split there and drawn as plain text (control characters made visible), never as markup.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from synergia_tui.core.errors import SynergiaError
from synergia_tui.core.safe_text import one_line
from synergia_tui.models.search import MARK_END, MARK_START, SearchHit
from synergia_tui.ui.format import relative_time
from synergia_tui.ui.screens.model_picker import FilterInput
from synergia_tui.ui.widgets.message_view import ROLE_LABELS

if TYPE_CHECKING:
    from synergia_tui.services.facade import AsyncServices

SEARCH_PAGE = 30
CHAT_HITS = 200
"""Find in chat lists up to this many matches, in reading order (``n``/``N`` reach them all)."""
TYPING_PAUSE_S = 0.08
"""A search starts once typing pauses this long (each keystroke cancels the one waiting)."""
MATCH_STYLE = "bold underline reverse"


@dataclass(frozen=True)
class SearchChoice:
    """The result the user opened, and what they searched for (highlighted in the chat)."""

    chat_id: uuid.UUID
    message_id: uuid.UUID | None
    query: str


def snippet_text(snippet: str) -> Text:
    """A snippet as one line of plain text with its matches styled (``MARK_START``…``MARK_END``)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    inside = False
    for part in snippet.replace(MARK_END, MARK_START).split(MARK_START):
        if part:
            text.append(one_line(part), MATCH_STYLE if inside else "")
        inside = not inside
    return text


def hit_text(hit: SearchHit, now: datetime, *, with_chat: bool, width: int) -> Text:
    """Two lines of at most ``width`` cells: where the hit is (chat title, who wrote it,
    when), then its snippet."""
    where = Text(no_wrap=True, overflow="ellipsis")
    if hit.message_id is None:
        where.append("Chat title", "italic")
    else:
        if with_chat:
            where.append(one_line(hit.chat_title), "bold")
            where.append(" · ")
        where.append(ROLE_LABELS.get(hit.role or "", one_line(hit.role or "")))
    where.append(f" · {relative_time(hit.created_at, now)}", "dim")
    snippet = snippet_text(hit.snippet)
    for line in (where, snippet):
        line.truncate(max(1, width), overflow="ellipsis")
    return Text("\n").join([where, snippet])


def _reading_order(hit: SearchHit) -> tuple[datetime, str]:
    return hit.created_at, str(hit.message_id)


class SearchScreen(ModalScreen[SearchChoice | None]):
    """Search as you type; dismisses with the result opened, or None on escape.

    ``chat_id`` limits the search to one chat (find in chat, from the message cursor): its
    matching messages are listed in reading order, the first one after ``after`` (the time of
    the message under the cursor) highlighted.
    """

    DEFAULT_CSS = """
    SearchScreen {
        align: center middle;
    }
    #search {
        width: 100%;
        max-width: 120;
        height: 100%;
        max-height: 40;
        margin: 0 1;
        border: round $primary;
        border-title-color: $primary;
        border-title-style: bold;
    }
    #search-status {
        color: $text-muted;
        padding: 0 1;
        height: auto;
        max-height: 3;
        &.-error {
            color: $error;
            text-style: bold;
        }
    }
    #search-results {
        height: 1fr;
        border: none;
    }
    """

    BINDINGS = [
        Binding("enter", "open", "Open", id="search.open"),
        Binding("escape", "close", "Close", id="search.close"),
        Binding("up", "move(-1)", "Up", show=False, id="search.up"),
        Binding("down", "move(1)", "Down", show=False, id="search.down"),
        Binding("pageup", "move(-8)", "Page up", show=False, id="search.page_up"),
        Binding("pagedown", "move(8)", "Page down", show=False, id="search.page_down"),
    ]

    def __init__(
        self,
        services: AsyncServices,
        *,
        clock: Callable[[], datetime],
        query: str = "",
        chat_id: uuid.UUID | None = None,
        chat_title: str | None = None,
        after: datetime | None = None,
    ) -> None:
        super().__init__()
        self.services = services
        self.clock = clock
        self.initial_query = query
        self.chat_id = chat_id
        self.chat_title = chat_title
        self.after = after
        self.hits: list[SearchHit] = []
        self.shown_query = ""  # the query the results are for
        self._more = False  # a next page may exist
        self._more_in_chat = False  # find in chat: more matches than listed
        self._generation = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="search"):
            placeholder = 'Words, "a phrase", a prefix*'
            yield FilterInput(self.initial_query, placeholder=placeholder, id="search-query")
            yield Static("", id="search-status", markup=False)
            yield OptionList(id="search-results")
        yield Footer()

    def on_mount(self) -> None:
        box = self.query_one("#search")
        if self.chat_id is None:
            box.border_title = "Search every chat"
        else:
            box.border_title = f"Find in “{one_line(self.chat_title or 'this chat')}”"
        self.query_one("#search-results", OptionList).can_focus = False  # typing stays in the box
        self.query_one("#search-query", Input).focus()
        self._status("Type to search." if not self.initial_query else "Searching…")
        if self.initial_query:
            self._search(self.initial_query, pause=0)

    @property
    def results(self) -> OptionList:
        return self.query_one("#search-results", OptionList)

    @property
    def highlighted(self) -> SearchHit | None:
        index = self.results.highlighted
        return self.hits[index] if index is not None and 0 <= index < len(self.hits) else None

    def _status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#search-status", Static)
        status.update(text)
        status.set_class(error, "-error")

    # -- searching ----------------------------------------------------------------------------

    @on(Input.Changed, "#search-query")
    def _query_changed(self, event: Input.Changed) -> None:
        self._search(event.value)

    def _search(self, query: str, *, pause: float = TYPING_PAUSE_S) -> None:
        self._generation += 1
        if not query.strip():
            self.workers.cancel_group(self, "search")
            self._show([], query, more=False)
            self._status("Type to search.")
            return
        self._run_search(query, self._generation, pause)

    @work(group="search", exclusive=True)
    async def _run_search(self, query: str, generation: int, pause: float) -> None:
        if pause:
            await asyncio.sleep(pause)  # cancelled by the next keystroke (exclusive)
        search = self.services.search
        if search is None:
            return
        in_chat = self.chat_id is not None
        try:
            hits = await search.search(
                query, chat_id=self.chat_id, limit=CHAT_HITS if in_chat else SEARCH_PAGE
            )
        except SynergiaError as err:
            if generation == self._generation:
                self._show([], query, more=False)
                self._status(str(err), error=True)
            return
        if generation != self._generation:
            return  # a newer query was typed meanwhile: its results are the ones shown
        if in_chat:
            more = len(hits) == CHAT_HITS
            found = sorted((h for h in hits if h.message_id is not None), key=_reading_order)
            self._show(found, query, more=False)
            self._more_in_chat = more
            self._count()
            return
        self._show(hits, query, more=len(hits) == SEARCH_PAGE)

    def _show(self, hits: list[SearchHit], query: str, *, more: bool) -> None:
        self.hits = list(hits)
        self.shown_query = query
        self._more = more
        results = self.results
        results.clear_options()
        now = self.clock()
        with_chat = self.chat_id is None
        width = self._text_width()
        results.add_options(
            Option(hit_text(hit, now, with_chat=with_chat, width=width)) for hit in hits
        )
        if hits:
            after = self.after
            later = [i for i, h in enumerate(hits) if after is not None and h.created_at > after]
            results.highlighted = later[0] if later and self.chat_id is not None else 0
        self._count()

    def _text_width(self) -> int:
        results = self.results
        return results.scrollable_content_region.width - results.scrollbar_size_vertical - 2

    def _count(self) -> None:
        if not self.shown_query.strip():
            return
        n = len(self.hits)
        if not n:
            self._status(f"Nothing matches “{one_line(self.shown_query)}”.")
        else:
            plus = "+" if self._more or self._more_in_chat else ""
            what = f"{n}{plus} result{'s' if n != 1 or plus else ''} · enter opens"
            if self.chat_id is not None:
                what += " · in reading order; then n / N"
            self._status(what)

    @work(group="search-more", exclusive=True)
    async def _load_more(self) -> None:
        search, generation, query = self.services.search, self._generation, self.shown_query
        if search is None or not self._more:
            return
        self._more = False  # one page at a time
        try:
            hits = await search.search(
                query, chat_id=self.chat_id, limit=SEARCH_PAGE, offset=len(self.hits)
            )
        except SynergiaError as err:
            self._status(str(err), error=True)
            return
        if generation != self._generation:
            return
        self.hits.extend(hits)
        self._more = len(hits) == SEARCH_PAGE
        now = self.clock()
        with_chat = self.chat_id is None
        width = self._text_width()
        self.results.add_options(
            Option(hit_text(h, now, with_chat=with_chat, width=width)) for h in hits
        )
        self._count()

    # -- keys ---------------------------------------------------------------------------------

    def action_move(self, step: int) -> None:
        results = self.results
        if not self.hits:
            return
        index = results.highlighted if results.highlighted is not None else -1
        results.highlighted = min(max(index + step, 0), len(self.hits) - 1)
        if results.highlighted >= len(self.hits) - 3 and self._more:
            self._load_more()

    @on(OptionList.OptionSelected, "#search-results")
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        self.results.highlighted = event.option_index
        self.action_open()

    def action_open(self) -> None:
        hit = self.highlighted
        if hit is None:
            return
        self.dismiss(SearchChoice(hit.chat_id, hit.message_id, self.shown_query))

    def action_close(self) -> None:
        self.dismiss(None)
