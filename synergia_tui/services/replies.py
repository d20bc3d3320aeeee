"""Planning replies and recovering the ones a process that ended left behind.

A reply is stored before the first token arrives (``streaming``, leased to the process that
streams it), saved as it grows, and always closed with a status (see ``services.streaming``).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from synergia_tui.core.clock import utcnow
from synergia_tui.core.errors import ConflictError, NotFoundError, ValidationError
from synergia_tui.core.journal import JournalEntry, ReplyJournal
from synergia_tui.core.process import OwnerState, owner_state, process_owner
from synergia_tui.models import AIModel, Chat, Message, MessageRead
from synergia_tui.providers.base import ChatTurn, ProviderTarget
from synergia_tui.services.chats import find_chat, read_messages
from synergia_tui.services.messages import (
    INTERRUPTED,
    LEASE_S,
    MessageService,
    _usable_model,
    cursor_of,
    on_path_of,
    refuse_while_streaming,
    stored_after,
)
from synergia_tui.services.unit_of_work import Database, UnitOfWork

log = logging.getLogger(__name__)

CONTEXT_MESSAGES = 100
"""At most this many earlier messages go to the model (fewer when the context window is known)."""
CHARS_PER_TOKEN = 4
__all__ = ["INTERRUPTED", "ReplyPlan", "ReplyService", "build_turns", "plan_reply"]


@dataclass(frozen=True, slots=True)
class ReplyPlan:
    """Everything needed to stream one reply: the stored message and what to send."""

    message: MessageRead
    target: ProviderTarget
    turns: tuple[ChatTurn, ...]
    system: str | None
    owner: str
    """The process holding the reply's lease (see ``core.process``)."""

    @property
    def prompt_chars(self) -> int:
        """Characters sent, for estimating input tokens when the provider reports none."""
        return sum(len(turn.content) for turn in self.turns) + len(self.system or "")


def build_turns(history: list[Message], context_window: int | None) -> list[ChatTurn]:
    """The conversation as the model should see it.

    Failed or empty replies are left out; when a prompt was answered more than once (regenerate),
    only the newest answer counts. With a known context window, the oldest turns are dropped so
    that the rest fits (estimated at four characters a token, keeping a quarter for the answer).
    """
    turns: list[ChatTurn] = []
    for message in history:
        if message.role == "user":
            turns.append(ChatTurn("user", message.content))
        elif message.role == "assistant" and message.content and message.status != "error":
            if turns and turns[-1].role == "assistant":
                turns[-1] = ChatTurn("assistant", message.content)
            else:
                turns.append(ChatTurn("assistant", message.content))
    while turns and turns[0].role == "assistant":
        turns.pop(0)
    if context_window:
        budget = context_window * CHARS_PER_TOKEN * 3 // 4
        kept: list[ChatTurn] = []
        used = 0
        for turn in reversed(turns):
            used += len(turn.content)
            if kept and used > budget:
                break
            kept.append(turn)
        turns = list(reversed(kept))
        while len(turns) > 1 and turns[0].role == "assistant":
            turns.pop(0)
    return turns


def _target(model: AIModel) -> ProviderTarget:
    return ProviderTarget(
        provider=model.provider,
        api_model=model.api_model,
        base_url=model.base_url,
        api_key_env=model.api_key_env,
        max_output_tokens=model.max_output_tokens,
    )


def lease_until(now: datetime | None = None) -> datetime:
    """When a lease taken or renewed now runs out."""
    return (now or utcnow()) + timedelta(seconds=LEASE_S)


