"""The main screen: composes the rooms (sidebar, conversation, status bar, model choice) and
routes between them.

Attributes down, messages up: each room loads its own data in workers (the sidebar its chats,
the conversation its messages and replies, the status bar health and usage, the model choice
the models) and posts what happened; this screen holds the open chat and the current model as
reactives bound down, and asks the user (dialogs) before anything is changed. The app posts it
``DatabaseReady`` or ``DatabaseUnavailable``; the screen never imports the app.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Input, Markdown

from synergia_tui.core.errors import NotFoundError, StorageError, SynergiaError
from synergia_tui.core.safe_text import neutralize, one_line
from synergia_tui.ui.clipboard import copy_text
from synergia_tui.ui.format import format_context, format_retry
from synergia_tui.ui.messages import (
    DatabaseReady,
    DatabaseUnavailable,
    FirstPage,
    SetAsideLoadedObjects,
    SyncChanged,
    SyncState,
)
from synergia_tui.ui.screens.code_blocks import copy_a_code_block
from synergia_tui.ui.screens.confirm import ask
from synergia_tui.ui.screens.main_keys import MAIN_BINDINGS
from synergia_tui.ui.screens.message_menu import LINK, MessageMenu
from synergia_tui.ui.screens.model_choice import ModelChoice
from synergia_tui.ui.screens.system_prompt import SystemPromptScreen
from synergia_tui.ui.screens.text_prompt import TextPromptScreen
from synergia_tui.ui.widgets.chat_column import ChatColumn
from synergia_tui.ui.widgets.chat_list import ChatFilter
from synergia_tui.ui.widgets.chat_sidebar import CHAT_PAGE, ChatSidebar
from synergia_tui.ui.widgets.message_pane import MessagePane
from synergia_tui.ui.widgets.message_view import RenderedSegment
from synergia_tui.ui.widgets.prompt_box import PromptBox
from synergia_tui.ui.widgets.reply_engine import NEW_CHAT, ReplyEngine
from synergia_tui.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    # Type names only: the models and services import SQLAlchemy, which loads after first paint.
    from synergia_tui.models import AIModelRead, ChatRead
    from synergia_tui.services.facade import AsyncServices
    from synergia_tui.services.live_sync import LiveSync
    from synergia_tui.services.replies import ContextSize
    from synergia_tui.ui.screens.search import SearchChoice

NO_CHAT = "No chat open. Type a prompt below to start one, or pick a chat on the left."
NOT_READY = "The database is still opening; try again in a moment."
DELETED_ELSEWHERE = (
    "This chat was deleted in another session. It is in the trash (f9 shows it, r restores "
    "it). Type a prompt below to start a new chat."
)
SYNC_PAGE = 8
"""How many of the open chat's newest messages are read again when another session changed it."""


