"""The status bar: database health, app version, current model, and this chat's usage.

It asks for its own data (health checks, the open chat's usage) in workers, through the
async facade; the model name and the open chat are bound down from the screen.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

from synergia_tui.core.errors import SynergiaError
from synergia_tui.core.safe_text import one_line
from synergia_tui.ui.format import format_cost, format_latency, format_tokens

if TYPE_CHECKING:
    from synergia_tui.models import ChatRead
    from synergia_tui.services.facade import AsyncServices
    from synergia_tui.services.reads import ChatUsage, HealthReport


class StatusBar(Horizontal):
    """Always visible along the bottom.

    Its parent sets ``services`` once the database is up, binds ``model_name`` and
    ``current_chat``, and calls ``check_health`` / ``refresh_usage``; the bar posts
    ``DatabaseBack`` when the database answers again after being away. ``health`` is None
    until the first check; ``starting`` is the text shown meanwhile.
    """

    health: reactive[HealthReport | None] = reactive(None, always_update=True)
    starting: reactive[str] = reactive("opening database…")
    model_name: reactive[str | None] = reactive(None)
    current_chat: reactive[ChatRead | None] = reactive(None, repaint=False)
    usage: reactive[ChatUsage | None] = reactive(None)
    system_prompt: reactive[str | None] = reactive(None)
    """The open chat's system prompt (or the next new chat's), bound down: shown as set."""
    streaming: reactive[bool] = reactive(False)
    """The chat on screen has a reply streaming."""
    saving_paused: reactive[str | None] = reactive(None)
    """Why replies cannot be saved right now (they keep streaming and are kept)."""
    retrying: reactive[str | None] = reactive(None)
    context: reactive[str | None] = reactive(None)
    """How much of the model's window the next request would use (``~12.4k / 128k``)."""
    live: reactive[bool | None] = reactive(None)
    """Live sync: watching other sessions' changes (True), lost (False), not running (None)."""
    """The reply on screen waits to ask its provider again ("rate limited — retrying in 3 s")."""

    class DatabaseBack(Message):
        """A health check reached the database again after it had been unreachable."""

    def __init__(self, version: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.version = version
        self.services: AsyncServices | None = None
        self._health_running = False

    def compose(self) -> ComposeResult:
        # markup=False everywhere: model names and database errors are untrusted text.
        yield Static("", id="status-db", markup=False)
        yield Static("", id="status-model", markup=False)
        yield Static("", id="status-usage", markup=False)
        yield Static(f"v{self.version}", id="status-version", markup=False)

    def on_mount(self) -> None:
        self._show_db()
        self._show_model()
        self._show_usage()

    def watch_health(self) -> None:
        self._show_db()

    def watch_starting(self) -> None:
        self._show_db()

    def watch_model_name(self) -> None:
        self._show_model()

    def watch_usage(self) -> None:
        self._show_usage()

    def watch_current_chat(self, old: ChatRead | None, new: ChatRead | None) -> None:
        if new is None or old is None or new.id != old.id:
            self.usage = None  # another chat's numbers; refresh_usage brings this one's

    # -- data ----------------------------------------------------------------------------------

    def check_health(self) -> None:
        """Ask the database how it is (unless a check is already on its way)."""
        if not self._health_running:
            self._health_running = True
            self._check_health()

    @work(group="health")
    async def _check_health(self) -> None:
        services = self.services
        try:
            if services is None:
                return
            report: HealthReport = await services.health.check()
        finally:
            self._health_running = False
        was = self.health
        self.health = report
        if not report.database.reachable and (was is None or was.database.reachable):
            self.notify(
                f"The database is unreachable: {report.database.error or 'no answer'}. "
                "Synergia keeps trying.",
                title="Database",
                severity="error",
            )
        elif report.database.reachable and was is not None and not was.database.reachable:
            self.notify("The database is back.", title="Database")
            self.post_message(self.DatabaseBack())

    @work(group="usage", exclusive=True)
    async def refresh_usage(self, chat_id: uuid.UUID) -> None:
        """Tokens and cost of chat ``chat_id`` (shown if it is still the open chat)."""
        if self.services is None:
            return
        try:
            usage = await self.services.chats.usage(chat_id)
        except SynergiaError:
            return  # the health part already says when the database is away
        if self.current_chat is not None and self.current_chat.id == chat_id:
            self.usage = usage

    def watch_streaming(self) -> None:
        self._show_model()

    def watch_system_prompt(self) -> None:
        self._show_model()

    def watch_retrying(self) -> None:
        self._show_model()

    def watch_saving_paused(self) -> None:
        self._show_db()

    def watch_live(self) -> None:
        self._show_db()

    def watch_context(self) -> None:
        self._show_usage()

    @property
    def database_down(self) -> bool:
        return self.health is not None and not self.health.database.reachable

    def _part(self, selector: str) -> Static | None:
        # Watchers can run before compose has mounted the parts.
        try:
            return self.query_one(selector, Static)
        except NoMatches:
            return None

    def _show_db(self) -> None:
        widget = self._part("#status-db")
        if widget is None:
            return
        report = self.health
        if report is None:
            text = f"db {self.starting}"
        else:
            db = report.database
            if db.reachable:
                text = f"{db.backend} ● {format_latency(db.latency_ms)}"
                if report.problems:
                    text += f" · {report.problems[0]}"
            else:
                text = f"{db.backend} ✖ unreachable"
        if self.live is not None and (report is None or report.database.reachable):
            text += " · live" if self.live else " · live sync off"
        if self.saving_paused is not None:
            text += " · saving paused, replies kept"
        widget.update(one_line(text))
        down = report is not None and not report.database.reachable
        self.set_class(down or self.saving_paused is not None, "-db-down")
        self.set_class(report is not None and report.status == "degraded", "-db-degraded")

    def _show_model(self) -> None:
        if (widget := self._part("#status-model")) is not None:
            name = self.model_name
            text = f"model {one_line(name)}" if name else "no model · ctrl+o"
            if self.system_prompt:
                text += " · system prompt"
            if self.streaming:
                # The retry's words are plain text: every part is a Static with markup=False.
                doing = one_line(self.retrying) if self.retrying else "replying"
                text += f" · {doing} (esc stops)"
            widget.update(text)

    def _show_usage(self) -> None:
        if (widget := self._part("#status-usage")) is not None:
            usage = self.usage
            parts = [f"ctx {self.context}"] if self.context else []
            if usage is not None:
                tokens = usage.prompt_tokens + usage.completion_tokens
                parts.append(f"{format_tokens(tokens)} tok · {format_cost(usage.cost)}")
            widget.update(" · ".join(parts))
