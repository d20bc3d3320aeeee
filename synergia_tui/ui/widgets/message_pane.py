"""The message pane: a window onto the open chat, at the same cost for 10 messages or 10,000.

Only the messages near the view are mounted. As the view nears an edge of that window the next
page is loaded beyond it (``AHEAD_SCREENS``), and messages further than ``KEEP_SCREENS`` behind
the view are unmounted, in both directions, so what is mounted stays a few screens whatever the
chat's length and however far the user reads. The view stays exactly where the user left it as
pages come and go. ``home``/``end`` (and ``first_message``/``newest_message``) replace the window
by the chat's first or newest page, and ``show_message`` by the page around a message, without
mounting what lies between. The scrollbar says where the view is in the whole chat (by message
count), not in the mounted window.

It loads pages itself (through the async facade, in workers). Each message is a ``MessageView``
(see ``message_view`` for how a streaming reply grows).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from textual import work
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.scrollbar import ScrollBarRender, ScrollTo
from textual.timer import Timer
from textual.widgets import Static

from synergia_tui.core.errors import SynergiaError
from synergia_tui.core.pages import MessageCursor
from synergia_tui.core.search_marks import pattern_for
from synergia_tui.core.search_query import parse
from synergia_tui.ui.messages import Activity, WidgetsDropped
from synergia_tui.ui.widgets.message_view import MessageView
from synergia_tui.ui.widgets.offline_render import DrawnLines

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from synergia_tui.models import ChatRead, MessageRead
    from synergia_tui.services import MessagePage
    from synergia_tui.services.facade import AsyncServices

MESSAGE_PAGE = 8  # a few screens of replies: opening a chat of 10,000 messages mounts only these
JUMP_PAGE = 6
"""The page a new window starts with (opening a chat, home/end, a jump to a message): what
fills the view at once; the pages beyond follow as loads ahead."""
AHEAD_SCREENS = 1.0
"""Load the next page once the view is this many screens from an edge of the mounted window."""
KEEP_SCREENS = 3.0
"""Unmount messages that are further than this many screens beyond the view."""
KEYS_SETTLE_S = 0.15
"""The footer shows the selected message's keys once the cursor has rested this long."""

Direction = Literal["older", "newer"]


def _cursor(message: MessageRead) -> MessageCursor:
    return MessageCursor(message.created_at, message.id)


def _keys_for(message: MessageRead | None) -> tuple[object, ...] | None:
    """What decides which message keys apply (``MessagePane.check_action``)."""
    if message is None:
        return None
    return (message.role, message.status == "streaming", message.siblings > 1)


