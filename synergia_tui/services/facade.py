"""The async facade: every service call awaitable, its database work on a worker thread."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

from synergia_tui.services.chats import ChatService
from synergia_tui.services.conversation import ConversationService
from synergia_tui.services.health import HealthService
from synergia_tui.services.messages import MessageService
from synergia_tui.services.models import ModelService
from synergia_tui.services.replies import ReplyService

S = TypeVar("S")


class AsyncService(Generic[S]):
    """Wraps a service so that ``await proxy.method(...)`` runs ``service.method`` off the loop.

    Each call is one unit of work on one pooled thread; the session never leaves that thread.
    """

    def __init__(self, service: S, executor: ThreadPoolExecutor) -> None:
        self.sync = service
        self._executor = executor

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        method = getattr(self.sync, name)
        if not callable(method):
            raise AttributeError(name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._executor, functools.partial(method, *args, **kwargs)
            )

        call.__name__ = name
        return call


class AsyncServices:
    """The services the UI uses, all awaitable."""

    def __init__(
        self,
        *,
        models: ModelService,
        chats: ChatService,
        messages: MessageService,
        health: HealthService,
        replies: ReplyService | None = None,
        conversation: ConversationService | None = None,
        reply_store: Callable[..., Any] | None = None,
        max_workers: int = 4,
    ) -> None:
        self._executor = ThreadPoolExecutor(
            max_workers=max_workers, thread_name_prefix="synergia-db"
        )
        self.models: Any = AsyncService(models, self._executor)
        self.chats: Any = AsyncService(chats, self._executor)
        self.messages: Any = AsyncService(messages, self._executor)
        self.health: Any = AsyncService(health, self._executor)
        self.replies: Any = AsyncService(replies, self._executor) if replies else None
        self.conversation: Any = (
            AsyncService(conversation, self._executor) if conversation else None
        )
        # Makes the store live replies are written through (see services.streaming); it runs
        # its own calls on threads of its own, so a database that hangs never holds this pool.
        self.reply_store: Callable[..., Any] | None = reply_store

    def shutdown(self) -> None:
        """Finish the calls already submitted (e.g. storing a stopped reply), then stop."""
        self._executor.shutdown(wait=False, cancel_futures=False)