class MainScreen(Screen[None]):
    """Chats on the left, the open chat on the right, the prompt below, the status bar last.

    ``clock`` gives the sidebar's relative times; ``health_interval`` (seconds, None for never)
    sets how often the status bar checks the database; ``offer_first_run`` lets an empty
    catalogue open the first-run screen.
    """

    BINDINGS = MAIN_BINDINGS

    current_chat: reactive[ChatRead | None] = reactive(None, repaint=False)
    """The open chat (None: none open; a prompt then starts one)."""
    default_model: reactive[AIModelRead | None] = reactive(None, repaint=False)
    """The model a new chat starts with: the first enabled one, until the user picks."""
    model_name: reactive[str | None] = reactive(None, repaint=False)
    """The current model's name (the open chat's, else the default), bound to the status bar."""
    current_model_id: reactive[uuid.UUID | None] = reactive(None, repaint=False)
    """The model a prompt goes to: the open chat's, else the default; bound to the room."""
    pending_system_prompt: reactive[str | None] = reactive(None, repaint=False)
    """The system prompt of the next new chat: the default preset's, until the user sets one
    (f6 with no chat open); bound to the room, which sends it with the chat's first prompt."""
    system_prompt: reactive[str | None] = reactive(None, repaint=False)
    """The open chat's system prompt, else the next new chat's; bound to the status bar."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime],
        version: str,
        health_interval: float | None = 5.0,
        chat_page: int = CHAT_PAGE,
        offer_first_run: bool = False,
        open_at: tuple[str, str | None] | None = None,
        live_sync: bool = True,
    ) -> None:
        super().__init__()
        self.open_at = open_at
        self.live_sync = live_sync
        """Watch for other sessions' changes (see ``services.live_sync``)."""
        self._watcher: LiveSync | None = None
        self._next_request: ContextSize | None = None  # the next request, before the typed prompt
        self._typed_chars = 0
        self._context_asked = 0
        self._sync_pending: frozenset[uuid.UUID] | None | bool = False  # False: nothing
        self._syncing = False
        """A chat (and a message in it) to open once the database is up: ``--chat``, by id
        or unique prefix."""
        self.clock = clock
        self.version = version
        self.health_interval = health_interval
        self.chat_page = chat_page
        self.offer_first_run = offer_first_run
        self.services: AsyncServices | None = None
        self.default_system_prompt: str | None = None
        self._unsaved_system_prompts: dict[uuid.UUID, str] = {}  # edits the database refused
        """The default preset's text (SYNERGIA_DEFAULT_PRESET), once read."""

    def set_aside_loaded_objects(self) -> None:
        """Ask the app to freeze what is loaded by now (see ``SetAsideLoadedObjects``)."""
        self.post_message(SetAsideLoadedObjects())

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="main-body"):
            yield ChatSidebar(clock=self.clock, page_size=self.chat_page, id="sidebar").data_bind(
                MainScreen.current_chat
            )
            yield ChatColumn(id="chat-column").data_bind(
                MainScreen.current_chat,
                MainScreen.pending_system_prompt,
                model_id=MainScreen.current_model_id,
            )
        yield StatusBar(self.version, id="status-bar").data_bind(
            MainScreen.model_name, MainScreen.current_chat, MainScreen.system_prompt
        )
        yield Footer()
        yield ModelChoice(offer_first_run=self.offer_first_run)

    @property
    def sidebar(self) -> ChatSidebar:
        return self.query_one(ChatSidebar)

    @property
    def pane(self) -> MessagePane:
        return self.query_one(MessagePane)

    @property
    def prompt(self) -> PromptBox:
        return self.query_one(PromptBox)

    @property
    def status_bar(self) -> StatusBar:
        return self.query_one(StatusBar)

    @property
    def engine(self) -> ReplyEngine:
        return self.query_one(ReplyEngine)

    @property
    def column(self) -> ChatColumn:
        return self.query_one(ChatColumn)

    @property
    def model_choice(self) -> ModelChoice:
        return self.query_one(ModelChoice)

    def compute_current_model_id(self) -> uuid.UUID | None:
        chat = self.current_chat
        if chat is not None and chat.model_id is not None:
            return chat.model_id
        return self.default_model.id if self.default_model else None

    def compute_system_prompt(self) -> str | None:
        chat = self.current_chat
        return chat.system_prompt if chat is not None else self.pending_system_prompt

    def compute_model_name(self) -> str | None:
        chat = self.current_chat
        if chat is not None and chat.model_id is not None:
            return chat.model_name or "(unknown model)"
        return self.default_model.name if self.default_model else None

    async def on_mount(self) -> None:
        self.prompt.focus()
        await self.pane.show_placeholder(NO_CHAT)

    # -- start-up, posted by the app -----------------------------------------------------------

    def on_first_page(self, message: FirstPage) -> None:
        """The newest chats, read before the database stack is up: show them until it is."""
        self.sidebar.show_first_page(message.chats)
        self.call_after_refresh(message.shown.set)

    async def on_database_ready(self, message: DatabaseReady) -> None:
        """The database stack is up: hand it to the widgets, load chats, start health checks."""
        services = self.services = message.services
        self.column.unavailable = None
        self.sidebar.services = self.pane.services = self.status_bar.services = services
        self.model_choice.services = services
        self.services_for_engine(services)
        if self.current_chat is None:
            await self.pane.show_placeholder(NO_CHAT)  # instead of a start-up error, if any
        self.set_aside_loaded_objects()
        self.sidebar.load_chats(self.sidebar.filter_text, debounce=False)
        self.model_choice.load_default()
        self._load_default_system_prompt()
        if self.open_at is not None:
            self._open_requested(*self.open_at)
            self.open_at = None
        self.check_health()
        if self.health_interval:
            self.set_interval(self.health_interval, self.check_health)
        self._start_live_sync(services)
        self._refresh_context()

    # -- the context budget: how much of the window the next request uses -------------------

    def watch_current_chat(self) -> None:
        self._refresh_context()

    def watch_model_name(self) -> None:
        self._refresh_context()  # another model (its name changes with it)

    @work(group="context")
    async def _refresh_context(self) -> None:
        """Read what the next request holds (once per chat, model or reply; typing only adds
        an estimate of the prompt, see ``_typed``). The last one asked for wins."""
        services = self._services_or_none(quiet=True)
        if services is None or services.replies is None:
            return
        self._context_asked += 1
        asked = self._context_asked
        chat = self.current_chat
        try:
            size = await services.replies.context_size(
                chat.id if chat is not None else None, self.current_model_id
            )
        except SynergiaError:
            return  # the status bar says what is wrong with the database
        if asked != self._context_asked or not self.is_attached:
            return  # a newer reading is on its way
        # Here, not at the top: the app module loads before the database stack (start-up).
        from synergia_tui.services.replies import ContextSize, estimate_tokens

        if chat is None and self.pending_system_prompt:  # a new chat starts with it
            extra = estimate_tokens(len(self.pending_system_prompt))
            size = ContextSize(size.tokens + extra, True, size.window)
        self._next_request = size
        self._show_context()

    @on(ChatColumn.Typed)
    def _typed(self, event: ChatColumn.Typed) -> None:
        self._typed_chars = event.chars
        self._show_context()

    def _show_context(self) -> None:
        size = self._next_request
        if size is None or not size.window:
            self.status_bar.context = None
            return
        from synergia_tui.services.replies import estimate_tokens

        typed = estimate_tokens(self._typed_chars)
        self.status_bar.context = format_context(
            size.tokens + typed, size.window, estimated=size.estimated or typed > 0
        )

    # -- live sync: other sessions' changes --------------------------------------------------

    def _start_live_sync(self, services: AsyncServices) -> None:
        if not self.live_sync or services.live_sync is None or self._watcher is not None:
            return
        # post_message is safe from another thread; the watcher never touches the screen.
        self._watcher = services.live_sync(
            lambda chats: self.post_message(SyncChanged(chats)),
            lambda up: self.post_message(SyncState(up)),
        )
        self._watcher.start()

    def on_unmount(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None

    def on_sync_state(self, message: SyncState) -> None:
        self.status_bar.live = message.up

    def on_sync_changed(self, message: SyncChanged) -> None:
        pending = self._sync_pending
        if pending is False:
            self._sync_pending = message.chats
        elif pending is not None and message.chats is not None:
            self._sync_pending = pending | message.chats  # type: ignore[operator]
        else:
            self._sync_pending = None
        if not self._syncing:
            self._syncing = True
            self._sync_worker()

    @work(group="sync")
    async def _sync_worker(self) -> None:
        """Read again what other sessions changed, one round at a time (news arriving
        meanwhile is gathered for the next round)."""
        try:
            while self._sync_pending is not False:
                chats = self._sync_pending
                self._sync_pending = False
                await self._take_stored(chats)  # type: ignore[arg-type]
        finally:
            self._syncing = False

    async def _take_stored(self, chats: frozenset[uuid.UUID] | None) -> None:
        services = self._services_or_none(quiet=True)
        if services is None or not self.is_attached:
            return
        self.sidebar.take_stored()
        chat = self.current_chat
        if chat is None or (chats is not None and chat.id not in chats):
            return
        try:
            fresh = await services.chats.get_chat(chat.id)
            page = await services.messages.list_messages(chat.id, limit=SYNC_PAGE)
        except NotFoundError:
            if self.current_chat is not None and self.current_chat.id == chat.id:
                self.current_chat = None  # a prompt now starts a new chat
                await self.pane.show_placeholder(DELETED_ELSEWHERE)
            return
        except SynergiaError:
            return  # the status bar says why; the next change (or reconnect) reads again
        if self.current_chat is None or self.current_chat.id != chat.id:
            return  # the user moved on meanwhile
        if (fresh.title, fresh.system_prompt, fresh.model_id) != (
            chat.title,
            chat.system_prompt,
            chat.model_id,
        ):
            self.current_chat = fresh
        local = {live.message.id for live in self.engine.live.values() if live.message}
        await self.pane.take_stored(page.messages, local=local)

    async def on_database_unavailable(self, message: DatabaseUnavailable) -> None:
        """The database could not be opened (unreachable, schema behind, ...)."""
        self.column.unavailable = message.message
        self.sidebar.drop_first_page()  # chats that cannot be opened are not offered
        self.sidebar.set_loading(False)
        self.status_bar.starting = "unavailable"
        self.status_bar.add_class("-db-down")
        text = f"Synergia cannot use the database.\n\n{message.message}"
        if message.retry_s is not None:
            text += f"\n\nRetrying every {message.retry_s:.0f} seconds…"
        await self.pane.show_placeholder(text)

    # -- routing -------------------------------------------------------------------------------

    def open_chat(self, chat: ChatRead, *, focus_prompt: bool = True) -> None:
        """Open ``chat``: the pane loads its newest messages and posts ``ChatOpened``."""
        if self._services_or_none() is not None:
            self.pane.open_chat(chat, focus_prompt=focus_prompt)

    @work(group="open-requested")
    async def _open_requested(self, chat_ref: str, message_ref: str | None) -> None:
        """Open the chat asked for on the command line, at its message or its newest."""
        services = self._services_or_none()
        if services is None:
            return
        try:
            chat = await services.chats.find_chat_by_prefix(chat_ref)
            message_id = None
            if message_ref is not None:
                message_id = await services.messages.find_message_by_prefix(chat.id, message_ref)
        except SynergiaError as err:
            self._report(err)
            return
        await self.pane.open_at(chat, message_id)

    @on(ChatSidebar.ChatSelected)
    def _chat_selected(self, event: ChatSidebar.ChatSelected) -> None:
        self.open_chat(event.chat)

    @on(MessagePane.ChatOpened)
    async def _chat_opened(self, event: MessagePane.ChatOpened) -> None:
        chat = event.chat
        self.current_chat = chat
        await self.column.resume(chat.id)
        self._show_live()
        self.refresh_usage()
        self.sidebar.select_chat(chat.id)
        if event.focus_prompt:
            self.prompt.focus()

    @on(ChatSidebar.ChatCreated)
    async def _chat_created(self, event: ChatSidebar.ChatCreated) -> None:
        self.current_chat = event.chat
        self.sidebar.now = self.clock()
        self.sidebar.upsert_chat(event.chat)
        await self.pane.show_messages([], has_older=False, chat_id=event.chat.id)
        self.prompt.focus()

    @on(ChatSidebar.ChatRenamed)
    def _chat_renamed(self, event: ChatSidebar.ChatRenamed) -> None:
        if self.current_chat is not None and self.current_chat.id == event.chat.id:
            self.current_chat = event.chat

    @on(ChatSidebar.ChatDeleted)
    async def _chat_deleted(self, event: ChatSidebar.ChatDeleted) -> None:
        if self.current_chat is not None and self.current_chat.id == event.chat.id:
            self.current_chat = None
            await self.pane.show_placeholder(NO_CHAT)

    @on(ChatSidebar.Failed)
    @on(MessagePane.Failed)
    @on(ModelChoice.Failed)
    @on(ChatColumn.Failed)
    def _widget_failed(
        self,
        event: ChatSidebar.Failed | MessagePane.Failed | ModelChoice.Failed | ChatColumn.Failed,
    ) -> None:
        self._report(event.error)

    @on(StatusBar.DatabaseBack)
    def _database_back(self) -> None:
        self.sidebar.reload_if_failed()
        if self.default_model is None:
            self.model_choice.load_default()

    def check_health(self) -> None:
        """Refresh the status bar's view of the database now."""
        self.status_bar.check_health()

    def refresh_usage(self) -> None:
        """Refresh the status bar's tokens and cost of the open chat."""
        if self.current_chat is not None:
            self.status_bar.refresh_usage(self.current_chat.id)

    # -- actions -------------------------------------------------------------------------------

    def action_new_chat(self) -> None:
        if self._services_or_none() is not None:
            model_id = self.default_model.id if self.default_model else None
            self.sidebar.create_chat(model_id, self.pending_system_prompt)
            self.pending_system_prompt = self.default_system_prompt  # used up by that chat

    def action_toggle_trash(self) -> None:
        sidebar = self.sidebar
        sidebar.display = True
        sidebar.show_trash(not sidebar.showing_trash)
        if sidebar.showing_trash:
            sidebar.chat_list.focus()
            self.notify("The trash: r restores the highlighted chat, f9 goes back.")

    def action_restore_chat(self) -> None:
        sidebar = self.sidebar
        if not sidebar.showing_trash:
            self.notify("Open the trash (f9) to restore a chat.", severity="warning")
            return
        chat = sidebar.highlighted_chat
        if chat is None:
            self.notify("No chat in the trash is highlighted.", severity="warning")
        elif self._services_or_none() is not None:
            sidebar.restore_chat(chat)

    def _in_trash(self, what: str) -> bool:
        """Whether the target would be a chat in the trash (then says so)."""
        if self.sidebar.showing_trash and self.sidebar.chat_list.has_focus:
            self.notify(f"Restore the chat (r) before you {what} it.", severity="warning")
            return True
        return False

    def action_rename_chat(self) -> None:
        if self._in_trash("rename"):
            return
        chat = self._target_chat()
        if chat is None:
            self.notify("No chat selected to rename.", severity="warning")
            return

        def renamed(title: str | None) -> None:
            if title is not None and title.strip() and title.strip() != chat.title:
                if self._services_or_none() is not None:
                    self.sidebar.rename_chat(chat, title)

        self.app.push_screen(
            TextPromptScreen(f"Rename “{one_line(chat.title)}” to:", value=chat.title), renamed
        )

    def action_delete_chat(self) -> None:
        if self._in_trash("delete"):
            return
        chat = self._target_chat()
        if chat is None:
            self.notify("No chat selected to delete.", severity="warning")
            return
        question = f"Delete the chat “{one_line(chat.title)}”?\nIts messages go with it."
        ask(self.app, question, lambda: self.sidebar.delete_chat(chat), label="Delete")

    def action_models(self) -> None:
        if self._services_or_none() is not None:
            self.model_choice.pick(self.current_model_id, self.current_chat)

    @on(ModelChoice.DefaultChosen)
    async def _default_chosen(self, event: ModelChoice.DefaultChosen) -> None:
        if self.default_model is not None and not event.picked:
            return  # the user's pick stands
        first = self.default_model is None
        self.default_model = event.model
        if first and self.current_chat is None:
            await self.pane.show_placeholder(NO_CHAT)  # no "how to add a model" hint any more

    @on(ModelChoice.ChatModelSet)
    def _chat_model_set(self, event: ModelChoice.ChatModelSet) -> None:
        self.default_model = event.model
        if self.current_chat is not None and self.current_chat.id == event.chat.id:
            self.current_chat = event.chat
        self.sidebar.upsert_chat(event.chat, to_top=False)

    @on(ModelChoice.NothingToChatWith)
    async def _nothing_to_chat_with(self, event: ModelChoice.NothingToChatWith) -> None:
        if self.current_chat is None:
            await self.pane.show_placeholder(f"{NO_CHAT}\n\n{event.hint}")

    def action_copy_last_reply(self) -> None:
        reply = self.pane.last_reply()
        if reply is None:
            self.notify("There is no reply to copy yet.", severity="warning")
            return
        copy_text(self.app, neutralize(reply.content), "the last reply")

    def action_copy_code_block(self) -> None:
        copy_a_code_block(self.app, self.pane.messages)

    def action_toggle_sidebar(self) -> None:
        sidebar = self.sidebar
        sidebar.display = not sidebar.display
        if not sidebar.display:
            self.prompt.focus()

    def action_open_editor(self) -> None:
        self.prompt.open_in_editor()

    def action_find_chat(self) -> None:
        self.sidebar.display = True
        self.sidebar.query_one(Input).focus()

    # -- search ----------------------------------------------------------------------------------

    def action_search(self, in_chat: bool = False) -> None:
        """ctrl+f: search every chat's messages and titles (with ``in_chat``, the open chat's:
        ``/`` from the message cursor); enter opens the chat at the message found."""
        services = self._services_or_none()
        if services is None:
            return
        from synergia_tui.ui.screens.search import SearchScreen  # loads with the database stack

        chat = self.current_chat if in_chat else None
        selected = self.pane.selected_message() if in_chat else None
        screen = SearchScreen(
            services,
            clock=self.clock,
            query=self.pane.search_query or "",
            chat_id=chat.id if chat is not None else None,
            chat_title=chat.title if chat is not None else None,
            after=selected.created_at if selected is not None else None,
        )

        def chosen(choice: SearchChoice | None) -> None:
            if choice is not None:
                self._open_found(choice)

        self.app.push_screen(screen, chosen)

    def action_find_in_chat(self) -> None:
        if self.current_chat is None:
            self.notify("Open a chat to find in it; ctrl+f searches every chat.")
            return
        self.action_search(in_chat=True)

    @on(MessagePane.FindWanted)
    def _find_wanted(self) -> None:
        self.action_find_in_chat()

    @on(MessagePane.Notice)
    def _pane_notice(self, event: MessagePane.Notice) -> None:
        self.notify(event.text)

    @work(group="open-requested")
    async def _open_found(self, choice: SearchChoice) -> None:
        """Open the chat of the result chosen, at its message with the cursor on it (shown in
        its version of the turn, when it is on another branch) and the search's words marked."""
        services = self._services_or_none()
        if services is None:
            return
        try:
            chat = await services.chats.get_chat(choice.chat_id)
            if choice.message_id is not None:
                await services.messages.show_version_of(chat.id, choice.message_id)
        except SynergiaError as err:
            self._report(err)
            return
        if not await self.pane.open_at(
            chat, choice.message_id, select=choice.message_id is not None, search=choice.query
        ):
            return
        if choice.message_id is not None:
            self.pane.focus()
            self.notify("n: next match · N: previous · /: find in this chat · escape: prompt")

    # -- the system prompt -----------------------------------------------------------------------

    @work(group="default-system-prompt", exclusive=True)
    async def _load_default_system_prompt(self) -> None:
        """A new chat starts with the default preset's text (a bad default is said once)."""
        services = self._services_or_none(quiet=True)
        if services is None or services.presets is None:
            return
        try:
            preset = await services.presets.default_preset()
        except SynergiaError as err:
            self._report(err)
            return
        text = preset.text if preset is not None else None
        if self.pending_system_prompt == self.default_system_prompt:
            self.pending_system_prompt = text  # unless the user has set one meanwhile
        self.default_system_prompt = text

    def action_system_prompt(self) -> None:
        """f6: the open chat's system prompt, or the next new chat's, in an editor with the
        presets to pick from."""
        services = self._services_or_none()
        if services is None:
            return
        chat = self.current_chat
        if chat is None:
            title = "System prompt of the next new chat"
            text = self.pending_system_prompt or ""
        else:
            title = f"System prompt of “{one_line(chat.title)}”"
            text = chat.system_prompt or ""
            unsaved = self._unsaved_system_prompts.get(chat.id)
            if unsaved is not None:
                title, text = f"{title} (not saved yet)", unsaved

        def edited(result: str | None) -> None:
            if result is None:
                return
            if chat is None:
                self.pending_system_prompt = result or None
                self.notify(
                    "The next new chat starts with this system prompt."
                    if result
                    else "The next new chat starts without a system prompt."
                )
            else:
                self._save_system_prompt(chat, result)

        self.app.push_screen(SystemPromptScreen(text, title=title, services=services), edited)

    @work(group="system-prompt")
    async def _save_system_prompt(self, chat: ChatRead, text: str) -> None:
        services = self._services_or_none()
        if services is None:
            return
        try:
            saved = await services.chats.set_system_prompt(chat.id, text or None)
        except SynergiaError as err:
            # The edit is kept: f6 on this chat opens it again, to save once the database is back.
            self._unsaved_system_prompts[chat.id] = text
            self._report(err)
            self.notify("The system prompt was not saved: f6 opens your text again.")
            return
        self._unsaved_system_prompts.pop(chat.id, None)
        if self._on_screen(saved.id):
            self.current_chat = saved
        self.sidebar.upsert_chat(saved, to_top=False)
        self.notify("System prompt saved." if text else "System prompt cleared.")

    # -- sending -------------------------------------------------------------------------------

    @on(PromptBox.LargePaste)
    def _large_paste(self, event: PromptBox.LargePaste) -> None:
        text = event.text
        question = f"Insert a paste of {len(text):,} characters ({len(text.splitlines()):,} lines)?"
        ask(self.app, question, lambda: self.prompt.insert_paste(text), label="Insert")

    # -- replies: the engine streams them, the screen shows them --------------------------------

    def services_for_engine(self, services: AsyncServices) -> None:
        """Hand the engine what it needs to send (once the database is open)."""
        if services.reply_store is None:
            return  # services without a reply engine (some tests): nothing can be sent
        engine = self.engine
        engine.configure(services, services.reply_store(on_change=engine.storage_changed))

    def action_retry_reply(self) -> None:
        """Answer the newest prompt of the open chat again (after an error, or to regenerate)."""
        self.column.answer_again()

    def action_continue_reply(self) -> None:
        """Have the model go on from a reply that stopped at the token limit."""
        self.column.continue_reply()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The stop key is offered (and shown in the footer) only while this chat streams, or
        a prompt is being edited (escape then cancels the edit)."""
        if action == "stop_reply":
            return self.column.can_stop() or self.column.editing is not None
        return True

    def action_stop_reply(self) -> None:
        """Stop the open chat's streaming reply: what arrived is kept, marked cancelled (or,
        while a prompt is edited, cancel the edit)."""
        if not self.column.cancel_edit():
            self.column.stop()

    # -- the message cursor (its keys are the pane's; these are for alt+up/down, the palette) --

    def action_previous_message(self) -> None:
        self.column.move_cursor(-1)

    def action_next_message(self) -> None:
        self.column.move_cursor(1)

    def _message_action(self, action: str, role: str | None = None) -> None:
        """``action`` on the selected message, else on the newest one (of ``role``)."""
        message = self.pane.selected_message()
        if message is None:
            candidates = [m for m in self.pane.messages if role is None or m.role == role]
            message = candidates[-1] if candidates and not self.pane.has_newer else None
        if message is None:
            self.notify("Select a message first: alt+up.", severity="warning")
            return
        self.column.act(action, message)

    def action_message_menu(self) -> None:
        self._message_action("menu")

    def action_copy_message(self) -> None:
        self._message_action("copy")

    def action_quote_message(self) -> None:
        self._message_action("quote")

    def action_edit_message(self) -> None:
        self._message_action("edit", "user")

    def action_regenerate_message(self) -> None:
        self._message_action("regenerate", "assistant")

    def action_fork_message(self) -> None:
        self._message_action("fork")

    def action_previous_version(self) -> None:
        self._message_action("previous_version")

    def action_next_version(self) -> None:
        self._message_action("next_version")

    @on(ChatColumn.MenuWanted)
    def _menu_wanted(self, event: ChatColumn.MenuWanted) -> None:
        message = event.message

        def chosen(choice: str | None) -> None:
            if choice is not None and choice.startswith(LINK):
                copy_text(self.app, choice[len(LINK) :], "the link")
            elif choice is not None:
                self.column.act(choice, message)

        self.app.push_screen(MessageMenu(message), chosen)

    @on(ChatColumn.Forked)
    def _forked(self, event: ChatColumn.Forked) -> None:
        self.sidebar.now = self.clock()
        self.sidebar.upsert_chat(event.chat)
        self.open_chat(event.chat)

    @on(ChatFilter.Left)
    def _filter_left(self) -> None:
        self.prompt.focus()  # escape in the chat filter goes back to the prompt; it stops nothing

    @on(ReplyEngine.Sent)
    def _reply_sent(self, event: ReplyEngine.Sent) -> None:
        sent = event.sent
        if event.claim == NEW_CHAT:
            self.pending_system_prompt = self.default_system_prompt  # that chat has it now
        if self.current_chat is None and event.claim == NEW_CHAT or self._on_screen(sent.chat.id):
            self.current_chat = sent.chat  # the room has shown the prompt
        self.sidebar.now = self.clock()
        self.sidebar.upsert_chat(sent.chat)
        self.refresh_usage()

    @on(ReplyEngine.Started)
    @on(ReplyEngine.Retrying)
    @on(ReplyEngine.Retried)
    @on(ReplyEngine.Finished)
    def _reply_started_or_ended(self) -> None:
        self._show_live()

    @on(ReplyEngine.Settled)
    def _reply_settled(self, event: ReplyEngine.Settled) -> None:
        self._show_live()
        if self._on_screen(event.chat_id):
            self.refresh_usage()  # the reply's tokens and cost are stored now
            self._refresh_context()

    @on(ReplyEngine.Failed)
    def _reply_failed(self, event: ReplyEngine.Failed) -> None:
        self._report(event.error)

    @on(ReplyEngine.StorageChanged)
    def _reply_storage(self, event: ReplyEngine.StorageChanged) -> None:
        self.status_bar.saving_paused = event.reason
        if event.reason is not None:
            self.check_health()

    def _show_live(self) -> None:
        """Sidebar marks and status bar after a reply started or ended."""
        if not self.is_attached:
            return  # the app is closing: nothing left to show
        self.sidebar.live_chats = self.engine.live_chats
        chat = self.current_chat
        self.status_bar.streaming = chat is not None and self.engine.is_live(chat.id)
        retrying = self.engine.retrying_of(chat.id) if chat is not None else None
        self.status_bar.retrying = format_retry(retrying) if retrying is not None else None
        self.refresh_bindings()

    def _on_screen(self, chat_id: uuid.UUID) -> bool:
        return self.current_chat is not None and self.current_chat.id == chat_id

    # -- links in messages ---------------------------------------------------------------------

    @on(Markdown.LinkClicked)
    @on(RenderedSegment.LinkClicked)
    def _link_clicked(self, event: Markdown.LinkClicked | RenderedSegment.LinkClicked) -> None:
        event.stop()
        href = event.href
        # Links are never opened by themselves: the URL is shown (made safe) and can be copied.
        question = f"This message links to:\n\n{one_line(href)}\n\nCopy the link?"
        ask(self.app, question, lambda: copy_text(self.app, href, "the link"), label="Copy")

    # -- helpers -------------------------------------------------------------------------------

    def _services_or_none(self, *, quiet: bool = False) -> AsyncServices | None:
        if self.services is None and not quiet:
            # Why the database cannot be used (its fix, e.g. "run synergia db upgrade"), once
            # start-up said so; until then it is only still opening.
            why = self.column.unavailable
            reason = f"Synergia cannot use the database: {why}"
            self.notify(reason if why else NOT_READY, severity="warning")
        return self.services

    def _report(self, err: SynergiaError) -> None:
        """Show a failed call's message; a storage failure also refreshes the status bar."""
        self.notify(str(err), severity="error")
        if isinstance(err, StorageError):
            self.check_health()

    def _target_chat(self) -> ChatRead | None:
        """The highlighted chat while the chat list has focus, else the open chat."""
        if self.sidebar.chat_list.has_focus:
            return self.sidebar.highlighted_chat
        return self.current_chat
