"""Discover the models a server offers and add the chosen ones to the catalogue.

Opened from the model picker's manage mode (ctrl+l). Model ids come from the server, so they are
untrusted: they are shown through ``one_line`` as plain text, never read as markup.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Select, SelectionList, Static
from textual.widgets.selection_list import Selection

from synergia_tui.core.errors import ConflictError, SynergiaError
from synergia_tui.core.safe_text import one_line
from synergia_tui.models.ai_model import PROVIDER_NAMES, AIModelCreate, AIModelRead
from synergia_tui.providers.base import (
    DEFAULT_API_KEY_ENVS,
    DEFAULT_BASE_URLS,
    DiscoveredModel,
    ProviderTarget,
    create_provider,
)
from synergia_tui.services.facade import AsyncServices

LIST_TIMEOUT = 10.0
"""Seconds to wait for a server's model list (as ``synergia models discover`` does)."""

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_URL = re.compile(r"https?://[^\s/]+\S*")
_NAMES_SHOWN = 5


async def list_offered(
    target: ProviderTarget, *, timeout: float, environ: Mapping[str, str] = os.environ
) -> list[DiscoveredModel]:
    """The models the server behind ``target`` offers; raises only ``ProviderError``."""
    # create_provider imports the provider's SDK the first time, which takes long enough to
    # freeze the screen: do it on a thread. The client binds to the loop only when first used.
    provider = await asyncio.to_thread(create_provider, target, timeout=timeout, environ=environ)
    try:
        return await provider.list_models()
    finally:
        await provider.aclose()


@dataclass(frozen=True)
class AddOutcome:
    """What adding a batch of models did: the models added, and (name, error) for the rest."""

    added: list[AIModelRead]
    skipped: list[tuple[str, SynergiaError]]

    @property
    def duplicates(self) -> list[str]:
        """Names skipped because a model of that name already exists."""
        return [name for name, err in self.skipped if isinstance(err, ConflictError)]

    def summary(self) -> str:
        """One line per kind of result, fit to show as plain text."""
        lines = []
        if self.added:
            lines.append(added_message(self.added))
        for name, err in self.skipped:
            # Service messages usually name the model already; when not, say which one it was.
            reason = str(err)
            text = reason if name in reason else f"'{name}': {reason}"
            lines.append(f"Skipped: {one_line(text)}")
        return "\n".join(lines)


async def add_models(services: AsyncServices, candidates: Iterable[AIModelCreate]) -> AddOutcome:
    """Add each candidate; one that cannot be added (a duplicate name, ...) is skipped."""
    added: list[AIModelRead] = []
    skipped: list[tuple[str, SynergiaError]] = []
    for data in candidates:
        try:
            added.append(await services.models.add_model(data))
        except SynergiaError as err:
            skipped.append((data.name, err))
    return AddOutcome(added, skipped)


def added_message(models: Sequence[AIModelRead]) -> str:
    """'Added 2 models: 'a', 'b'.', naming at most a handful of them."""
    names = ", ".join(f"'{one_line(model.name)}'" for model in models[:_NAMES_SHOWN])
    if len(models) > _NAMES_SHOWN:
        names += f" and {len(models) - _NAMES_SHOWN} more"
    noun = "model" if len(models) == 1 else "models"
    return f"Added {len(models)} {noun}: {names}."