def plan_reply(
    uow: UnitOfWork,
    chat: Chat,
    model: AIModel,
    owner: str,
    *,
    replacing: uuid.UUID | None = None,
) -> ReplyPlan:
    """Inside ``uow``: store an empty ``streaming`` reply leased to ``owner`` and gather what to
    send for it. Refuses when a reply is already streaming in the chat under a live lease.

    The reply answers the end of the chat's path. When that is a reply already (ctrl+r), or
    with ``replacing`` (a reply on the path), it is answered again: the new reply becomes a
    sibling of the old one, under the same prompt, and the old one with all that followed it
    leaves the path (it stays stored, one ``left`` away).
    """
    now = utcnow()
    refuse_while_streaming(uow, chat.id, now)
    parent = uow.messages.leaf(chat.id)
    if replacing is not None:
        parent = on_path_of(uow, chat.id, replacing)
        if parent.role != "assistant":
            raise ValidationError("Only a reply can be answered again")
    if parent is not None and parent.role == "assistant":
        uow.messages.leave_path(chat.id, cursor_of(parent))
        parent = uow.messages.get(parent.parent_id) if parent.parent_id else None
    history = list(reversed(uow.messages.newest_first(chat.id, limit=CONTEXT_MESSAGES)))
    turns = build_turns(history, model.context_window)
    if not turns or parent is None:
        raise ValidationError("Nothing to answer: send a prompt first")
    message = uow.messages.add(
        Message(
            chat_id=chat.id,
            parent_id=parent.id,
            model_id=model.id,
            role="assistant",
            status="streaming",
            created_at=stored_after(parent, now),
            lease_owner=owner,
            lease_expires_at=lease_until(now),
        )
    )
    chat.updated_at = message.created_at
    return ReplyPlan(
        message=read_messages(uow, [message], {model.id: model.name})[0],
        target=_target(model),
        turns=tuple(turns),
        system=chat.system_prompt,
        owner=owner,
    )


@dataclass(frozen=True, slots=True)
class Recovery:
    """What a start-up found: journal entries applied, replies marked interrupted."""

    applied: int = 0
    interrupted: int = 0


@dataclass(frozen=True, slots=True)
class ContextSize:
    """How much of a model's window the next request of a chat would use, before the prompt
    being typed: ``tokens`` exact when the last reply's were reported by its provider and
    nothing follows it, else estimated at four characters a token."""

    tokens: int
    estimated: bool
    window: int | None


