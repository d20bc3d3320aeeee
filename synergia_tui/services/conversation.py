"""Sending a prompt: one use case, one unit of work."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from synergia_tui.core.clock import utcnow
from synergia_tui.core.errors import ValidationError
from synergia_tui.core.process import process_owner
from synergia_tui.models import DEFAULT_TITLE, Chat, ChatRead, Message, MessageRead
from synergia_tui.services.chats import find_chat, read_chat, read_messages, title_from_prompt
from synergia_tui.services.messages import (
    MAX_PROMPT_CHARS,
    _usable_model,
    cursor_of,
    on_path_of,
    refuse_while_streaming,
    stored_after,
)
from synergia_tui.services.replies import ReplyPlan, plan_reply
from synergia_tui.services.unit_of_work import Database
from synergia_tui.services.validation import storable_text


@dataclass(frozen=True, slots=True)
class Sent:
    """A stored prompt, its chat as it now is, and the reply planned for it."""

    chat: ChatRead
    prompt: MessageRead
    plan: ReplyPlan
    created_chat: bool


def check_prompt(text: str) -> str:
    """Refuse a prompt that cannot be sent or stored, before anything is written."""
    if not text.strip():
        raise ValidationError("Empty prompt: type something to send")
    if len(text) > MAX_PROMPT_CHARS:
        raise ValidationError(f"Prompt is longer than {MAX_PROMPT_CHARS:,} characters")
    return storable_text(text, "Prompt")


class ConversationService:
    """Sends one user's prompts: chat, prompt and planned reply commit together or not at all."""

    def __init__(self, db: Database, user_id: str, *, owner: str | None = None) -> None:
        self.db = db
        self.user_id = user_id
        self.owner = owner or process_owner()

    def send(
        self,
        text: str,
        *,
        chat_id: uuid.UUID | None = None,
        model_id: uuid.UUID | None = None,
        system_prompt: str | None = None,
        edit_of: uuid.UUID | None = None,
    ) -> Sent:
        """Store ``text`` in the chat (a new one without ``chat_id``) and plan its reply.

        The prompt follows the end of the chat's path; with ``edit_of`` (a prompt on the path)
        it is a new version of that prompt instead: a sibling of it, and the old one with all
        that followed it leaves the path (stored still, one ``left`` away).
        The model is ``model_id`` when given (it becomes the chat's model), else the chat's.
        ``system_prompt``, when given, becomes the chat's system prompt (``""``: none) before the
        reply is planned, so it is what this reply and the following ones are sent with.
        One transaction: a rejected prompt, an unavailable model or a failed write leave
        nothing behind, not even an empty chat.
        """
        check_prompt(text)
        if system_prompt is not None:
            storable_text(system_prompt, "System prompt")
        with self.db.unit_of_work(write=True) as uow:
            now = utcnow()
            created = chat_id is None
            if chat_id is None:
                model = _usable_model(uow, model_id)
                chat = uow.chats.add(
                    Chat(
                        user_id=self.user_id,
                        title=title_from_prompt(text),
                        model_id=model.id,
                        system_prompt=system_prompt or None,
                        created_at=now,
                        updated_at=now,
                    )
                )
            else:
                chat = find_chat(uow, self.user_id, chat_id, for_update=True)
                model = _usable_model(uow, model_id or chat.model_id)
                if system_prompt is not None:
                    chat.system_prompt = system_prompt or None
                if chat.title == DEFAULT_TITLE and uow.chats.count_messages(chat.id) == 0:
                    chat.title = title_from_prompt(text)
            if edit_of is not None and chat_id is not None:
                refuse_while_streaming(uow, chat.id, now)
                edited = on_path_of(uow, chat.id, edit_of)
                if edited.role != "user":
                    raise ValidationError("Only a prompt can be edited; a reply is answered again")
                uow.messages.leave_path(chat.id, cursor_of(edited))
                parent = uow.messages.get(edited.parent_id) if edited.parent_id else None
            else:
                parent = uow.messages.leaf(chat.id) if chat_id is not None else None
            prompt = uow.messages.add(
                Message(
                    chat_id=chat.id,
                    parent_id=parent.id if parent else None,
                    model_id=model.id,
                    role="user",
                    content=text,
                    status="complete",
                    created_at=stored_after(parent, now),
                )
            )
            chat.model_id = model.id
            chat.updated_at = now
            plan = plan_reply(uow, chat, model, self.owner)
            shown = read_messages(uow, [prompt], {model.id: model.name})[0]
            uow.commit()
            return Sent(
                chat=read_chat(chat, model.name),
                prompt=shown,
                plan=plan,
                created_chat=created,
            )