class DiscoverModelsScreen(ModalScreen[list[AIModelRead]]):
    """Lists a server's models and adds the selected ones; dismisses with the models added."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="discover_models.close"),
        # priority so that enter lists from every text field; check_action leaves enter to the
        # provider list, the model list (where it ticks a model) and the buttons.
        Binding("enter", "list", "List models", id="discover_models.list", priority=True),
        Binding("ctrl+r", "add", "Add selected", id="discover_models.add"),
    ]

    def __init__(
        self,
        services: AsyncServices,
        *,
        provider: str = "openai",
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        super().__init__()
        self.services = services
        self.environ = environ
        self._provider = provider if provider in PROVIDER_NAMES else PROVIDER_NAMES[0]
        self._target: ProviderTarget | None = None
        """Where the shown list came from; adding uses it, not what the form says now."""
        self._listed_form: tuple[str, str, str] | None = None
        """The form as it was when the current listing started."""
        self._offered: list[DiscoveredModel] = []
        self._existing: set[str] = set()
        self._added: list[AIModelRead] = []

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="discover-dialog"):
            with Horizontal(classes="form-row"):
                yield Label("Provider", classes="form-label")
                yield Select(
                    [(name, name) for name in PROVIDER_NAMES],
                    value=self._provider,
                    allow_blank=False,
                    compact=True,
                    id="discover-provider",
                )
            with Horizontal(classes="form-row"):
                yield Label("Base URL", classes="form-label")
                yield Input(compact=True, id="discover-base-url")
            with Horizontal(classes="form-row"):
                yield Label("API key env", classes="form-label")
                yield Input(compact=True, id="discover-key-env")
            yield Static("", id="discover-status", markup=False)
            yield SelectionList[int](id="discover-list", compact=True)
            with Horizontal(id="discover-buttons"):
                yield Button("List models", id="discover-list-button", compact=True)
                yield Button("Add selected", variant="primary", id="discover-add", compact=True)
                yield Button("Close", id="discover-close", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#discover-dialog").border_title = "Discover models"
        self._show_placeholders()
        self._reset()
        self.query_one("#discover-base-url", Input).focus()

    # -- form --------------------------------------------------------------------------------

    @property
    def provider(self) -> str:
        """The provider chosen in the form."""
        return str(self.query_one("#discover-provider", Select).value)

    def _show_placeholders(self) -> None:
        provider = self.provider
        self.query_one("#discover-base-url", Input).placeholder = DEFAULT_BASE_URLS[provider]
        key_env = DEFAULT_API_KEY_ENVS.get(provider)
        self.query_one("#discover-key-env", Input).placeholder = (
            f"{key_env} (the variable's NAME, not the key)" if key_env else "not needed"
        )

    def _form_target(self) -> ProviderTarget:
        """The target the form describes; raises ``ValueError`` with the problem to show."""
        base_url = self.query_one("#discover-base-url", Input).value.strip() or None
        key_env = self.query_one("#discover-key-env", Input).value.strip() or None
        # isprintable: the HTTP library raises its own error, not a provider one, on controls.
        if base_url is not None and not (base_url.isprintable() and _URL.fullmatch(base_url)):
            raise ValueError("Base URL must be an http:// or https:// address")
        if key_env is not None and not _ENV_NAME.fullmatch(key_env):
            # Never echo the value: people paste the key itself here.
            raise ValueError(
                "API key env takes the NAME of an environment variable (e.g. OPENAI_API_KEY), "
                "not the key itself"
            )
        return ProviderTarget(self.provider, "", base_url, key_env)

    def _raw_form(self) -> tuple[str, str, str]:
        return (
            self.provider,
            self.query_one("#discover-base-url", Input).value,
            self.query_one("#discover-key-env", Input).value,
        )

    @on(Select.Changed, "#discover-provider")
    @on(Input.Changed)
    def _form_changed(self) -> None:
        self._show_placeholders()
        # A change message can arrive after enter started a listing for that very text (a paste
        # followed by enter): only a form that differs from the listed one makes the list stale.
        if self._raw_form() != self._listed_form:
            self._reset()

    # -- status and list ---------------------------------------------------------------------

    def _status(self, message: str, *, level: str = "info") -> None:
        """Show ``message`` (plain text) styled by ``level``: info, warning or error."""
        status = self.query_one("#discover-status", Static)
        status.update(message)
        status.set_class(level == "warning", "-warning")
        status.set_class(level == "error", "-error")

    def _reset(self) -> None:
        """Forget a listing that no longer matches the form."""
        self.workers.cancel_group(self, "discover-list")
        self._listed_form = None
        self._target = None
        self._offered = []
        self._render_list()
        self._status("Enter lists the models this server offers.")

    def _render_list(self) -> None:
        selection_list = self.query_one("#discover-list", SelectionList)
        selection_list.clear_options()
        selection_list.add_options(
            self._selection(index, model) for index, model in enumerate(self._offered)
        )
        selection_list.display = bool(self._offered)
        # Start on the first model that can be ticked, so space works straight away.
        selection_list.highlighted = next(
            (i for i, model in enumerate(self._offered) if model.api_model not in self._existing),
            None,
        )
        self.query_one("#discover-add", Button).display = bool(self._offered)
        self.refresh_bindings()

    def _selection(self, index: int, model: DiscoveredModel) -> Selection[int]:
        # Rich Text, not a str: the SelectionList would read a str as markup.
        prompt = Text(one_line(model.api_model))
        present = model.api_model in self._existing
        if present:
            prompt.append("  already in the catalogue", style="dim")
        return Selection(prompt, index, disabled=present)

    def _chosen(self) -> list[DiscoveredModel]:
        values = self.query_one("#discover-list", SelectionList).selected
        return [self._offered[index] for index in sorted(values)]

    @on(SelectionList.SelectedChanged)
    def _selection_changed(self) -> None:
        self.refresh_bindings()

    # -- listing -----------------------------------------------------------------------------

    def action_list(self) -> None:
        try:
            target = self._form_target()
        except ValueError as problem:
            self._reset()
            self._status(str(problem), level="error")
            return
        self._reset()
        self._listed_form = self._raw_form()
        self._status(f"Asking {one_line(target.effective_base_url)} for its models…")
        self._list(target)

    @work(exclusive=True, group="discover-list")
    async def _list(self, target: ProviderTarget) -> None:
        try:
            offered = await list_offered(target, timeout=LIST_TIMEOUT, environ=self.environ)
        except SynergiaError as err:
            self._status(one_line(str(err)), level="error")
            return
        try:
            existing = {model.name for model in await self.services.models.list_models()}
        except SynergiaError:
            existing = set()  # adding will report the duplicates instead
        self._target = target
        self._offered = offered
        self._existing = existing
        self._render_list()
        where = one_line(target.effective_base_url)
        if not offered:
            self._status(f"{where} offers no models.")
            return
        noun = "model" if len(offered) == 1 else "models"
        self._status(
            f"{len(offered)} {noun} at {where}. space ticks, ctrl+r adds the ticked ones\n"
            "(at price 0: set prices in the picker with ctrl+e)."
        )
        self.query_one("#discover-list", SelectionList).focus()

    # -- adding ------------------------------------------------------------------------------

    def action_add(self) -> None:
        chosen = self._chosen()
        if self._target is None or not chosen:
            self._status("Tick models first: space ticks the highlighted one.", level="warning")
            return
        target = self._target
        candidates = [
            AIModelCreate(
                name=model.api_model,
                provider=target.provider,
                api_model=model.api_model,
                base_url=target.base_url,
                api_key_env=target.api_key_env,
            )
            for model in chosen
        ]
        self._add(candidates)

    @work(exclusive=True, group="discover-add")
    async def _add(self, candidates: list[AIModelCreate]) -> None:
        outcome = await add_models(self.services, candidates)
        self._added.extend(outcome.added)
        if not outcome.skipped:
            self.dismiss(list(self._added))
            return
        # Stay open so the user reads what was skipped; what did get added is marked as such.
        self._existing.update(model.name for model in outcome.added)
        self._existing.update(outcome.duplicates)
        self._render_list()
        self._status(outcome.summary(), level="warning")

    # -- keys and buttons --------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "list":
            return isinstance(self.focused, Input)
        if action == "add":
            if not self._offered:
                return False
            return True if self._chosen() else None  # greyed out until a model is ticked
        return True

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "discover-list-button":
            self.action_list()
        elif event.button.id == "discover-add":
            self.action_add()
        else:
            self.action_close()

    def action_close(self) -> None:
        self.dismiss(list(self._added))
