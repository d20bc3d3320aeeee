"""The composition root: Settings → engine → services. Nothing here runs at import time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from synergia_tui import __version__
from synergia_tui.core.config import Settings
from synergia_tui.core.db import create_db_engine, read_only_message, read_only_path
from synergia_tui.core.errors import SchemaError
from synergia_tui.core.journal import ReplyJournal
from synergia_tui.core.migrations import ahead_message, ensure_schema, schema_state
from synergia_tui.core.process import process_owner
from synergia_tui.models import use_partial_indexes
from synergia_tui.services import (
    AsyncServices,
    ChatService,
    Database,
    HealthService,
    MessageService,
    ModelService,
)
from synergia_tui.services.conversation import ConversationService
from synergia_tui.services.live_sync import Changed, LiveSync
from synergia_tui.services.presets import PresetService
from synergia_tui.services.replies import Recovery, ReplyService
from synergia_tui.services.search import SearchService
from synergia_tui.services.streaming import ReplyStore, Runner, StorageChanged


@dataclass
class Container:
    """Everything built from one set of settings."""

    settings: Settings
    db: Database
    models: ModelService
    chats: ChatService
    messages: MessageService
    health: HealthService
    presets: PresetService
    search: SearchService
    replies: ReplyService
    conversation: ConversationService
    journal: ReplyJournal

    def async_services(self) -> AsyncServices:
        return AsyncServices(
            models=self.models,
            chats=self.chats,
            messages=self.messages,
            health=self.health,
            presets=self.presets,
            search=self.search,
            replies=self.replies,
            conversation=self.conversation,
            reply_store=self.reply_store,
            live_sync=self.live_sync,
        )

    def live_sync(
        self, on_change: Callable[[Changed], object], on_state: Callable[[bool], object]
    ) -> LiveSync:
        return LiveSync(self.settings.database_url, on_change, on_state)

    def reply_store(
        self,
        *,
        run: Runner | None = None,
        on_change: Callable[[StorageChanged], None] | None = None,
    ) -> ReplyStore:
        """Where this process's live replies are written, durably (see services.streaming)."""
        return ReplyStore(
            self.messages,
            journal=self.journal,
            database=self.replies.database,
            on_change=on_change,
            run=run,
        )

    def recover(self) -> Recovery:
        """Apply the journal of processes that ended, and mark their leftovers interrupted."""
        return self.replies.recover(self.journal)

    def ensure_schema(self) -> None:
        """Upgrade the embedded database by itself; refuse a server schema that is not at head.

        A database that can only be read is never migrated: at head it serves the commands that
        read; behind (or ahead of) the code it is refused, and nothing is written, not even a
        backup.
        """
        read_only = read_only_path(self.db.engine)
        if read_only is not None:
            state = schema_state(self.db.engine)
            if state.ahead:
                raise SchemaError(ahead_message(state))
            if not state.up_to_date:
                where = "empty" if state.current is None else f"at revision {state.current}"
                raise SchemaError(
                    f"{read_only_message(read_only)}; its schema is {where}, behind this "
                    f"version of Synergia ({state.head}): make it writable and run "
                    "`synergia db upgrade`"
                )
            return
        ensure_schema(self.db.engine, auto_upgrade=self.settings.is_default_database)

    def close(self) -> None:
        self.db.dispose()


def build(settings: Settings) -> Container:
    """Build the services for ``settings``; connects lazily (no query runs here)."""
    engine = create_db_engine(settings.database_url)
    use_partial_indexes(engine.dialect.name)
    db = Database(engine)
    user = settings.owner
    owner = process_owner()
    return Container(
        settings=settings,
        db=db,
        models=ModelService(db),
        chats=ChatService(db, user),
        messages=MessageService(db, user),
        health=HealthService(db, version=__version__, display_url=settings.display_url),
        presets=PresetService(db, user, default_name=settings.synergia_default_preset),
        search=SearchService(db, user),
        replies=ReplyService(db, user, owner=owner, database=settings.display_url),
        conversation=ConversationService(db, user, owner=owner),
        journal=ReplyJournal(),
    )