class MessagePane(VerticalScroll):
    """The open chat. Its parent sets ``services``, then asks it to ``open_chat``; the pane
    posts ``ChatOpened`` once the chat is shown, or ``Failed``."""

    BINDINGS = [
        Binding("home", "first_message", "First message", show=False, id="pane.first"),
        Binding("end", "newest_message", "Newest message", show=False, id="pane.newest"),
        # The message cursor (alt+up / alt+down from anywhere on the screen start it).
        Binding("up", "move_cursor(-1)", "Previous message", show=False, id="pane.cursor_up"),
        Binding("down", "move_cursor(1)", "Next message", show=False, id="pane.cursor_down"),
        Binding("enter", "act('menu')", "Actions", id="pane.menu"),
        Binding("c", "act('copy')", "Copy", id="pane.copy"),
        Binding("q", "act('quote')", "Quote", id="pane.quote"),
        Binding("e", "act('edit')", "Edit", id="pane.edit"),
        Binding("r", "act('regenerate')", "Regenerate", id="pane.regenerate"),
        Binding("f", "act('fork')", "Fork", id="pane.fork"),
        Binding("left", "act('previous_version')", "◀", id="pane.previous_version"),
        Binding("right", "act('next_version')", "▶", id="pane.next_version"),
        Binding("escape", "leave_cursor", "Prompt", id="pane.leave"),
        # A search's matches in this chat (ctrl+f, or / from here): next, previous, find.
        Binding("n", "next_match(1)", "Next match", show=False, id="pane.next_match"),
        Binding("N", "next_match(-1)", "Previous match", show=False, id="pane.previous_match"),
        Binding("slash", "find_in_chat", "Find", show=False, id="pane.find"),
    ]

    @dataclass
    class ChatOpened(Message):
        """``chat``'s newest messages are shown."""

        chat: ChatRead
        focus_prompt: bool = True

    @dataclass
    class Failed(Message):
        """Loading messages failed; the parent tells the user."""

        error: SynergiaError

    @dataclass
    class Act(Message):
        """The user asked for ``action`` on the selected message (``menu``, ``copy``,
        ``quote``, ``edit``, ``regenerate``, ``fork``, ``previous_version``, ``next_version``);
        the room carries it out."""

        action: str
        message: MessageRead

    class CursorLeft(Message):
        """The user left the message cursor (escape): back to the prompt."""

    class FindWanted(Message):
        """The user asked to search this chat (``/``); the parent opens the search screen."""

    @dataclass
    class Notice(Message):
        """Something to tell the user (no match below, say); the parent shows it."""

        text: str

    @dataclass
    class StreamingShown(Message):
        """A reply still ``streaming`` in the database was mounted from a page: if this process
        is streaming it, its parent reconnects it (``resume_reply``)."""

        message_id: uuid.UUID

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.services: AsyncServices | None = None
        self.chat_id: uuid.UUID | None = None  # the chat whose pages are loaded, if any
        self.has_older = False  # messages older than the window's first exist
        self.has_newer = False  # messages newer than the window's last exist
        self.first_index = 0  # the window's first message's place in the chat
        self.total = 0  # the chat's number of messages
        # A page beyond an edge of the window is being read. (Not ``loading``: that is Textual's,
        # and would cover the pane with a loading indicator and take its keys meanwhile.)
        self.paging = False
        self._generation = 0  # bumped each time the window is replaced: late pages are dropped
        self._step_wanted = 0  # a cursor step pressed at the window's edge, while a page loads
        self._keys_shown: tuple[object, ...] | None = None  # what the footer's keys were for
        self._keys_timer: Timer | None = None
        self._placing = False  # a new window is not yet scrolled to its place: no edge loads
        self._streaming: dict[uuid.UUID, MessageView] = {}  # message id -> its growing view
        self._last_reply: MessageRead | None = None
        self._drawn = DrawnLines()  # finished messages' lines, shared by their views
        self._drawable: dict[MessageView, None] = {}  # views whose body is ready to be drawn
        self._drag: tuple[object, float] | None = None  # a scrollbar drag: its grab, start index
        self.search_query: str | None = None
        """What was searched for (ctrl+f): its matches are marked, ``n``/``N`` step to them."""
        self._highlight: re.Pattern[str] | None = None
        self.selected: uuid.UUID | None = None
        """The message under the cursor (alt+up / alt+down), if any; kept while its view is
        unmounted and mounted again."""

    def compose(self) -> ComposeResult:
        yield Static("", id="pane-placeholder", markup=False)

    def on_mount(self) -> None:
        pane = self

        class ChatPosition(ScrollBarRender):
            """The scrollbar's thumb by message count: where the view is in the whole chat."""

            def __init__(self, **kwargs: Any) -> None:
                super().__init__(**kwargs)
                where = pane.chat_position()
                if where is not None and self.window_size:
                    index, shown, total = where
                    scale = 64  # the bar is drawn from ratios; this keeps them fine-grained
                    self.virtual_size = total * scale
                    self.window_size = max(1, round(shown * scale))
                    self.position = index * scale

        # Textual documents setting the renderer on one scrollbar instance (a ClassVar to mypy).
        self.vertical_scrollbar.renderer = ChatPosition  # type: ignore[misc]
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def on_message_view_drawable(self, event: MessageView.Drawable) -> None:
        event.stop()
        if not self._drawable:
            self.call_after_refresh(self._draw_bodies)
        self._drawable[event.view] = None

    async def _draw_bodies(self) -> None:
        """Draw every view whose body is ready, at once: one layout for all their swaps."""
        views = [view for view in self._drawable if view.parent is self]
        self._drawable.clear()
        swaps = [(view, swap) for view in views if (swap := view.draw_body()) is not None]
        if not swaps:
            return
        with self.app.batch_update():
            await asyncio.gather(*(view.mount(lines, before=body) for view, (body, lines) in swaps))
            await asyncio.gather(*(body.remove() for _, (body, _) in swaps))
        self.post_message(WidgetsDropped(len(swaps)))  # their Markdown widgets are garbage now

    async def _theme_changed(self, _theme: object) -> None:
        # Drawn lines carry the old theme's colours: draw the mounted messages again.
        self._drawn.clear()
        for view in self.views:
            await view.redraw()

    @property
    def views(self) -> list[MessageView]:
        return list(self.query_children(MessageView))

    @property
    def messages(self) -> list[MessageRead]:
        """The mounted messages, in order."""
        return [view.message for view in self.views]

    @property
    def windowed(self) -> bool:
        """Part of the chat lies beyond the mounted messages."""
        return self.has_older or self.has_newer

    async def show_placeholder(self, text: str) -> None:
        """Empty the pane and show ``text`` (no chat open, a start-up error, ...)."""
        self._generation += 1
        self.selected = None
        self.search_query = self._highlight = None
        self._forget_chat()  # first: no page is loaded for it while its messages go
        await self.remove_children(MessageView)
        placeholder = self.query_one("#pane-placeholder", Static)
        placeholder.update(text)
        placeholder.display = bool(text)

    def _forget_chat(self) -> None:
        self._streaming.clear()
        self.chat_id = None
        self.has_older = self.has_newer = False
        self.first_index = self.total = 0
        self._last_reply = None

    # -- replacing the window ------------------------------------------------------------------

    @work(group="open-chat", exclusive=True)
    async def open_chat(self, chat: ChatRead, *, focus_prompt: bool = True) -> None:
        """Show ``chat`` with only its newest messages mounted, then post ``ChatOpened``."""
        self.post_message(Activity())
        services = self.services
        if services is None:
            return
        try:
            page = await services.messages.list_messages(chat.id, limit=JUMP_PAGE)
        except SynergiaError as err:
            self.post_message(self.Failed(err))
            return
        self.set_search(None)
        await self._show_window(chat.id, page, at="end")
        self.post_message(self.ChatOpened(chat, focus_prompt=focus_prompt))

    @work(group="open-chat", exclusive=True)
    async def show_message(self, message_id: uuid.UUID, *, select: bool = False) -> None:
        """Show the open chat around ``message_id``, scrolled to it, its neighbours mounted
        (with ``select``, the cursor on it)."""
        services, chat_id = self.services, self.chat_id
        if services is None or chat_id is None:
            return
        try:
            page = await services.messages.messages_around(chat_id, message_id, limit=JUMP_PAGE)
        except SynergiaError as err:
            self.post_message(self.Failed(err))
            return
        if self.chat_id == chat_id:
            await self._show_window(chat_id, page, at=message_id, select=select)

    async def open_at(
        self,
        chat: ChatRead,
        message_id: uuid.UUID | None,
        *,
        select: bool = False,
        search: str | None = None,
    ) -> bool:
        """Open ``chat`` at ``message_id`` (or its newest message), with ``select`` the cursor
        on it, and ``search``'s words marked; False if it is not there."""
        services = self.services
        if services is None:
            return False
        try:
            if message_id is None:
                page = await services.messages.list_messages(chat.id, limit=JUMP_PAGE)
            else:
                page = await services.messages.messages_around(chat.id, message_id, limit=JUMP_PAGE)
        except SynergiaError as err:
            self.post_message(self.Failed(err))
            return False
        self.set_search(search)
        await self._show_window(chat.id, page, at=message_id or "end", select=select)
        self.post_message(self.ChatOpened(chat, focus_prompt=not (select and message_id)))
        return True

    # -- a search's matches ------------------------------------------------------------------

    def set_search(self, query: str | None) -> None:
        """Mark ``query``'s words in the chat shown, for ``n``/``N`` (None: no search)."""
        self.search_query = query or None
        self._highlight = pattern_for(parse(query)) if query else None
        for view in self.views:
            view.highlight = self._highlight
        self.refresh_bindings()

    def action_next_match(self, direction: int) -> None:
        if self.search_query is not None and self.chat_id is not None:
            self._step_to_match(self.search_query, self.chat_id, direction)

    def action_find_in_chat(self) -> None:
        self.post_message(self.FindWanted())

    def _shown_views(self) -> list[MessageView]:
        top, bottom = self.scroll_y, self.scroll_y + self.scrollable_content_region.height
        return [
            v for v in self.views if v.virtual_region.bottom > top and v.virtual_region.y < bottom
        ]

    @work(group="match", exclusive=True)
    async def _step_to_match(self, query: str, chat_id: uuid.UUID, direction: int) -> None:
        """Put the cursor on the next (``direction`` 1) or previous match of the search, from
        the selected message, else from what is on screen; the page around it is loaded when it
        is not mounted."""
        services = self.services
        if services is None or services.search is None:
            return
        # From the selected message; with none, from what is on screen, its first (or last)
        # message included. The database finds the match: a message is never scanned here.
        current = self.selected_view()
        start = current.message.id if current is not None else None
        if current is None:
            shown = self._shown_views() or self.views
            if shown:
                start = shown[0 if direction > 0 else -1].message.id
        try:
            found = await services.search.next_match(
                query, chat_id, start=start, direction=direction, inclusive=current is None
            )
            page = None
            if found is not None and all(v.message.id != found for v in self.views):
                page = await services.messages.messages_around(chat_id, found, limit=JUMP_PAGE)
        except SynergiaError as err:
            self.post_message(self.Failed(err))
            return
        if self.chat_id != chat_id or self.search_query != query:
            return  # another chat, or another search, meanwhile
        if found is None:
            where = "below" if direction > 0 else "above"
            self.post_message(self.Notice(f"No more matches {where}."))
        elif page is not None:
            await self._show_window(chat_id, page, at=found, select=True)
        else:
            self.select(next(v for v in self.views if v.message.id == found))
            self._check_edges()

    # -- dragging the scrollbar: by message index ----------------------------------------------

    def _on_scroll_to(self, message: ScrollTo) -> None:
        """A drag of the scrollbar's thumb moves through the whole chat, not the window: the
        thumb is drawn by message index (``ChatPosition``), and dragging it by a row moves the
        view by ``total / rows`` messages, mounting the page there when it is not mounted."""
        bar = self.vertical_scrollbar
        where = self.chat_position()
        if message.y is None or bar.grabbed is None or where is None or not bar.window_size:
            self._drag = None
            super()._on_scroll_to(message)
            return
        message.stop()
        grab = (bar.grabbed, bar.grabbed_position)
        if self._drag is None or self._drag[0] != grab:
            self._drag = (grab, where[0])  # the chat index under the thumb when it was grabbed
        rows = (
            (message.y - bar.grabbed_position) * bar.window_size / max(1, bar.window_virtual_size)
        )
        target = min(max(0.0, self._drag[1] + rows * self.total / bar.window_size), self.total - 1)
        index = int(target)
        views = self.views
        if self.first_index <= index < self.first_index + len(views):
            region = views[index - self.first_index].virtual_region
            y = region.y + (target - index) * region.height
            self.scroll_to(y=y, animate=False, immediate=True)
        else:
            self._jump_to_index(index)

    @work(group="open-chat", exclusive=True)
    async def _jump_to_index(self, index: int) -> None:
        services, chat_id = self.services, self.chat_id
        if services is None or chat_id is None:
            return
        try:
            message_id = await services.messages.message_at(chat_id, index)
            page = await services.messages.messages_around(chat_id, message_id, limit=JUMP_PAGE)
        except SynergiaError as err:
            self.post_message(self.Failed(err))
            return
        if self.chat_id == chat_id:
            await self._show_window(chat_id, page, at=message_id)

    def action_page_up(self) -> None:
        self.page(-1)

    def action_page_down(self) -> None:
        self.page(1)

    def page(self, direction: int) -> None:
        """Scroll a page up (-1) or down (1), at once: reading back through a long chat is a
        key per page, and an animated page would make each take half a second."""
        if direction < 0:
            self.scroll_page_up(animate=False)
        else:
            self.scroll_page_down(animate=False)

    def action_first_message(self) -> None:
        if not self.has_older:
            self.scroll_home(animate=False)
        else:
            self._go_to_edge("start")

    def action_newest_message(self) -> None:
        if not self.has_newer:
            self.scroll_end(animate=False)
        else:
            self._go_to_edge("end")

    @work(group="open-chat", exclusive=True)
    async def _go_to_edge(self, at: Literal["start", "end"]) -> None:
        await self.show_edge(at)

    async def show_edge(self, at: Literal["start", "end"]) -> None:
        """Replace the window by the chat's first or newest page."""
        services, chat_id = self.services, self.chat_id
        if services is None or chat_id is None:
            return
        self.post_message(Activity())
        try:
            if at == "start":
                page = await services.messages.first_messages(chat_id, limit=JUMP_PAGE)
            else:
                page = await services.messages.list_messages(chat_id, limit=JUMP_PAGE)
        except SynergiaError as err:
            self.post_message(self.Failed(err))
            return
        if self.chat_id == chat_id:
            await self._show_window(chat_id, page, at=at)

    async def show_messages(
        self,
        messages: list[MessageRead],
        *,
        has_older: bool,
        chat_id: uuid.UUID | None = None,
    ) -> None:
        """Show a freshly started chat's few messages (of ``chat_id``), scrolled to the newest."""
        self.selected = None
        self.search_query = self._highlight = None
        self._forget_chat()
        self._generation += 1
        await self._mount_window(messages)
        self.chat_id = chat_id
        self.has_older = has_older
        self.total = len(messages)
        self._remember_tail(messages)
        self.anchor()
        self.call_after_refresh(self._check_edges)

    async def _show_window(
        self,
        chat_id: uuid.UUID,
        page: MessagePage,
        *,
        at: Literal["start", "end"] | uuid.UUID,
        select: bool = False,
    ) -> None:
        """Replace the window by ``page``, placed ``at`` its start, end or a message (with
        ``select``, the cursor on that message; else the cursor stays only if its message is
        in the page)."""
        if select and isinstance(at, uuid.UUID):
            self.selected = at
        elif all(m.id != self.selected for m in page.messages):
            self.selected = None
        self._forget_chat()
        self._generation += 1
        self._placing = True
        views = await self._mount_window(page.messages, top=at != "end")
        self.chat_id = chat_id
        self.has_older = page.older_cursor is not None
        self.has_newer = page.newer_cursor is not None
        self.total = page.total if page.total is not None else len(page.messages)
        self.first_index = page.first_index or 0
        if not self.has_newer:
            self._remember_tail(page.messages)
        self._note_streaming(views)
        if at == "end" and not self.has_newer:
            self.anchor()
        else:
            self.anchor(False)
            target = next((v for v in views if v.message.id == at), None)

            def place() -> None:
                self._placing = False
                if at == "start":
                    self.scroll_home(animate=False, immediate=True)
                elif at == "end":
                    self.scroll_end(animate=False, immediate=True)
                elif target is not None:
                    self.scroll_to(y=target.virtual_region.y, animate=False, immediate=True)
                    if select:
                        self.select(target)  # its keys in the footer
                self._check_edges()

            self.call_after_refresh(place)
            return
        self._placing = False
        self.call_after_refresh(self._check_edges)

    async def _mount_window(
        self, messages: list[MessageRead], *, top: bool = False
    ) -> list[MessageView]:
        views = [self._view(m) for m in messages]
        if dropped := len(self.views):
            self.post_message(WidgetsDropped(dropped))
        with self.app.batch_update():
            await self.remove_children(MessageView)
            self.query_one("#pane-placeholder", Static).display = False
            await self.mount_all(views)
            if top:  # not a frame of the new messages at the old place
                self.scroll_to(y=0, animate=False, immediate=True)
        return views

    # -- the message cursor ----------------------------------------------------------------------

    def _view(self, message: MessageRead) -> MessageView:
        view = MessageView(message, self._drawn, self._highlight)
        if message.id == self.selected:
            view.add_class("-selected")
        return view

    def selected_view(self) -> MessageView | None:
        if self.selected is None:
            return None
        return next((v for v in self.views if v.message.id == self.selected), None)

    def selected_message(self) -> MessageRead | None:
        view = self.selected_view()
        return view.message if view is not None else None

    def move_cursor(self, step: int) -> None:
        """Select the message ``step`` places from the selected one (the first or last one on
        screen when none is), and scroll it into view. The window loads pages as the view
        nears its edges, so the next message is mounted by the time the cursor gets there;
        each step costs the same in a chat of any length."""
        views = self.views
        if not views:
            return
        current = self.selected_view()
        if current is None:
            top, bottom = self.scroll_y, self.scroll_y + self.scrollable_content_region.height
            shown = [
                v for v in views if v.virtual_region.bottom > top and v.virtual_region.y < bottom
            ]
            target = (shown or views)[-1 if step < 0 else 0]
        else:
            place = views.index(current) + step
            edge = min(max(place, 0), len(views) - 1)
            if edge != place and (self.has_older if step < 0 else self.has_newer):
                # The steps beyond the window's edge are kept, and taken once the page beyond
                # is mounted: keys pressed faster than pages load are not lost.
                self._step_wanted += place - edge
            target = views[edge]
        self.select(target)
        self._check_edges()

    def select(self, view: MessageView | None) -> None:
        """Put the cursor on ``view`` (None: take it away) and bring it into view."""
        old = self.selected_view()
        if old is not None:
            old.remove_class("-selected")
        self.selected = view.message.id if view is not None else None
        keys = _keys_for(view.message if view is not None else None)
        if keys != self._keys_shown:
            # Textual's footer is built anew on each refresh of the bindings, which costs ten
            # times a step of the cursor: while the cursor walks from message to message, the
            # footer follows once it rests (a key pressed meanwhile is still checked as it runs).
            walking = keys is not None and self._keys_shown is not None
            self._keys_shown = keys
            if self._keys_timer is not None:
                self._keys_timer.stop()
                self._keys_timer = None
            if walking:
                self._keys_timer = self.set_timer(KEYS_SETTLE_S, self.refresh_bindings)
            else:
                self.refresh_bindings()
        if view is None:
            return
        view.add_class("-selected")
        region, screen = view.virtual_region, self.scrollable_content_region.height
        if region.y < self.scroll_y or region.height > screen:
            self.scroll_to(y=region.y, animate=False, immediate=True)
        elif region.bottom > self.scroll_y + screen:
            self.scroll_to(y=region.bottom - screen, animate=False, immediate=True)

    def action_move_cursor(self, step: int) -> None:
        self.move_cursor(step)

    def action_act(self, action: str) -> None:
        message = self.selected_message()
        if message is not None:
            self.post_message(self.Act(action, message))

    def action_leave_cursor(self) -> None:
        self.select(None)
        self.post_message(self.CursorLeft())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The message keys work (and show in the footer) only with a message selected, and
        each only where it applies."""
        if action == "next_match":
            return self.search_query is not None
        if action == "find_in_chat":
            return self.chat_id is not None
        if action not in ("act", "leave_cursor"):
            return True
        message = self.selected_message()
        if message is None:
            return False
        what = parameters[0] if parameters else None
        if what == "edit":
            return message.role == "user"
        if what == "regenerate":
            return message.role == "assistant" and message.status != "streaming"
        if what in ("previous_version", "next_version"):
            return message.siblings > 1
        return True

    # -- moving the window's edges ---------------------------------------------------------------

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._check_edges()

    def _check_edges(self) -> None:
        """Load the next page beyond an edge the view is near."""
        if self.paging or self._placing or self.chat_id is None or self.services is None:
            return
        if not self.is_attached:
            return  # the app is closing
        screen = max(1, self.scrollable_content_region.height)
        if self.has_older and self.scroll_y < AHEAD_SCREENS * screen:
            self.paging = True
            self._load_page("older", self._generation)
        elif self.has_newer and self.max_scroll_y - self.scroll_y < AHEAD_SCREENS * screen:
            self.paging = True
            self._load_page("newer", self._generation)

    @work(group="message-pages")
    async def _load_page(self, direction: Direction, generation: int) -> None:
        """Mount the page just beyond the window's ``direction`` edge."""
        self.post_message(Activity())
        services, chat_id, views = self.services, self.chat_id, self.views
        try:
            if services is None or chat_id is None or not views:
                return
            if direction == "older":
                cursor = _cursor(views[0].message)
                page = await services.messages.list_messages(
                    chat_id, limit=MESSAGE_PAGE, before=cursor
                )
            else:
                cursor = _cursor(views[-1].message)
                page = await services.messages.list_messages(
                    chat_id, limit=MESSAGE_PAGE, after=cursor
                )
            if generation != self._generation or not self.views or not self.is_attached:
                return  # the window was replaced meanwhile (another chat, home, end, a jump)
            if direction == "older":
                await self._mount_above(page, generation)
            else:
                await self._mount_below(page)
        except SynergiaError as err:
            self.post_message(self.Failed(err))
        finally:
            self.paging = False
            self.call_after_refresh(self._check_edges)
            step, self._step_wanted = self._step_wanted, 0
            if step and generation == self._generation:
                # A cursor key pressed at the window's edge is not lost: it lands now.
                self.call_after_refresh(self.move_cursor, step)

    async def _mount_above(self, page: MessagePage, generation: int) -> None:
        """Mount older messages above the window, keeping the view where it was."""
        self.has_older = page.older_cursor is not None
        if not page.messages:
            return
        # A pane that does not fill up yet (short messages, a tall terminal) keeps showing the
        # newest message while older pages arrive to fill it.
        at_end = self.max_scroll_y == 0 and not self.has_newer
        first = self.views[0]
        first_y = first.virtual_region.y
        views = [self._view(m) for m in page.messages]
        await self.mount_all(views, before=first)
        self.first_index = max(0, self.first_index - len(views))
        self._note_streaming(views)

        def keep_place(tries: int = 10) -> None:
            if generation != self._generation:
                return
            if at_end or self._following():
                # scroll_end keeps the anchor (scroll_to would release it): the newest text
                # stays in view as the reply grows.
                self.scroll_end(animate=False, immediate=True)
            else:
                grown = first.virtual_region.y - first_y
                if grown <= 0 and tries and first.is_attached:
                    # The new messages are not laid out yet: put the view back once they are.
                    self.call_after_refresh(keep_place, tries - 1)
                    return
                self.scroll_to(y=self.scroll_y + grown, animate=False, immediate=True)
            self._trim_below()

        self.call_after_refresh(keep_place)

    async def _mount_below(self, page: MessagePage) -> None:
        """Mount newer messages below the window (the view stays: nothing above it moved)."""
        self.has_newer = page.newer_cursor is not None
        if page.messages:
            views = [self._view(m) for m in page.messages]
            await self.mount_all(views)
            self._note_streaming(views)
        if not self.has_newer:
            self._remember_tail(page.messages)
            self._anchor_at_end()
        generation = self._generation

        async def trim() -> None:
            if generation == self._generation:
                await self._trim_above()

        self.call_after_refresh(trim)

    def _trim_below(self) -> None:
        """Unmount messages more than ``KEEP_SCREENS`` below the view."""
        screen = max(1, self.scrollable_content_region.height)
        limit = self.scroll_y + screen * (1 + KEEP_SCREENS)
        views = self.views
        kept = len(views)
        while kept > 1 and views[kept - 1].virtual_region.y > limit:
            kept -= 1
        doomed = views[kept:]
        if not doomed:
            return
        self.has_newer = True
        self.anchor(False)
        self._drop(doomed)
        self.remove_children(doomed)

    async def _trim_above(self) -> None:
        """Unmount messages more than ``KEEP_SCREENS`` above the view, keeping the view."""
        views = self.views
        screen = max(1, self.scrollable_content_region.height)
        limit = self.scroll_y - screen * KEEP_SCREENS
        count = 0
        while count < len(views) - 1 and 0 < views[count].virtual_region.bottom < limit:
            count += 1
        doomed = views[:count]
        if not doomed:
            return
        kept = views[count]
        shift = kept.virtual_region.y - views[0].virtual_region.y
        self._drop(doomed)
        with self.app.batch_update():  # one frame: the messages gone and the view moved up
            await self.remove_children(doomed)
            self.first_index += len(doomed)
            self.has_older = True
            self.scroll_to(y=max(0, self.scroll_y - shift), animate=False, immediate=True)

    def _drop(self, views: list[MessageView]) -> None:
        for view in views:
            self._streaming.pop(view.message.id, None)
        self.post_message(WidgetsDropped(len(views)))

    def _following(self) -> bool:
        """The view follows the chat's end (anchored, and the user has not scrolled away)."""
        return self.is_anchored and not self._anchor_released

    def _anchor_at_end(self) -> None:
        """The window holds the chat's end again: follow new text once the view is back at the
        bottom. ``anchor()`` would jump there now; an anchor marked released is what Textual
        itself leaves when the user scrolls up, and it takes hold again at the bottom."""
        if not self.is_anchored:
            self._anchored = True
            self._anchor_released = True

    def _note_streaming(self, views: list[MessageView]) -> None:
        for view in views:
            if view.message.status == "streaming":
                self.post_message(self.StreamingShown(view.message.id))

    def _remember_tail(self, messages: list[MessageRead]) -> None:
        for message in reversed(messages):
            if message.role == "assistant" and message.content:
                self._last_reply = message
                return

    def chat_position(self) -> tuple[float, float, int] | None:
        """Where the view is in the whole chat: (index of the message at its top, with the
        fraction of it scrolled past; messages in view; messages in the chat), or None when
        the whole chat is mounted (the scrollbar's own measure is exact then)."""
        if not self.windowed or not self.total:
            return None
        top, bottom = self.scroll_y, self.scroll_y + self.scrollable_content_region.height
        index: float | None = None
        shown = 0.0
        for number, view in enumerate(self.views):
            region = view.virtual_region
            if region.bottom <= top or not region.height:
                continue
            if region.y >= bottom:
                break
            if index is None:
                index = self.first_index + number + max(0.0, (top - region.y) / region.height)
            visible = min(bottom, region.bottom) - max(top, region.y)
            shown += visible / region.height
        if index is None:
            return None
        return min(index, float(self.total)), max(shown, 0.01), self.total

    # -- new messages at the chat's end ------------------------------------------------------------

    async def _at_newest(self) -> None:
        """Before a new message is shown: bring the window back to the chat's end."""
        if self.has_newer and self.chat_id is not None:
            await self.show_edge("end")

    async def append_message(self, message: MessageRead, *, follow: bool = True) -> MessageView:
        """Show a new message at the bottom (the window moves to the chat's end first) and
        return its view, mounted (ready to be streamed into). With ``follow`` False the view
        stays where the reader is (another session's message, say, while they read above).

        A new version of a turn (a prompt edited, a reply answered again) follows an earlier
        message than the last: what followed that one is another branch now, and goes."""
        await self._at_newest()
        for view in self.views:
            if view.message.id == message.id:
                return view  # the newest page already had it
        if not await self._cut_to_parent(message):
            await self.show_edge("end")  # the branch point is not mounted: the chat's end anew
            for view in self.views:
                if view.message.id == message.id:
                    return view
        self.query_one("#pane-placeholder", Static).display = False
        view = self._view(message)
        await self.mount(view)
        self.total += 1
        if follow:
            self.anchor()
        return view

    async def _cut_to_parent(self, message: MessageRead) -> bool:
        """Unmount the views after ``message``'s parent (all of them for a first prompt); False
        when its parent is not mounted."""
        views = self.views
        if not views or (views and views[-1].message.id == message.parent_id):
            return True
        found: int | None = -1  # a first prompt: everything goes
        if message.parent_id is not None:
            ids = [v.message.id for v in views]
            found = ids.index(message.parent_id) if message.parent_id in ids else None
        if found is None or (found < 0 and self.has_older):
            return False
        place = found
        doomed = views[place + 1 :]
        self._drop(doomed)
        if self._last_reply is not None and any(
            v.message.id == self._last_reply.id for v in doomed
        ):
            self._last_reply = None
        await self.remove_children(doomed)
        self.total = self.first_index + place + 1
        return True

    # -- what another session stored (live sync) ------------------------------------------------

    async def take_stored(
        self, newest: list[MessageRead], *, local: set[uuid.UUID] | frozenset[uuid.UUID]
    ) -> None:
        """Show the chat's newest messages as stored (``newest``, in reading order), when another
        session changed the chat on screen: new ones are added at the end, one streaming there
        grows here as it is saved, one that ended shows as it ended. Messages this process is
        streaming (``local``) are its own business. Nothing moves when the reader is away from
        the chat's end: the window reads the end again when they come back to it."""
        if self.has_newer or self.chat_id is None:
            return
        for message in newest:
            if message.id in local or message.chat_id != self.chat_id:
                continue
            view = next((v for v in self.views if v.message.id == message.id), None)
            if view is None:
                last = self.views[-1].message if self.views else None
                if last is not None and (message.created_at, message.id.hex) < (
                    last.created_at,
                    last.id.hex,
                ):
                    continue  # older than what is shown: another branch, not news
                view = await self.append_message(message, follow=self._following())
                if message.status == "streaming":
                    self._streaming[message.id] = view
                    await view.resume_stream(message.content)
                continue
            shown = view.message
            if (shown.content, shown.status, shown.error) == (
                message.content,
                message.status,
                message.error,
            ):
                continue
            if message.status == "streaming":
                if message.id not in self._streaming:
                    self._streaming[message.id] = view
                    await view.resume_stream(message.content)
                elif message.content.startswith(shown.content):
                    await view.append_stream(message.content[len(shown.content) :])
                else:
                    await view.resume_stream(message.content)
                view.message = message
            elif message.id in self._streaming:
                await self.end_reply(message)
            else:
                await view.set_final(message)

    # -- a reply streaming into the chat on screen (the screen routes the engine's messages) --

    async def start_reply(self, message: MessageRead) -> None:
        """A reply of the chat on screen begins: show it, empty, at the bottom."""
        self._streaming[message.id] = await self.append_message(message)

    async def grow_reply(self, message_id: uuid.UUID, text: str) -> None:
        view = self._streaming.get(message_id)
        if text and view is not None and view.is_attached:
            await view.append_stream(text)

    async def end_reply(self, message: MessageRead) -> None:
        """The reply ended: show it as it ends (complete, cut, cancelled, failed)."""
        if message.chat_id == self.chat_id and message.content:
            self._last_reply = message
        view = self._streaming.pop(message.id, None)
        if view is not None and view.is_attached:
            await view.set_final(message)

    async def resume_reply(self, message_id: uuid.UUID, text: str) -> None:
        """A reply still streaming, mounted again: show everything so far and grow it."""
        for view in self.views:
            if view.message.id == message_id:
                self._streaming[message_id] = view
                await view.resume_stream(text)

    def last_reply(self) -> MessageRead | None:
        """The chat's newest assistant message with any text (mounted or not)."""
        if not self.has_newer:
            for view in reversed(self.views):
                if view.message.role == "assistant" and view.message.content:
                    return view.message
        return self._last_reply
