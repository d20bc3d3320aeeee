"""The async facade: every service call awaitable, its database work on a worker thread.

Each service has one small class here that lists its methods, one ``off_loop`` line each. The
descriptor keeps the method's signature for a type checker (``await services.chats.list_chats(
limit=5)`` is checked against ``ChatService.list_chats``) and runs the call on the facade's pool.
A new service method is added by adding its line; ``tests/test_facade.py`` fails until it is.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Concatenate, Generic, ParamSpec, Self, TypeVar, overload

from synergia_tui.services.chats import ChatService
from synergia_tui.services.conversation import ConversationService
from synergia_tui.services.health import HealthService
from synergia_tui.services.live_sync import LiveSync
from synergia_tui.services.messages import MessageService
from synergia_tui.services.models import ModelService
from synergia_tui.services.presets import PresetService
from synergia_tui.services.replies import ReplyService
from synergia_tui.services.search import SearchService
from synergia_tui.services.streaming import ReplyStore

S = TypeVar("S")
P = ParamSpec("P")
T = TypeVar("T")


class AsyncService(Generic[S]):
    """A service whose methods, declared with ``off_loop``, are awaited and run off the loop.

    Each call is one unit of work on one pooled thread; the session never leaves that thread.
    ``sync`` is the wrapped service itself, for code that already runs on a thread (and tests).
    """

    def __init__(self, service: S, executor: ThreadPoolExecutor) -> None:
        self.sync = service
        self._executor = executor


class off_loop(Generic[S, P, T]):
    """``name = off_loop(Service.name)``: ``await facade.name(...)`` runs ``service.name(...)``
    on the facade's worker threads, with the same parameters and result type."""

    def __init__(self, method: Callable[Concatenate[S, P], T]) -> None:
        self.method = method
        self.name: str = method.__name__
        self.__doc__ = method.__doc__

    def __set_name__(self, owner: type[object], name: str) -> None:
        if name != self.name:  # `get_chat = off_loop(ChatService.delete_chat)` is a slip
            raise TypeError(f"{owner.__name__}.{name} wraps a method named {self.name!r}")

    @overload
    def __get__(self, instance: None, owner: type[object]) -> Self: ...

    # A coroutine function, not just an awaitable one, so a call can go to asyncio.create_task.
    @overload
    def __get__(
        self, instance: AsyncService[S], owner: type[object]
    ) -> Callable[P, Coroutine[Any, Any, T]]: ...

    def __get__(
        self, instance: AsyncService[S] | None, owner: type[object]
    ) -> Self | Callable[P, Coroutine[Any, Any, T]]:
        if instance is None:
            return self
        # Looked up on the instance at call time, so an override or a test's stand-in is used.
        method: Callable[P, T] = getattr(instance.sync, self.name)
        executor = instance._executor

        @functools.wraps(method)
        async def call(*args: P.args, **kwargs: P.kwargs) -> T:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(executor, functools.partial(method, *args, **kwargs))

        return call


class AsyncModelService(AsyncService[ModelService]):
    """``ModelService``, awaitable."""

    list_models = off_loop(ModelService.list_models)
    get_model = off_loop(ModelService.get_model)
    add_model = off_loop(ModelService.add_model)
    edit_model = off_loop(ModelService.edit_model)
    set_enabled = off_loop(ModelService.set_enabled)
    delete_model = off_loop(ModelService.delete_model)


class AsyncChatService(AsyncService[ChatService]):
    """``ChatService``, awaitable."""

    list_chats = off_loop(ChatService.list_chats)
    create_chat = off_loop(ChatService.create_chat)
    find_chat_by_prefix = off_loop(ChatService.find_chat_by_prefix)
    get_chat = off_loop(ChatService.get_chat)
    rename_chat = off_loop(ChatService.rename_chat)
    set_model = off_loop(ChatService.set_model)
    set_system_prompt = off_loop(ChatService.set_system_prompt)
    delete_chat = off_loop(ChatService.delete_chat)
    list_trash = off_loop(ChatService.list_trash)
    find_in_trash_by_prefix = off_loop(ChatService.find_in_trash_by_prefix)
    restore_chat = off_loop(ChatService.restore_chat)
    purge_chat = off_loop(ChatService.purge_chat)
    empty_trash = off_loop(ChatService.empty_trash)
    usage = off_loop(ChatService.usage)
    export_chat = off_loop(ChatService.export_chat)


