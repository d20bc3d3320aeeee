"""The main screen: sidebar, message pane, prompt box and status bar; it owns the workers.

Widgets post messages up; this screen runs the database work in async workers (through the
async facade, so queries run on the facade's DB threads) and sets the widgets' attributes with
the results. No widget is touched from a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, Markdown

from synergia_tui.core.errors import StorageError, SynergiaError
from synergia_tui.core.safe_text import neutralize, one_line
from synergia_tui.ui.clipboard import copy_text
from synergia_tui.ui.code_blocks import CodeBlock, code_blocks
from synergia_tui.ui.screens.code_blocks import CodeBlockScreen
from synergia_tui.ui.screens.confirm import ConfirmScreen
from synergia_tui.ui.screens.text_prompt import TextPromptScreen
from synergia_tui.ui.widgets.chat_sidebar import ChatSidebar
from synergia_tui.ui.widgets.message_pane import MessagePane, MessageView
from synergia_tui.ui.widgets.prompt_box import PromptBox
from synergia_tui.ui.widgets.reply_engine import NEW_CHAT, ReplyEngine
from synergia_tui.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    # Type names only: the models and services import SQLAlchemy, which loads after first paint.
    from synergia_tui.models import AIModelRead, ChatRead
    from synergia_tui.services.facade import AsyncServices
    from synergia_tui.services.reads import HealthReport
    from synergia_tui.services.streaming import StorageChanged
    from synergia_tui.ui.app import SynergiaApp

CHAT_PAGE = 50
MESSAGE_PAGE = 8  # a few screens of replies: opening a chat of 10,000 messages mounts only these
FILTER_DEBOUNCE_S = 0.0  # no wait: each keystroke queries at once; a newer one cancels it
NO_CHAT = "No chat open. Type a prompt below to start one, or pick a chat on the left."
NOT_READY = "The database is still opening; try again in a moment."
BUSY = "A reply is streaming in this chat; escape stops it."

# (command palette title, action, help) for every action of this screen.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("New chat", "new_chat", "Start a new chat"),
    ("Models", "models", "Pick the model for this chat, or manage models"),
    ("Rename chat", "rename_chat", "Give the selected chat a new title"),
    ("Delete chat", "delete_chat", "Delete the selected chat (asks first)"),
    ("Copy last reply", "copy_last_reply", "Copy the newest reply to your clipboard"),
    ("Copy code block", "copy_code_block", "Pick a code block of this chat to copy"),
    ("Toggle sidebar", "toggle_sidebar", "Show or hide the chat list"),
    ("Find chat", "find_chat", "Filter the chat list by title"),
    ("Stop reply", "stop_reply", "Stop this chat's streaming reply (what arrived is kept)"),
    (
        "Retry reply",
        "retry_reply",
        "Answer the last prompt again (after an error, or to regenerate)",
    ),
)


class MainScreen(Screen[None]):
    """Chats on the left, the open chat on the right, the prompt below, the status bar last."""

    BINDINGS = [
        Binding("ctrl+n", "new_chat", "New chat", id="main.new_chat"),
        Binding("ctrl+o", "models", "Models", id="main.models"),
        Binding("f2", "rename_chat", "Rename", id="main.rename_chat"),
        Binding("f8", "delete_chat", "Delete", id="main.delete_chat"),
        Binding("ctrl+l", "copy_last_reply", "Copy reply", id="main.copy_last_reply"),
        Binding("ctrl+g", "copy_code_block", "Copy code", id="main.copy_code_block", show=False),
        Binding("ctrl+t", "toggle_sidebar", "Sidebar", id="main.toggle_sidebar"),
        Binding("ctrl+f", "find_chat", "Find chat", id="main.find_chat", show=False),
        Binding("escape", "stop_reply", "Stop reply", id="main.stop_reply"),
        Binding("ctrl+r", "retry_reply", "Retry", id="main.retry_reply"),
    ]

    def __init__(
        self, *, version: str, health_interval: float | None = 5.0, chat_page: int = CHAT_PAGE
    ) -> None:
        super().__init__()
        self.version = version
        self.health_interval = health_interval
        self.chat_page = chat_page
        self.services: AsyncServices | None = None
        self.current_chat: ChatRead | None = None
        self.default_model: AIModelRead | None = None
        self.health: HealthReport | None = None
        self._chat_query = ""
        self._chat_cursor: Any = None
        self._chat_generation = 0
        self._loading_more_chats = False
        self._chats_failed = False
        self._older_cursor: Any = None
        self._health_running = False
        self.warmed_models: set[uuid.UUID] = set()
        self._live_views: dict[uuid.UUID, MessageView] = {}
        self._first_run_offered = False

    @property
    def synergia_app(self) -> SynergiaApp:
        return self.app  # type: ignore[return-value]

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="main-body"):
            yield ChatSidebar(id="sidebar")
            with Vertical(id="chat-column"):
                yield MessagePane(id="message-pane")
                yield PromptBox(id="prompt")
        yield StatusBar(self.version, id="status-bar")
        yield Footer()
        yield ReplyEngine()

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

    async def on_mount(self) -> None:
        self.sidebar.set_loading(True)
        self.prompt.focus()
        await self.pane.show_placeholder(NO_CHAT)
        self.set_interval(60, self._refresh_times)
        if self.synergia_app.services is not None:  # handed in ready (tests, embedding)
            self.services_ready(self.synergia_app.services)

    # -- start-up, called by the app -----------------------------------------------------------

    def services_ready(self, services: AsyncServices) -> None:
        """The database stack is up: load the first page of chats and start the health checks."""
        self.services = services
        self.services_for_engine(services)
        self.synergia_app.set_aside_loaded_objects()
        self.load_chats("", debounce=False)
        self.load_default_model()
        self.check_health()
        if self.health_interval:
            self.set_interval(self.health_interval, self.check_health)

    async def show_startup_error(self, message: str) -> None:
        """The database could not be opened (unreachable, schema behind, ...)."""
        self.sidebar.set_loading(False)
        self.status_bar.starting = "unavailable"
        self.status_bar.add_class("-db-down")
        await self.pane.show_placeholder(f"Synergia cannot use the database.\n\n{message}")

    # -- chats ---------------------------------------------------------------------------------

    @work(group="chats", exclusive=True)
    async def load_chats(self, query: str, *, debounce: bool = True) -> None:
        """Reload the sidebar's first page for ``query`` (latest request wins)."""
        services = self._services_or_none(quiet=True)
        if services is None:
            return
        if debounce:
            await asyncio.sleep(FILTER_DEBOUNCE_S)
        self._chat_generation += 1
        self._chat_query = query
        self.workers.cancel_group(self, "chats-more")
        self._loading_more_chats = False
        try:
            page = await services.chats.list_chats(limit=self.chat_page, query=query)
        except SynergiaError as err:
            self._chats_failed = True
            self.sidebar.set_loading(False)
            self._report(err)
            return
        self._chats_failed = False
        self._chat_cursor = page.next_cursor
        sidebar = self.sidebar
        sidebar.now = self.synergia_app.clock()
        sidebar.show_chats(page.chats, has_more=page.next_cursor is not None, query=query)
        sidebar.set_loading(False)
        if self.current_chat is not None:
            sidebar.select_chat(self.current_chat.id)

    @work(group="chats-more")
    async def load_more_chats(self) -> None:
        """Append the next page of the sidebar."""
        services = self._services_or_none(quiet=True)
        if services is None or self._chat_cursor is None or self._loading_more_chats:
            return
        self._loading_more_chats = True
        generation = self._chat_generation
        try:
            page = await services.chats.list_chats(
                limit=self.chat_page, after=self._chat_cursor, query=self._chat_query
            )
        except SynergiaError as err:
            self._report(err)
            return
        finally:
            self._loading_more_chats = False
        if generation != self._chat_generation:
            return  # the filter changed meanwhile; this page belongs to the old list
        self._chat_cursor = page.next_cursor
        self.sidebar.append_chats(page.chats, has_more=page.next_cursor is not None)

    @on(ChatSidebar.FilterChanged)
    def _filter_changed(self, event: ChatSidebar.FilterChanged) -> None:
        self.load_chats(event.query)

    @on(ChatSidebar.MoreWanted)
    def _more_wanted(self) -> None:
        if not self._loading_more_chats and self._chat_cursor is not None:
            self.load_more_chats()

    @on(ChatSidebar.ChatChosen)
    def _chat_chosen(self, event: ChatSidebar.ChatChosen) -> None:
        self.open_chat(event.chat)

    @work(group="open-chat", exclusive=True)
    async def open_chat(self, chat: ChatRead, *, focus_prompt: bool = True) -> None:
        """Show ``chat`` with only its newest messages mounted."""
        self.synergia_app.note_activity()
        services = self._services_or_none()
        if services is None:
            return
        try:
            page = await services.messages.list_messages(chat.id, limit=MESSAGE_PAGE)
        except SynergiaError as err:
            self._report(err)
            return
        self.current_chat = chat
        self._older_cursor = page.older_cursor
        await self.pane.show_messages(page.messages, has_older=page.older_cursor is not None)
        await self.resume_live_views(chat.id)
        self._show_model()
        self.refresh_usage()
        self.sidebar.select_chat(chat.id)
        if focus_prompt:
            self.prompt.focus()

    @on(MessagePane.OlderWanted)
    def _older_wanted(self) -> None:
        if self.current_chat is not None and self._older_cursor is not None:
            self.pane.loading_older = True
            self.load_older_messages(self.current_chat.id)

    @work(group="older-messages", exclusive=True)
    async def load_older_messages(self, chat_id: uuid.UUID) -> None:
        """Mount the page of messages just older than the oldest one shown."""
        self.synergia_app.note_activity()
        services = self._services_or_none(quiet=True)
        try:
            if services is None or self._older_cursor is None:
                return
            page = await services.messages.list_messages(
                chat_id, limit=MESSAGE_PAGE, before=self._older_cursor
            )
            if self.current_chat is None or self.current_chat.id != chat_id:
                return
            self._older_cursor = page.older_cursor
            await self.pane.prepend_older(page.messages, has_older=page.older_cursor is not None)
        except SynergiaError as err:
            self._report(err)
        finally:
            self.pane.loading_older = False

    @work(group="usage", exclusive=True)
    async def refresh_usage(self) -> None:
        """Tokens and cost of the open chat, for the status bar."""
        services = self._services_or_none(quiet=True)
        chat = self.current_chat
        if services is None or chat is None:
            self.status_bar.usage = None
            return
        try:
            usage = await services.chats.usage(chat.id)
        except SynergiaError:
            return  # the status bar already says when the database is away
        if self.current_chat is not None and self.current_chat.id == chat.id:
            self.status_bar.usage = usage

    # -- actions -------------------------------------------------------------------------------

    def action_new_chat(self) -> None:
        self.new_chat()

    @work(group="write")
    async def new_chat(self) -> None:
        services = self._services_or_none()
        if services is None:
            return
        model_id = self.default_model.id if self.default_model else None
        try:
            chat = await services.chats.create_chat(model_id=model_id)
        except SynergiaError as err:
            self._report(err)
            return
        self.sidebar.now = self.synergia_app.clock()
        self.sidebar.upsert_chat(chat)
        self.current_chat = chat
        self._older_cursor = None
        await self.pane.show_messages([], has_older=False)
        self._show_model()
        self.status_bar.usage = None
        self.prompt.focus()

    def action_rename_chat(self) -> None:
        chat = self._target_chat()
        if chat is None:
            self.notify("No chat selected to rename.", severity="warning")
            return

        def renamed(title: str | None) -> None:
            if title is not None and title.strip() and title.strip() != chat.title:
                self.rename_chat(chat, title)

        self.app.push_screen(
            TextPromptScreen(f"Rename “{one_line(chat.title)}” to:", value=chat.title), renamed
        )

    @work(group="write")
    async def rename_chat(self, chat: ChatRead, title: str) -> None:
        services = self._services_or_none()
        if services is None:
            return
        try:
            renamed = await services.chats.rename_chat(chat.id, title)
        except SynergiaError as err:
            self._report(err)
            return
        self.sidebar.upsert_chat(renamed, to_top=False)
        if self.current_chat is not None and self.current_chat.id == renamed.id:
            self.current_chat = renamed
        self.notify(f"Renamed to “{renamed.title}”.")

    def action_delete_chat(self) -> None:
        chat = self._target_chat()
        if chat is None:
            self.notify("No chat selected to delete.", severity="warning")
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.delete_chat(chat)

        question = f"Delete the chat “{one_line(chat.title)}”?\nIts messages go with it."
        self.app.push_screen(ConfirmScreen(question), confirmed)

    @work(group="write")
    async def delete_chat(self, chat: ChatRead) -> None:
        services = self._services_or_none()
        if services is None:
            return
        try:
            await services.chats.delete_chat(chat.id)
        except SynergiaError as err:
            self._report(err)
            return
        self.sidebar.remove_chat(chat.id)
        if self.current_chat is not None and self.current_chat.id == chat.id:
            self.current_chat = None
            self._older_cursor = None
            await self.pane.show_placeholder(NO_CHAT)
            self._show_model()
            self.status_bar.usage = None
        self.notify(f"Deleted “{chat.title}”.")

    def action_models(self) -> None:
        services = self._services_or_none()
        if services is None:
            return
        try:
            # The picker is built in parallel; until it lands, say so instead of failing.
            from synergia_tui.ui.screens.model_picker import ModelPickerScreen
        except ImportError:
            self.notify("The model picker is not available in this build.", severity="warning")
            return
        current = self._current_model_id()
        self.app.push_screen(ModelPickerScreen(services, current), self._model_picked)

    def _model_picked(self, model: AIModelRead | None) -> None:
        if model is None:
            return
        if self.current_chat is None:
            self.default_model = model
            self._show_model()
            return
        self.set_chat_model(self.current_chat, model)

    @work(group="write")
    async def set_chat_model(self, chat: ChatRead, model: AIModelRead) -> None:
        services = self._services_or_none()
        if services is None:
            return
        try:
            updated = await services.chats.set_model(chat.id, model.id)
        except SynergiaError as err:
            self._report(err)
            return
        self.default_model = model
        if self.current_chat is not None and self.current_chat.id == updated.id:
            self.current_chat = updated
        self.sidebar.upsert_chat(updated, to_top=False)
        self._show_model()

    def action_copy_last_reply(self) -> None:
        reply = self.pane.last_reply()
        if reply is None:
            self.notify("There is no reply to copy yet.", severity="warning")
            return
        copy_text(self.app, neutralize(reply.content), "the last reply")

    def action_copy_code_block(self) -> None:
        blocks = [
            block
            for message in reversed(self.pane.messages)
            for block in reversed(code_blocks(message.content))
        ]
        if not blocks:
            self.notify("No code blocks in the messages shown.", severity="warning")
            return

        def chosen(block: CodeBlock | None) -> None:
            if block is not None:
                copy_text(self.app, neutralize(block.code), "the code block")

        if len(blocks) == 1:
            chosen(blocks[0])
        else:
            self.app.push_screen(CodeBlockScreen(blocks), chosen)

    def action_toggle_sidebar(self) -> None:
        sidebar = self.sidebar
        sidebar.display = not sidebar.display
        if not sidebar.display:
            self.prompt.focus()

    def action_find_chat(self) -> None:
        self.sidebar.display = True
        self.sidebar.query_one(Input).focus()

    # -- sending -------------------------------------------------------------------------------

    @on(PromptBox.Submitted)
    def _prompt_submitted(self, event: PromptBox.Submitted) -> None:
        if not event.text.strip():
            return  # empty prompts are not sent
        if self._services_or_none() is None:
            return
        chat = self.current_chat
        model_id = self._current_model_id()
        if model_id is None:
            self.notify("No model to send to: press ctrl+o to pick or add one.", severity="warning")
            return
        if not self.engine.send(event.text, chat.id if chat else None, model_id):
            # The prompt stays in the box, to send once the reply in flight has ended.
            self.notify(BUSY, severity="warning")
            return
        self.prompt.clear()

    @on(PromptBox.Changed)
    def _prompt_changed(self) -> None:
        if self.prompt.text:
            self.warm_up_model(self._current_model_id())

    @on(PromptBox.LargePaste)
    def _large_paste(self, event: PromptBox.LargePaste) -> None:
        text = event.text

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.prompt.insert_paste(text)

        question = f"Insert a paste of {len(text):,} characters ({len(text.splitlines()):,} lines)?"
        self.app.push_screen(ConfirmScreen(question, confirm_label="Insert"), confirmed)

    def _restore_prompt(self, text: str) -> None:
        if not self.prompt.text:
            self.prompt.text = text
            self.prompt.move_cursor(self.prompt.document.end)

    # -- replies: the engine streams them, the screen shows them --------------------------------

    def services_for_engine(self, services: AsyncServices) -> None:
        """Hand the engine what it needs to send (once the database is open)."""
        if services.reply_store is None:
            return  # services without a reply engine (some tests): nothing can be sent
        self.engine.configure(services, services.reply_store(on_change=self._storage_changed))

    def _storage_changed(self, change: StorageChanged) -> None:
        self.post_message(ReplyEngine.StorageChanged(change.reason))

    def warm_up_model(self, model_id: uuid.UUID | None) -> None:
        """Load what a reply from ``model_id`` needs while the prompt is being typed (once)."""
        if model_id is None or model_id in self.warmed_models:
            return
        services = self._services_or_none(quiet=True)
        if services is None or self.engine.providers is None:
            return
        self.warmed_models.add(model_id)
        self._warm_up(services, model_id)

    @work(group="warm-up", exit_on_error=False)
    async def _warm_up(self, services: AsyncServices, model_id: uuid.UUID) -> None:
        pool = self.engine.providers
        # A failure here changes nothing: the reply itself makes the client and reports it.
        with contextlib.suppress(SynergiaError, ImportError):
            if services.replies is None:
                return
            target = await services.replies.target_of(model_id)
            if target is not None and pool is not None:
                await asyncio.to_thread(pool.get, target)
                self.synergia_app.set_aside_loaded_objects()  # the SDK stays loaded too

    def action_retry_reply(self) -> None:
        """Answer the newest prompt of the open chat again (after an error, or to regenerate)."""
        chat = self.current_chat
        if chat is None:
            self.notify("No chat open.", severity="warning")
            return
        if self._services_or_none() is None:
            return
        if not self.engine.answer_again(chat.id):
            self.notify(BUSY, severity="warning")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The stop key is offered (and shown in the footer) only while this chat streams."""
        if action == "stop_reply":
            chat = self.current_chat
            return chat is not None and self.engine.is_live(chat.id)
        return True

    def action_stop_reply(self) -> None:
        """Stop the open chat's streaming reply: what arrived is kept, marked cancelled."""
        if isinstance(self.focused, Input):
            self.prompt.focus()  # escape leaves the chat filter first; it stops nothing
            return
        chat = self.current_chat
        if chat is not None:
            self.engine.stop(chat.id)

    @on(ReplyEngine.Sent)
    async def _reply_sent(self, event: ReplyEngine.Sent) -> None:
        sent = event.sent
        if self.current_chat is None and event.claim == NEW_CHAT:
            self.current_chat = sent.chat
            self._older_cursor = None
            await self.pane.show_messages([sent.prompt], has_older=False)
        elif self.current_chat is not None and self.current_chat.id == sent.chat.id:
            self.current_chat = sent.chat
            self.pane.add_message(sent.prompt)
        self.sidebar.now = self.synergia_app.clock()
        self.sidebar.upsert_chat(sent.chat)
        self._show_model()
        self.refresh_usage()

    @on(ReplyEngine.Started)
    async def _reply_started(self, event: ReplyEngine.Started) -> None:
        if self.current_chat is not None and self.current_chat.id == event.chat_id:
            self._live_views[event.chat_id] = await self.pane.append_message(event.message)
        self._show_live()

    @on(ReplyEngine.Progressed)
    async def _reply_progressed(self, event: ReplyEngine.Progressed) -> None:
        text = self.engine.take(event.chat_id)
        view = self._live_views.get(event.chat_id)
        if text and view is not None and view.is_attached:
            await view.append_stream(text)

    @on(ReplyEngine.Finished)
    async def _reply_finished(self, event: ReplyEngine.Finished) -> None:
        view = self._live_views.pop(event.chat_id, None)
        if view is not None and view.is_attached:
            await view.set_final(event.message)
        self._show_live()
        final = event.message
        if final.status == "error":
            self.notify(
                f"The reply failed: {final.error}. Press ctrl+r to try again.",
                title="Reply",
                severity="error",
            )
        elif final.status == "cut":
            self.notify(
                "The reply stopped at the token limit. Send “continue” to have it go on, or "
                "raise the model's max output tokens (ctrl+o, ctrl+g, ctrl+e).",
                title="Reply",
                severity="warning",
            )

    @on(ReplyEngine.Settled)
    def _reply_settled(self, event: ReplyEngine.Settled) -> None:
        self._show_live()
        if self.current_chat is not None and self.current_chat.id == event.chat_id:
            self.refresh_usage()  # the reply's tokens and cost are stored now

    @on(ReplyEngine.Failed)
    def _reply_failed(self, event: ReplyEngine.Failed) -> None:
        if event.text:
            self._restore_prompt(event.text)
        self._report(event.error)

    @on(ReplyEngine.StorageChanged)
    def _reply_storage(self, event: ReplyEngine.StorageChanged) -> None:
        self.status_bar.saving_paused = event.reason
        if event.reason is not None:
            self.notify(
                f"Saving paused: {event.reason}. Replies keep streaming and are written "
                "as soon as the database is back.",
                title="Database",
                severity="error",
            )
            self.check_health()
        else:
            self.notify("Saving resumed: every reply is stored.", title="Database")

    @on(ReplyEngine.Retrying)
    def _reply_retrying(self, event: ReplyEngine.Retrying) -> None:
        notice = event.notice
        self.notify(
            f"{notice.reason} Trying again in {notice.wait_s:.1f} s (attempt {notice.attempt}).",
            title="Reply",
            severity="warning",
        )

    def _show_live(self) -> None:
        """Sidebar marks and status bar after a reply started or ended."""
        if not self.is_attached:
            return  # the app is closing: nothing left to show
        self.sidebar.live_chats = self.engine.live_chats
        chat = self.current_chat
        self.status_bar.streaming = chat is not None and self.engine.is_live(chat.id)
        self.refresh_bindings()

    async def resume_live_views(self, chat_id: uuid.UUID) -> None:
        """After a chat is (re)opened, reconnect its streaming reply to the new view."""
        self._live_views.clear()
        message = self.engine.message_of(chat_id)
        if message is not None:
            for view in self.pane.views:
                if view.message.id == message.id:
                    self.engine.take(chat_id)  # all of it is shown by resume_stream below
                    self._live_views[chat_id] = view
                    await view.resume_stream(self.engine.text_of(chat_id))
        self._show_live()

    # -- links in messages ---------------------------------------------------------------------

    @on(Markdown.LinkClicked)
    def _link_clicked(self, event: Markdown.LinkClicked) -> None:
        event.stop()
        href = event.href

        def confirmed(yes: bool | None) -> None:
            if yes:
                copy_text(self.app, href, "the link")

        # Links are never opened by themselves: the URL is shown (made safe) and can be copied.
        question = f"This message links to:\n\n{one_line(href)}\n\nCopy the link?"
        self.app.push_screen(ConfirmScreen(question, confirm_label="Copy"), confirmed)

    # -- models and health ---------------------------------------------------------------------

    @work(group="models", exclusive=True)
    async def load_default_model(self) -> None:
        """The model a new chat starts with: the first enabled one, until the user picks."""
        services = self._services_or_none(quiet=True)
        if services is None:
            return
        try:
            models = await services.models.list_models(enabled_only=True)
        except SynergiaError:
            return
        if self.default_model is None and models:
            self.default_model = models[0]
        self._show_model()
        if not models:
            await self._no_models_yet(services)

    async def _no_models_yet(self, services: AsyncServices) -> None:
        """Nothing to chat with: say how to add a model, and offer what this machine has."""
        # Deferred: the first-run screen is only needed on a first run.
        from synergia_tui.ui.screens.first_run import FirstRunScreen, nothing_available_hint

        if self.current_chat is None:
            await self.pane.show_placeholder(f"{NO_CHAT}\n\n{nothing_available_hint()}")
        if not self.synergia_app.offer_first_run or self._first_run_offered:
            return
        self._first_run_offered = True
        try:
            catalogue = await services.models.list_models()
        except SynergiaError:
            return
        if not catalogue:  # a truly empty catalogue, not one whose models are all disabled

            def added(models: list[AIModelRead] | None) -> None:
                if models:
                    self.default_model = models[0]
                    self._show_model()
                    if self.current_chat is None:
                        self.call_later(self.pane.show_placeholder, NO_CHAT)

            self.app.push_screen(FirstRunScreen(services), added)

    def check_health(self) -> None:
        if not self._health_running:
            self._health_running = True
            self._check_health()

    @work(group="health")
    async def _check_health(self) -> None:
        """Ask the database how it is (on a DB thread) and show the answer."""
        services = self.services
        try:
            if services is None:
                return
            report: HealthReport = await services.health.check()
        finally:
            self._health_running = False
        was = self.health
        self.health = report
        self.status_bar.health = report
        if not report.database.reachable and (was is None or was.database.reachable):
            self.notify(
                f"The database is unreachable: {report.database.error or 'no answer'}. "
                "Synergia keeps trying.",
                title="Database",
                severity="error",
            )
        elif report.database.reachable and was is not None and not was.database.reachable:
            self.notify("The database is back.", title="Database")
            if self._chats_failed:
                self.load_chats(self._chat_query, debounce=False)
            if self.default_model is None:
                self.load_default_model()

    # -- helpers -------------------------------------------------------------------------------

    def _services_or_none(self, *, quiet: bool = False) -> AsyncServices | None:
        if self.services is None and not quiet:
            self.notify(NOT_READY, severity="warning")
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

    def _current_model_id(self) -> uuid.UUID | None:
        if self.current_chat is not None and self.current_chat.model_id is not None:
            return self.current_chat.model_id
        return self.default_model.id if self.default_model else None

    def _show_model(self) -> None:
        chat = self.current_chat
        if chat is not None and chat.model_id is not None:
            self.status_bar.model_name = chat.model_name or "(unknown model)"
        else:
            self.status_bar.model_name = self.default_model.name if self.default_model else None

    def _refresh_times(self) -> None:
        self.sidebar.now = self.synergia_app.clock()
        self.sidebar.refresh_times()
