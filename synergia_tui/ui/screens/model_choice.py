"""The model choice: which model a new chat starts with, and the open chat's model.

No look of its own. It loads the default model (the first enabled one, until the user picks),
offers the first-run screen when the catalogue is empty, runs the model picker, and stores the
open chat's new model; it posts what changed (``DefaultChosen``, ``ChatModelSet``,
``NothingToChatWith``, ``Failed``) for the screen to route.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import work
from textual.message import Message
from textual.widget import Widget

from synergia_tui.core.errors import SynergiaError

if TYPE_CHECKING:
    # Type names only: the models and services import SQLAlchemy, which loads after first paint.
    from synergia_tui.models import AIModelRead, ChatRead
    from synergia_tui.services.facade import AsyncServices


class ModelChoice(Widget):
    """Chooses models; see the module docstring. ``services`` is set by the screen."""

    DEFAULT_CSS = "ModelChoice { display: none; }"

    @dataclass
    class DefaultChosen(Message):
        """The model a new chat starts with: the first enabled one (``picked`` False: only
        taken while there is none yet), or the user's pick."""

        model: AIModelRead
        picked: bool = True

    @dataclass
    class ChatModelSet(Message):
        """The chat's model was changed (and stored)."""

        chat: ChatRead
        model: AIModelRead

    @dataclass
    class NothingToChatWith(Message):
        """No model is enabled: ``hint`` says how to add one."""

        hint: str

    @dataclass
    class Failed(Message):
        error: SynergiaError

    def __init__(self, *, offer_first_run: bool = False) -> None:
        super().__init__()
        self.services: AsyncServices | None = None
        self.offer_first_run = offer_first_run
        self._first_run_offered = False

    def pick(self, current: uuid.UUID | None, chat: ChatRead | None) -> None:
        """Open the model picker; what is picked becomes ``chat``'s model (or the default)."""
        if self.services is None:
            return
        from synergia_tui.ui.screens.model_picker import ModelPickerScreen

        def picked(model: AIModelRead | None) -> None:
            if model is None:
                return
            if chat is None:
                self.post_message(self.DefaultChosen(model))
            else:
                self.set_chat_model(chat, model)

        self.app.push_screen(ModelPickerScreen(self.services, current), picked)

    @work(group="write")
    async def set_chat_model(self, chat: ChatRead, model: AIModelRead) -> None:
        if self.services is None:
            return
        try:
            updated = await self.services.chats.set_model(chat.id, model.id)
        except SynergiaError as err:
            self.post_message(self.Failed(err))
            return
        self.post_message(self.ChatModelSet(updated, model))

    @work(group="models", exclusive=True)
    async def load_default(self) -> None:
        """Post the first enabled model; with none, say how to add one and offer first run."""
        services = self.services
        if services is None:
            return
        try:
            models = await services.models.list_models(enabled_only=True)
        except SynergiaError:
            return  # the status bar says when the database is away
        if models:
            self.post_message(self.DefaultChosen(models[0], picked=False))
            return
        # Deferred: the first-run screen is only needed on a first run.
        from synergia_tui.ui.screens.first_run import FirstRunScreen, nothing_available_hint

        self.post_message(self.NothingToChatWith(nothing_available_hint()))
        if not self.offer_first_run or self._first_run_offered:
            return
        self._first_run_offered = True
        try:
            catalogue = await services.models.list_models()
        except SynergiaError:
            return
        if not catalogue:  # a truly empty catalogue, not one whose models are all disabled

            def added(models: list[AIModelRead] | None) -> None:
                if models:
                    self.post_message(self.DefaultChosen(models[0]))

            self.app.push_screen(FirstRunScreen(services), added)