class AsyncMessageService(AsyncService[MessageService]):
    """``MessageService``, awaitable."""

    list_messages = off_loop(MessageService.list_messages)
    first_messages = off_loop(MessageService.first_messages)
    messages_around = off_loop(MessageService.messages_around)
    message_at = off_loop(MessageService.message_at)
    recent_prompts = off_loop(MessageService.recent_prompts)
    switch_sibling = off_loop(MessageService.switch_sibling)
    show_version_of = off_loop(MessageService.show_version_of)
    fork_chat = off_loop(MessageService.fork_chat)
    find_message_by_prefix = off_loop(MessageService.find_message_by_prefix)
    add_user_message = off_loop(MessageService.add_user_message)
    start_reply = off_loop(MessageService.start_reply)
    save_partial = off_loop(MessageService.save_partial)
    finish_reply = off_loop(MessageService.finish_reply)


class AsyncPresetService(AsyncService[PresetService]):
    """``PresetService``, awaitable."""

    list_presets = off_loop(PresetService.list_presets)
    get_preset = off_loop(PresetService.get_preset)
    save_preset = off_loop(PresetService.save_preset)
    delete_preset = off_loop(PresetService.delete_preset)
    default_preset = off_loop(PresetService.default_preset)


class AsyncSearchService(AsyncService[SearchService]):
    """``SearchService``, awaitable."""

    search = off_loop(SearchService.search)
    next_match = off_loop(SearchService.next_match)


class AsyncHealthService(AsyncService[HealthService]):
    """``HealthService``, awaitable."""

    check = off_loop(HealthService.check)


class AsyncReplyService(AsyncService[ReplyService]):
    """``ReplyService``, awaitable."""

    prepare = off_loop(ReplyService.prepare)
    context_size = off_loop(ReplyService.context_size)
    target_of = off_loop(ReplyService.target_of)
    recover = off_loop(ReplyService.recover)
    recover_interrupted = off_loop(ReplyService.recover_interrupted)
    apply_journal = off_loop(ReplyService.apply_journal)


class AsyncConversationService(AsyncService[ConversationService]):
    """``ConversationService``, awaitable."""

    send = off_loop(ConversationService.send)


class AsyncServices:
    """The services the UI uses, all awaitable, sharing one pool of worker threads."""

    models: AsyncModelService
    chats: AsyncChatService
    messages: AsyncMessageService
    health: AsyncHealthService
    presets: AsyncPresetService | None
    search: AsyncSearchService | None
    replies: AsyncReplyService | None
    conversation: AsyncConversationService | None

    def __init__(
        self,
        *,
        models: ModelService,
        chats: ChatService,
        messages: MessageService,
        health: HealthService,
        presets: PresetService | None = None,
        search: SearchService | None = None,
        replies: ReplyService | None = None,
        conversation: ConversationService | None = None,
        reply_store: Callable[..., ReplyStore] | None = None,
        live_sync: Callable[..., LiveSync] | None = None,
        max_workers: int = 4,
    ) -> None:
        self._executor = ThreadPoolExecutor(
            max_workers=max_workers, thread_name_prefix="synergia-db"
        )
        self.models = AsyncModelService(models, self._executor)
        self.chats = AsyncChatService(chats, self._executor)
        self.messages = AsyncMessageService(messages, self._executor)
        self.health = AsyncHealthService(health, self._executor)
        self.presets = AsyncPresetService(presets, self._executor) if presets else None
        self.search = AsyncSearchService(search, self._executor) if search else None
        self.replies = AsyncReplyService(replies, self._executor) if replies else None
        self.conversation = (
            AsyncConversationService(conversation, self._executor) if conversation else None
        )
        # Makes the store live replies are written through (see services.streaming); it runs
        # its own calls on threads of its own, so a database that hangs never holds this pool.
        self.reply_store = reply_store
        # Makes the watcher that tells the app of other sessions' changes (see live_sync).
        self.live_sync = live_sync

    def shutdown(self) -> None:
        """Finish the calls already submitted (e.g. storing a stopped reply), then stop."""
        self._executor.shutdown(wait=False, cancel_futures=False)
