"""Business rules for messages: prompts, replies and what they cost."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from synergia_tui.core.clock import utcnow
from synergia_tui.core.errors import ConflictError, NotFoundError, ValidationError
from synergia_tui.core.ids import id_prefix
from synergia_tui.models import (
    DEFAULT_TITLE,
    STATUSES,
    AIModel,
    Chat,
    ChatRead,
    Message,
    MessageRead,
)
from synergia_tui.repositories import MessageCursor
from synergia_tui.services.chats import (
    find_chat,
    read_chat,
    read_messages,
    title_from_prompt,
)
from synergia_tui.services.reads import MessagePage, PromptPage
from synergia_tui.services.unit_of_work import Database, UnitOfWork
from synergia_tui.services.validation import scrub_reply, storable_text

PAGE_SIZE = 30
PROMPT_PAGE = 50
MAX_PAGE = 500
MAX_PROMPT_CHARS = 2_000_000
COST_PLACES = Decimal("1e-12")
ONE_MILLION = Decimal(1_000_000)
LEASE_S = 60.0
"""How long a streaming reply stays its owner's without a save; every save renews it."""
INTERRUPTED = "Interrupted: Synergia stopped before the reply finished"
FINAL_STATUSES = tuple(s for s in STATUSES if s != "streaming")


def compute_cost(
    prompt_tokens: int | None,
    completion_tokens: int | None,
    input_price: Decimal,
    output_price: Decimal | None,
) -> Decimal:
    """tokens × price / 1,000,000, input and output priced separately, exactly."""
    output_price = input_price if output_price is None else output_price
    total = (
        Decimal(prompt_tokens or 0) * input_price + Decimal(completion_tokens or 0) * output_price
    )
    return (total / ONE_MILLION).quantize(COST_PLACES)


def _page(
    uow: UnitOfWork,
    rows: list[Message],
    *,
    older: bool,
    newer: bool,
    total: int | None,
) -> MessagePage:
    """``rows`` (in reading order) as a page, with cursors at its edges where more lie beyond."""
    messages = read_messages(uow, rows)
    first, last = (rows[0], rows[-1]) if rows else (None, None)
    return MessagePage(
        messages=messages,
        older_cursor=MessageCursor(first.created_at, first.id) if older and first else None,
        newer_cursor=MessageCursor(last.created_at, last.id) if newer and last else None,
        first_index=total - len(rows) if total is not None else None,
        total=total,
    )


def _usable_model(uow: UnitOfWork, model_id: uuid.UUID | None) -> AIModel:
    model = uow.models.get(model_id) if model_id is not None else None
    if model is None or model.is_deleted or not model.is_enabled:
        raise ValidationError("Model not available")
    return model


def stored_after(parent: Message | None, now: datetime | None = None) -> datetime:
    """When a message that follows ``parent`` is stored: now, or just after ``parent`` when a
    clock (another machine's, or the same microsecond) says otherwise, so that a path reads in
    ``created_at`` order."""
    now = now or utcnow()
    if parent is not None and now <= parent.created_at:
        return parent.created_at + timedelta(microseconds=1)
    return now


def refuse_while_streaming(uow: UnitOfWork, chat_id: uuid.UUID, now: datetime) -> None:
    """A chat whose path is about to change must not have a reply streaming into it."""
    for other in uow.messages.streaming_in_chat(chat_id):
        if other.lease_expires_at is not None and other.lease_expires_at > now:
            raise ConflictError("A reply is already streaming in this chat; stop it first")


def on_path_of(uow: UnitOfWork, chat_id: uuid.UUID, message_id: uuid.UUID) -> Message:
    """The chat's message ``message_id``, which must be on the path shown."""
    message = _in_chat(uow, chat_id, message_id)
    if not message.on_path:
        raise ValidationError("That message is on another branch of this chat")
    return message


