"""Queries over the tables. Repositories never commit and never decide business rules."""

from synergia_tui.core.pages import MessageCursor
from synergia_tui.repositories.chats import ChatCursor, ChatRepository
from synergia_tui.repositories.messages import MessageRepository
from synergia_tui.repositories.models import ModelRepository
from synergia_tui.repositories.presets import PresetRepository
from synergia_tui.repositories.roles import Role, RoleRepository
from synergia_tui.repositories.search import SearchRepository
from synergia_tui.repositories.transfer import TransferRepository

__all__ = [
    "ChatCursor",
    "ChatRepository",
    "MessageCursor",
    "MessageRepository",
    "ModelRepository",
    "PresetRepository",
    "Role",
    "RoleRepository",
    "SearchRepository",
    "TransferRepository",
]
