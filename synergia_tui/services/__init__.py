"""Business rules: one unit of work per call, typed errors, plain read objects."""

from synergia_tui.services.chats import ChatService
from synergia_tui.services.facade import AsyncService, AsyncServices
from synergia_tui.services.health import HealthService
from synergia_tui.services.messages import MessageService, compute_cost
from synergia_tui.services.models import ModelService
from synergia_tui.services.reads import (
    ChatExport,
    ChatPage,
    ChatUsage,
    DatabaseHealth,
    HealthReport,
    MessagePage,
    PromptPage,
)
from synergia_tui.services.unit_of_work import Database, UnitOfWork

__all__ = [
    "AsyncService",
    "AsyncServices",
    "ChatExport",
    "ChatPage",
    "ChatService",
    "ChatUsage",
    "Database",
    "DatabaseHealth",
    "HealthReport",
    "HealthService",
    "MessagePage",
    "MessageService",
    "PromptPage",
    "ModelService",
    "UnitOfWork",
    "compute_cost",
]
