"""SQLModel tables and their create/update/read schemas."""

from synergia_tui.models.ai_model import (
    PROVIDER_NAMES,
    AIModel,
    AIModelCreate,
    AIModelRead,
    AIModelUpdate,
)
from synergia_tui.models.base import metadata, use_partial_indexes
from synergia_tui.models.chat import DEFAULT_TITLE, Chat, ChatRead
from synergia_tui.models.message import ROLES, STATUSES, Message, MessageRead

__all__ = [
    "DEFAULT_TITLE",
    "PROVIDER_NAMES",
    "ROLES",
    "STATUSES",
    "AIModel",
    "AIModelCreate",
    "AIModelRead",
    "AIModelUpdate",
    "Chat",
    "ChatRead",
    "Message",
    "MessageRead",
    "metadata",
    "use_partial_indexes",
]
