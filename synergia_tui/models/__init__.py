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
from synergia_tui.models.preset import PRESET_NAME_LENGTH, Preset, PresetRead

__all__ = [
    "DEFAULT_TITLE",
    "PRESET_NAME_LENGTH",
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
    "Preset",
    "PresetRead",
    "metadata",
    "use_partial_indexes",
]