def _in_chat(uow: UnitOfWork, chat_id: uuid.UUID, message_id: uuid.UUID) -> Message:
    message = uow.messages.get(message_id)
    if message is None or message.chat_id != chat_id or message.is_deleted:
        raise NotFoundError(f"Message {message_id} is not in this chat")
    return message


def cursor_of(message: Message) -> MessageCursor:
    return MessageCursor(message.created_at, message.id)


class MessageService:
    """Stores prompts and replies of one user's chats."""

    def __init__(self, db: Database, user_id: str) -> None:
        self.db = db
        self.user_id = user_id

    def list_messages(
        self,
        chat_id: uuid.UUID,
        *,
        limit: int = PAGE_SIZE,
        before: MessageCursor | None = None,
        after: MessageCursor | None = None,
    ) -> MessagePage:
        """A page of the chat in reading order (oldest first): the newest ``limit`` messages
        older than ``before``, or the oldest ``limit`` newer than ``after``. With neither, the
        chat's newest page, which also says where it lies in the chat (``first_index``)."""
        if before is not None and after is not None:
            raise ValidationError("A page starts before a message or after one, not both")
        limit = max(1, min(limit, MAX_PAGE))
        with self.db.unit_of_work() as uow:
            find_chat(uow, self.user_id, chat_id)
            if after is not None:
                rows = uow.messages.oldest_first(chat_id, limit=limit + 1, after=after)
                newer, older = len(rows) > limit, True
                rows = rows[:limit]
            else:
                rows = uow.messages.newest_first(chat_id, limit=limit + 1, before=before)
                older, newer = len(rows) > limit, before is not None
                rows = list(reversed(rows[:limit]))
            total = uow.messages.count(chat_id) if before is None and after is None else None
            return _page(uow, rows, older=older, newer=newer, total=total)

    def first_messages(self, chat_id: uuid.UUID, *, limit: int = PAGE_SIZE) -> MessagePage:
        """The chat's oldest ``limit`` messages, in reading order."""
        limit = max(1, min(limit, MAX_PAGE))
        with self.db.unit_of_work() as uow:
            find_chat(uow, self.user_id, chat_id)
            rows = uow.messages.oldest_first(chat_id, limit=limit + 1)
            newer = len(rows) > limit
            rows = rows[:limit]
            total = uow.messages.count(chat_id)
            page = _page(uow, rows, older=False, newer=newer, total=total)
        return MessagePage(page.messages, None, page.newer_cursor, first_index=0, total=total)

    def recent_prompts(
        self, chat_id: uuid.UUID, *, limit: int = PROMPT_PAGE, before: MessageCursor | None = None
    ) -> PromptPage:
        """The chat's prompts, newest first, older than ``before``: what ``up`` in the prompt
        box recalls. Every branch's prompts count (an edited prompt's first version too);
        repeats in a row are shown once."""
        limit = max(1, min(limit, MAX_PAGE))
        with self.db.unit_of_work() as uow:
            find_chat(uow, self.user_id, chat_id)
            rows = uow.messages.prompts_newest_first(chat_id, limit=limit + 1, before=before)
        more = len(rows) > limit
        rows = rows[:limit]
        prompts: list[str] = []
        for _, _, content in rows:
            if not prompts or prompts[-1] != content:
                prompts.append(content)
        last = rows[-1] if rows else None
        older = MessageCursor(last[1], last[0]) if more and last is not None else None
        return PromptPage(prompts, older)

    def find_message_by_prefix(self, chat_id: uuid.UUID, ref: str) -> uuid.UUID:
        """The id of the chat's message whose id is ``ref`` or starts with it (see
        ``ChatService.find_chat_by_prefix``)."""
        digits = id_prefix(ref, "message")
        with self.db.unit_of_work() as uow:
            find_chat(uow, self.user_id, chat_id)
            ids = uow.messages.ids_with_prefix(chat_id, digits, limit=2)
        if not ids:
            raise NotFoundError(f"No message of this chat has an id starting with {digits}")
        if len(ids) > 1:
            raise ValidationError(f"Several messages' ids start with {digits}: give more digits")
        return ids[0]

    def message_at(self, chat_id: uuid.UUID, index: int) -> uuid.UUID:
        """The id of the chat's message at ``index`` in reading order (clamped to the chat)."""
        with self.db.unit_of_work() as uow:
            find_chat(uow, self.user_id, chat_id)
            total = uow.messages.count(chat_id)
            message_id = uow.messages.id_at(chat_id, min(max(0, index), total - 1))
        if message_id is None:
            raise NotFoundError("This chat has no messages")
        return message_id

    def messages_around(
        self, chat_id: uuid.UUID, message_id: uuid.UUID, *, limit: int = PAGE_SIZE
    ) -> MessagePage:
        """A page of about ``limit`` messages with ``message_id`` in its middle (its older
        half before it), in reading order, and where that page is in the chat."""
        limit = max(2, min(limit, MAX_PAGE))
        with self.db.unit_of_work() as uow:
            find_chat(uow, self.user_id, chat_id)
            target = uow.messages.get(message_id)
            if target is None or target.chat_id != chat_id or target.is_deleted:
                raise NotFoundError(f"Message {message_id} is not in this chat")
            if not target.on_path:
                raise NotFoundError(f"Message {message_id} is on another branch of this chat")
            at = MessageCursor(target.created_at, target.id)
            half = limit // 2
            older_rows = uow.messages.newest_first(chat_id, limit=half + 1, before=at)
            newer_rows = uow.messages.oldest_first(chat_id, limit=limit - half, after=at)
            older = len(older_rows) > half
            newer = len(newer_rows) >= limit - half
            rows = [*reversed(older_rows[:half]), target, *newer_rows[: limit - half - 1]]
            index = uow.messages.count(chat_id, before=at) - min(len(older_rows), half)
            total = uow.messages.count(chat_id)
            page = _page(uow, rows, older=older, newer=newer, total=None)
        return MessagePage(
            page.messages, page.older_cursor, page.newer_cursor, first_index=index, total=total
        )

    # -- the tree ------------------------------------------------------------------------------

    def switch_sibling(
        self, chat_id: uuid.UUID, message_id: uuid.UUID, step: int
    ) -> MessageRead | None:
        """Show another version of a turn: the sibling ``step`` places from ``message_id``
        (-1 the one before, 1 the one after), and below it the branch chosen there last.
        Returns that sibling, or None when there is none that way. Nothing is deleted."""
        with self.db.unit_of_work(write=True) as uow:
            chat = find_chat(uow, self.user_id, chat_id, for_update=True)
            now = utcnow()
            refuse_while_streaming(uow, chat.id, now)
            message = on_path_of(uow, chat.id, message_id)
            siblings = uow.messages.siblings(chat.id, {message.parent_id})[message.parent_id]
            place = siblings.index(message.id) + step
            if step == 0 or not 0 <= place < len(siblings):
                return None
            uow.messages.leave_path(chat.id, cursor_of(message))
            uow.messages.join_path(uow.messages.branch_from(siblings[place]))
            chosen = uow.messages.get(siblings[place])
            assert chosen is not None
            chosen.chosen_at = now
            uow.session.flush()
            shown = read_messages(uow, [chosen])[0]
            uow.commit()
            return shown

    def show_version_of(self, chat_id: uuid.UUID, message_id: uuid.UUID) -> bool:
        """Show the versions that lead to ``message_id`` (a search hit on another branch of the
        chat): at each turn above it where another version is shown, its version is chosen, and
        below it the branch chosen there last. Returns whether the path changed (a message on
        the path is only read, not written). Nothing is deleted; ``←``/``→`` go back."""
        with self.db.unit_of_work() as uow:
            find_chat(uow, self.user_id, chat_id)
            if _in_chat(uow, chat_id, message_id).on_path:
                return False
        with self.db.unit_of_work(write=True) as uow:
            chat = find_chat(uow, self.user_id, chat_id, for_update=True)
            if _in_chat(uow, chat.id, message_id).on_path:
                return False  # shown by another terminal meanwhile
            now = utcnow()
            refuse_while_streaming(uow, chat.id, now)
            above = uow.messages.path_to(message_id)
            first_off = next(m for m in above if not m.on_path)  # the turn where paths part
            siblings = uow.messages.siblings(chat.id, {first_off.parent_id})[first_off.parent_id]
            for sibling_id in siblings:
                sibling = uow.messages.get(sibling_id)
                if sibling is not None and sibling.on_path:  # the version shown at that turn
                    uow.messages.leave_path(chat.id, cursor_of(sibling))
            start = above.index(first_off)
            uow.messages.join_path(
                [m.id for m in above[start:-1]] + uow.messages.branch_from(message_id)
            )
            for message in above[start:]:
                message.chosen_at = now  # the versions searched for are the ones chosen
            uow.session.flush()
            uow.commit()
            return True

    def fork_chat(self, chat_id: uuid.UUID, message_id: uuid.UUID) -> ChatRead:
        """A new chat holding a copy of the path from the first prompt down to ``message_id``
        (its model and system prompt too); the original is left as it is.

        The copies keep their texts, times, tokens and costs; the new chat's totals start at
        zero, for what those replies cost was spent once, in the original chat.
        """
        with self.db.unit_of_work(write=True) as uow:
            chat = find_chat(uow, self.user_id, chat_id)
            message = on_path_of(uow, chat.id, message_id)
            path = uow.messages.path_to(message.id)
            if any(row.status == "streaming" for row in path):
                raise ConflictError("That reply is still streaming; fork once it has finished")
            now = utcnow()
            fork = uow.chats.add(
                Chat(
                    user_id=self.user_id,
                    title=f"{chat.title} (fork)"[:500],
                    model_id=chat.model_id,
                    system_prompt=chat.system_prompt,
                    created_at=now,
                    updated_at=now,
                )
            )
            parent_id = None
            for row in path:
                copy = Message(
                    **row.model_dump(
                        exclude={
                            "id",
                            "chat_id",
                            "parent_id",
                            "on_path",
                            "chosen_at",
                            "lease_owner",
                            "lease_expires_at",
                        }
                    ),
                    chat_id=fork.id,
                    parent_id=parent_id,
                )
                parent_id = uow.messages.add(copy).id
            names = uow.models.names_by_id({fork.model_id} if fork.model_id else set())
            uow.commit()
            return read_chat(fork, names.get(fork.model_id) if fork.model_id else None)

    def add_user_message(
        self, chat_id: uuid.UUID, content: str, *, model_id: uuid.UUID | None = None
    ) -> MessageRead:
        """Store a prompt to the chat's model (or ``model_id``); the first one titles the chat."""
        if not content.strip():
            raise ValidationError("Empty prompt: type something to send")
        if len(content) > MAX_PROMPT_CHARS:
            raise ValidationError(f"Prompt is longer than {MAX_PROMPT_CHARS:,} characters")
        storable_text(content, "Prompt")
        with self.db.unit_of_work(write=True) as uow:
            chat = find_chat(uow, self.user_id, chat_id)
            model = _usable_model(uow, model_id or chat.model_id)
            leaf = uow.messages.leaf(chat.id)
            now = stored_after(leaf)
            message = uow.messages.add(
                Message(
                    chat_id=chat.id,
                    parent_id=leaf.id if leaf else None,
                    model_id=model.id,
                    role="user",
                    content=content,
                    status="complete",
                    created_at=now,
                )
            )
            if chat.title == DEFAULT_TITLE and uow.chats.count_messages(chat.id) == 1:
                chat.title = title_from_prompt(content)
            chat.model_id = model.id
            chat.updated_at = now
            shown = read_messages(uow, [message], {model.id: model.name})[0]
            uow.commit()
            return shown

    def start_reply(self, chat_id: uuid.UUID, model_id: uuid.UUID) -> MessageRead:
        """An empty assistant message in the ``streaming`` state, stored before the first token."""
        with self.db.unit_of_work(write=True) as uow:
            chat = find_chat(uow, self.user_id, chat_id)
            model = _usable_model(uow, model_id)
            leaf = uow.messages.leaf(chat.id)
            now = stored_after(leaf)
            message = uow.messages.add(
                Message(
                    chat_id=chat.id,
                    parent_id=leaf.id if leaf else None,
                    model_id=model.id,
                    role="assistant",
                    content="",
                    status="streaming",
                    created_at=now,
                )
            )
            chat.updated_at = now
            shown = read_messages(uow, [message], {model.id: model.name})[0]
            uow.commit()
            return shown

    def save_partial(
        self, message_id: uuid.UUID, content: str, *, owner: str | None = None
    ) -> None:
        """Keep what has arrived of a streaming reply so far, and renew ``owner``'s lease.

        A reply another start-up marked interrupted while its owner could not reach the
        database is taken back: it is still streaming.
        """
        with self.db.unit_of_work(write=True) as uow:
            message, _ = self._own_message(uow, message_id)
            _check_owner(message, owner)
            if message.status != "streaming" and message.error != INTERRUPTED:
                return  # already finished: a late save changes nothing
            now = utcnow()
            message.content = scrub_reply(content)
            message.status = "streaming"
            message.error = None
            message.lease_expires_at = now + timedelta(seconds=LEASE_S)
            uow.commit()

    def finish_reply(
        self,
        message_id: uuid.UUID,
        *,
        content: str,
        status: str = "complete",
        error: str | None = None,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        tokens_estimated: bool = False,
        finish_reason: str | None = None,
        owner: str | None = None,
    ) -> MessageRead:
        """Close a reply with its final text, status, tokens and cost (at today's prices).

        Finishing it again (a retried write whose first try did commit) changes nothing twice:
        the chat's totals move only by the difference.
        """
        if status not in FINAL_STATUSES:
            raise ValidationError(f"Cannot finish a reply as {status!r}")
        with self.db.unit_of_work(write=True) as uow:
            # The chat's row is locked: its totals change below.
            message, chat = self._own_message(uow, message_id, lock_chat=True)
            _check_owner(message, owner)
            model = uow.models.get(message.model_id) if message.model_id else None
            before = _usage_of(message)
            message.content = scrub_reply(content)
            message.status = status
            message.error = scrub_reply(error) if error else None
            message.prompt_tokens = prompt_tokens
            message.completion_tokens = completion_tokens
            message.tokens_estimated = tokens_estimated
            message.finish_reason = finish_reason
            message.cost = None
            if model is not None and (prompt_tokens or completion_tokens):
                message.cost = compute_cost(
                    prompt_tokens,
                    completion_tokens,
                    model.price_per_million_tokens,
                    model.output_price_per_million_tokens,
                )
            # The chat's totals move by what this reply adds (finishing it twice adds nothing).
            after = _usage_of(message)
            chat.prompt_tokens += after[0] - before[0]
            chat.completion_tokens += after[1] - before[1]
            chat.cost += after[2] - before[2]
            shown = read_messages(uow, [message], {model.id: model.name} if model else {})[0]
            uow.commit()
            return shown

    def _own_message(
        self, uow: UnitOfWork, message_id: uuid.UUID, *, lock_chat: bool = False
    ) -> tuple[Message, Chat]:
        """The user's live message and its chat, or NotFoundError."""
        message = uow.messages.get(message_id)
        if message is None or message.is_deleted:
            raise NotFoundError(f"Message {message_id} not found")
        return message, find_chat(uow, self.user_id, message.chat_id, for_update=lock_chat)


def _usage_of(message: Message) -> tuple[int, int, Decimal]:
    return (message.prompt_tokens or 0, message.completion_tokens or 0, message.cost or Decimal(0))


def _check_owner(message: Message, owner: str | None) -> None:
    if owner is not None and message.lease_owner not in (None, owner):
        raise ConflictError("This reply is being written by another Synergia process")
