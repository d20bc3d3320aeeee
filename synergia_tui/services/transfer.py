"""Export and import of many chats at once (``synergia export`` / ``synergia import``).

An import is one unit of work: it commits everything or, on any problem, nothing. It is
idempotent: chats and messages whose ids are already stored are left as they are.

Models are referenced by id and name. A model the database does not have is created as a
placeholder: disabled, provider ``openai``, its name as the provider's model id, no key. So the
history shows the model's name and an export after the import is the same document, and the
user can make it usable with ``synergia models edit`` and ``enable``. If the name is already taken
by another live model, the placeholder is created soft-deleted (history still shows its name;
the catalogue keeps its own). An import that names a model without an id (ChatGPT's
``model_slug``) uses the live model of that name, or a placeholder with an id derived from it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from synergia_tui.core.clock import utcnow
from synergia_tui.core.errors import ConflictError, NotFoundError
from synergia_tui.models import AIModel, Chat, Message
from synergia_tui.repositories import TransferRepository
from synergia_tui.services.archive import (
    ArchivedChat,
    ImportReport,
    check_archived_chat,
    parents_first,
)
from synergia_tui.services.chats import read_chat, read_messages
from synergia_tui.services.reads import ChatArchive, ChatExport, ChatUsage
from synergia_tui.services.unit_of_work import Database, UnitOfWork

MODEL_NAMESPACE = uuid.UUID("0f6b8a4e-2d51-4b7c-a3c9-8e1d2f4a6b90")
"""Fixed forever: placeholder models named without an id get ids derived from it and the name."""

Progress = Callable[[int, int], None]


@dataclass
class _Models:
    """Resolves (id, name) references to stored model ids within one import."""

    uow: UnitOfWork
    added: list[str]
    known: dict[tuple[uuid.UUID | None, str | None], uuid.UUID | None] = field(default_factory=dict)

    def resolve(self, model_id: uuid.UUID | None, name: str | None) -> uuid.UUID | None:
        """The stored model for this reference (one lookup per distinct reference)."""
        key = (model_id, name)
        if key not in self.known:
            self.known[key] = self._resolve(model_id, name)
        return self.known[key]

    def _resolve(self, model_id: uuid.UUID | None, name: str | None) -> uuid.UUID | None:
        if model_id is not None:
            if self.uow.models.get(model_id) is not None:
                return model_id
            if name is None:
                return None  # an unknown model with no name: nothing to show or create
            return self._placeholder(model_id, name)
        if name is None:
            return None
        live = self.uow.models.get_live_by_name(name)
        if live is not None:
            return live.id
        derived = uuid.uuid5(MODEL_NAMESPACE, name)
        if self.uow.models.get(derived) is not None:
            return derived
        return self._placeholder(derived, name)

    def _placeholder(self, model_id: uuid.UUID, name: str) -> uuid.UUID:
        taken = self.uow.models.get_live_by_name(name) is not None
        now = utcnow()
        self.uow.models.add(
            AIModel(
                id=model_id,
                name=name[:200],
                provider="openai",
                api_model=name[:200],
                is_enabled=False,
                is_deleted=taken,
                created_at=now,
                updated_at=now,
            )
        )
        self.added.append(name)
        return model_id


class TransferService:
    """Exports and imports one user's chats."""

    def __init__(self, db: Database, user_id: str) -> None:
        self.db = db
        self.user_id = user_id

    def export_chats(self, chat_ids: list[uuid.UUID] | None = None) -> list[ChatArchive]:
        """The given chats (all live ones when None, oldest first), each with every message."""
        archives = []
        with self.db.unit_of_work() as uow:
            transfer = TransferRepository(uow.session)
            ids = transfer.live_chat_ids(self.user_id) if chat_ids is None else chat_ids
            for chat_id in dict.fromkeys(ids):
                chat = uow.chats.get_live(self.user_id, chat_id)
                if chat is None:
                    raise NotFoundError(f"Chat {chat_id} not found")
                rows = uow.messages.all_in_order(chat_id)
                wanted = {r.model_id for r in rows if r.model_id}
                names = uow.models.names_by_id(
                    wanted | ({chat.model_id} if chat.model_id else set())
                )
                export = ChatExport(
                    chat=read_chat(chat, names.get(chat.model_id) if chat.model_id else None),
                    messages=read_messages(uow, rows, names),
                )
                usage = ChatUsage(chat.prompt_tokens, chat.completion_tokens, chat.cost)
                archives.append(ChatArchive(export=export, usage=usage))
        return archives

    def import_chats(
        self, chats: list[ArchivedChat], *, progress: Progress | None = None
    ) -> ImportReport:
        """Store ``chats`` in one transaction; what is already stored (by id) is skipped."""
        for chat in chats:
            check_archived_chat(chat)
        seen: set[uuid.UUID] = set()
        for chat in chats:
            if chat.id in seen:
                raise ConflictError(f"{chat.where}: the chat occurs twice in the file")
            seen.add(chat.id)
        added = present = messages_added = messages_present = 0
        with self.db.unit_of_work(write=True) as uow:
            transfer = TransferRepository(uow.session)
            models = _Models(uow, [])
            owners = transfer.chat_owners(c.id for c in chats)
            stored = transfer.message_chats(m.id for c in chats for m in c.messages)
            for done, chat in enumerate(chats, start=1):
                owner = owners.get(chat.id)
                if owner is not None and owner != self.user_id:
                    raise ConflictError(
                        f"{chat.where}: a chat with this id belongs to another user"
                    )
                if owner is None:
                    transfer.add_in_order([self._chat_row(chat, models)])
                    added += 1
                else:
                    present += 1
                rows = []
                for message in parents_first(chat.messages):
                    other = stored.get(message.id)
                    if other is not None:
                        if other != chat.id:
                            raise ConflictError(
                                f"{chat.where}, message {message.id}: stored in another chat"
                            )
                        messages_present += 1
                        continue
                    rows.append(
                        Message(
                            id=message.id,
                            chat_id=chat.id,
                            parent_id=message.parent_id,
                            on_path=message.on_path,
                            model_id=models.resolve(message.model_id, message.model_name),
                            role=message.role,
                            content=message.content,
                            status=message.status,
                            error=message.error,
                            prompt_tokens=message.prompt_tokens,
                            completion_tokens=message.completion_tokens,
                            cost=message.cost,
                            tokens_estimated=message.tokens_estimated,
                            finish_reason=message.finish_reason,
                            created_at=message.created_at,
                            is_deleted=message.is_deleted,
                        )
                    )
                transfer.add_in_order(rows)
                messages_added += len(rows)
                if progress is not None:
                    progress(done, len(chats))
            uow.commit()
        return ImportReport(added, present, messages_added, messages_present, models.added)

    def _chat_row(self, chat: ArchivedChat, models: _Models) -> Chat:
        return Chat(
            id=chat.id,
            user_id=self.user_id,
            title=chat.title,
            model_id=models.resolve(chat.model_id, chat.model_name),
            system_prompt=chat.system_prompt,
            is_deleted=False,
            created_at=chat.created_at,
            updated_at=chat.updated_at,
            prompt_tokens=chat.prompt_tokens,
            completion_tokens=chat.completion_tokens,
            cost=chat.cost,
        )