def estimate_tokens(chars: int) -> int:
    """Tokens for ``chars`` characters of text, as estimated everywhere (four a token)."""
    return -(-chars // CHARS_PER_TOKEN)


class ReplyService:
    """Plans replies and recovers the ones a process that ended left behind; scoped to one user.

    ``owner`` is this process (it holds the leases of the replies it plans); ``database`` names
    the database in journal entries, so they are applied only to the one they were written for.
    """

    def __init__(
        self, db: Database, user_id: str, *, owner: str | None = None, database: str = ""
    ) -> None:
        self.db = db
        self.user_id = user_id
        self.owner = owner or process_owner()
        self.database = database

    def context_size(
        self, chat_id: uuid.UUID | None, model_id: uuid.UUID | None = None
    ) -> ContextSize:
        """What the chat's next request holds (its system prompt and the path that
        ``build_turns`` would send), against the window of ``model_id`` (else the chat's)."""
        with self.db.unit_of_work() as uow:
            chat = find_chat(uow, self.user_id, chat_id) if chat_id is not None else None
            wanted = model_id or (chat.model_id if chat is not None else None)
            model = uow.models.get(wanted) if wanted is not None else None
            window = model.context_window if model is not None else None
            if chat is None:
                return ContextSize(tokens=0, estimated=False, window=window)
            history = list(reversed(uow.messages.newest_first(chat.id, limit=CONTEXT_MESSAGES)))
        last = history[-1] if history else None
        if (
            last is not None
            and last.role == "assistant"
            and last.prompt_tokens is not None
            and last.completion_tokens is not None
            and not last.tokens_estimated
        ):
            return ContextSize(last.prompt_tokens + last.completion_tokens, False, window)
        turns = build_turns(history, window)
        chars = sum(len(turn.content) for turn in turns) + len(chat.system_prompt or "")
        return ContextSize(estimate_tokens(chars), bool(chars), window)

    def prepare(
        self,
        chat_id: uuid.UUID,
        *,
        model_id: uuid.UUID | None = None,
        replacing: uuid.UUID | None = None,
    ) -> ReplyPlan:
        """Answer the chat's newest prompt (again), or the prompt of the reply ``replacing``:
        one transaction, the reply leased to us (see ``plan_reply``)."""
        with self.db.unit_of_work(write=True) as uow:
            chat = find_chat(uow, self.user_id, chat_id, for_update=True)
            model = _usable_model(uow, model_id or chat.model_id)
            plan = plan_reply(uow, chat, model, self.owner, replacing=replacing)
            uow.commit()
            return plan

    def target_of(self, model_id: uuid.UUID) -> ProviderTarget | None:
        """Where replies from ``model_id`` go (None for an unknown model)."""
        with self.db.unit_of_work() as uow:
            model = uow.models.get(model_id)
            return _target(model) if model is not None else None

    def recover(self, journal: ReplyJournal | None = None) -> Recovery:
        """Apply what ended processes left in the journal, then mark their leftovers interrupted."""
        applied = self.apply_journal(journal) if journal is not None else 0
        return Recovery(applied=applied, interrupted=self.recover_interrupted())

    def recover_interrupted(self) -> int:
        """Mark this user's replies still ``streaming`` whose owner is gone as interrupted.

        A reply is another process's until that process is known to be gone (same machine, its
        pid no longer runs) or its lease ran out (another machine: nothing else can tell). Each
        is changed by a conditional update, so a reply that finished, or whose lease was
        renewed, in the meantime is never overwritten.
        """
        now = utcnow()
        with self.db.unit_of_work(write=True) as uow:
            count = 0
            for message in uow.messages.streaming():
                if message.lease_owner == self.owner:
                    continue  # ours: live in this very process
                if uow.chats.get_live(self.user_id, message.chat_id) is None:
                    continue
                state = owner_state(message.lease_owner)
                if state is OwnerState.ALIVE:
                    continue
                expired_before = None if state is OwnerState.GONE else now
                if uow.messages.mark_interrupted(
                    message.id,
                    owner=message.lease_owner,
                    error=INTERRUPTED,
                    expired_before=expired_before,
                ):
                    count += 1
            uow.commit()
            return count

    def apply_journal(self, journal: ReplyJournal) -> int:
        """Store what the journal kept of replies whose owner has ended; returns how many."""
        applied = 0
        for entry in journal.entries():
            if entry.database != self.database or entry.user_id != self.user_id:
                continue
            if entry.owner == self.owner or owner_state(entry.owner) is OwnerState.ALIVE:
                continue  # its owner still runs and will store it itself
            try:
                stored = self._apply(entry)
            except (ConflictError, NotFoundError, ValidationError) as exc:
                # Refused for good (not a database that is away): set aside for a person to
                # look at, so that it neither blocks the start nor is lost.
                log.error("journal entry %s cannot be applied: %s", entry.message_id, exc)
                journal.set_aside(entry.message_id)
                continue
            applied += int(stored)
            journal.remove(entry.message_id)
        return applied

    def _apply(self, entry: JournalEntry) -> bool:
        with self.db.unit_of_work(write=True) as uow:
            message = uow.messages.get(uuid.UUID(entry.message_id))
            if message is None or message.lease_owner != entry.owner:
                return False
            if uow.chats.get_live(self.user_id, message.chat_id) is None:
                return False
            if message.status != "streaming" and len(message.content) >= len(entry.content):
                return False  # the database already has as much (a later save succeeded)
        status, error = entry.status, entry.error
        if status == "streaming":  # the process ended before the reply did
            status, error = "error", INTERRUPTED
        MessageService(self.db, self.user_id).finish_reply(
            uuid.UUID(entry.message_id),
            content=entry.content,
            status=status,
            error=error,
            prompt_tokens=entry.prompt_tokens,
            completion_tokens=entry.completion_tokens,
            tokens_estimated=entry.tokens_estimated,
            finish_reason=entry.finish_reason,
            owner=entry.owner,
        )
        return True
