"""First run: with an empty catalogue, offer the models this machine can already reach.

An OpenAI or Anthropic key in the environment brings a few of that provider's models; an Ollama
server answering locally brings the models pulled on it. Only variable NAMES are ever shown,
never the keys themselves.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, SelectionList, Static
from textual.widgets.selection_list import Selection

from synergia_tui.core.errors import ProviderError
from synergia_tui.core.safe_text import one_line
from synergia_tui.models.ai_model import AIModelCreate, AIModelRead
from synergia_tui.providers.base import DEFAULT_BASE_URLS, ProviderTarget
from synergia_tui.services.facade import AsyncServices
from synergia_tui.ui.screens.discover_models import add_models, list_offered
from synergia_tui.ui.screens.model_picker import format_price

OLLAMA_PROBE_TIMEOUT = 1.0
"""Seconds to wait for a local Ollama: one that is running answers at once."""

_NAME_WIDTH = 28
_PROVIDER_WIDTH = 9


@dataclass(frozen=True)
class Offer:
    """A model the first-run screen offers to add; prices in USD per million tokens."""

    provider: str
    api_model: str
    price: Decimal
    output_price: Decimal | None = None
    base_url: str | None = None
    api_key_env: str | None = None

    def create(self) -> AIModelCreate:
        """The catalogue entry for this offer; it is named after the provider's model id."""
        return AIModelCreate(
            name=self.api_model,
            provider=self.provider,
            api_model=self.api_model,
            base_url=self.base_url,
            api_key_env=self.api_key_env,
            price_per_million_tokens=self.price,
            output_price_per_million_tokens=self.output_price,
        )


# Prices (input, output per million tokens) as the providers published them when this list was
# written. They change: users edit them in the model picker (ctrl+o, ctrl+g, ctrl+e), and every
# message keeps the cost computed at the time.
OPENAI_DEFAULTS: tuple[Offer, ...] = (
    Offer("openai", "gpt-4o-mini", Decimal("0.15"), Decimal("0.60"), api_key_env="OPENAI_API_KEY"),
    Offer("openai", "gpt-4o", Decimal("2.50"), Decimal("10.00"), api_key_env="OPENAI_API_KEY"),
)
ANTHROPIC_DEFAULTS: tuple[Offer, ...] = (
    Offer(
        "anthropic",
        "claude-3-5-haiku-latest",
        Decimal("0.80"),
        Decimal("4.00"),
        api_key_env="ANTHROPIC_API_KEY",
    ),
    Offer(
        "anthropic",
        "claude-sonnet-4-5",
        Decimal("3.00"),
        Decimal("15.00"),
        api_key_env="ANTHROPIC_API_KEY",
    ),
)
KEYED_DEFAULTS: tuple[tuple[str, tuple[Offer, ...]], ...] = (
    ("OPENAI_API_KEY", OPENAI_DEFAULTS),
    ("ANTHROPIC_API_KEY", ANTHROPIC_DEFAULTS),
)
"""The variable whose presence makes each provider's defaults worth offering."""


def nothing_available_hint() -> str:
    """How to add a first model by hand, in two lines (for empty states)."""
    return (
        "Add a model with ctrl+o, then ctrl+g and ctrl+r, or from a shell:\n"
        "synergia models add NAME --provider openai --model gpt-4o-mini "
        "--api-key-env OPENAI_API_KEY"
    )


def keyed_offers(environ: Mapping[str, str]) -> tuple[list[str], list[Offer]]:
    """The key variables set (non-empty) in ``environ``, and the default models they unlock."""
    found: list[str] = []
    offers: list[Offer] = []
    for env_name, defaults in KEYED_DEFAULTS:
        if environ.get(env_name, "").strip():
            found.append(env_name)
            offers.extend(defaults)
    return found, offers


class FirstRunScreen(ModalScreen[list[AIModelRead]]):
    """Offers the models found on this machine; dismisses with the ones added ([] on skip)."""

    BINDINGS = [
        Binding("escape", "skip", "Skip", id="first_run.skip"),
        Binding("escape", "close", "Close", id="first_run.close"),
        Binding("ctrl+r", "add", "Add selected", id="first_run.add"),
    ]

    def __init__(
        self,
        services: AsyncServices,
        environ: Mapping[str, str] = os.environ,
        ollama_url: str = DEFAULT_BASE_URLS["ollama"],
    ) -> None:
        super().__init__()
        self.services = services
        self.environ = environ
        self.ollama_url = ollama_url
        self._offers: list[Offer] = []
        self._found: list[str] = []
        self._ollama_note = f"Looking for Ollama at {one_line(ollama_url)}…"
        self._probed = False
        self._added: list[AIModelRead] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="first-run-dialog"):
            yield Static(
                "No models yet. These are the ones this machine can reach:",
                id="first-run-intro",
                markup=False,
            )
            yield Static("", id="first-run-found", markup=False)
            yield SelectionList[int](id="first-run-list", compact=True)
            yield Static("", id="first-run-status", markup=False)
            yield Static(nothing_available_hint(), id="first-run-hint", markup=False)
            with Horizontal(id="first-run-buttons"):
                yield Button("Add selected", variant="primary", id="first-run-add", compact=True)
                yield Button("Skip", id="first-run-skip", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#first-run-dialog").border_title = "Welcome to Synergia"
        self._found, self._offers = keyed_offers(self.environ)
        self._show_offers()
        self._probe_ollama()

    # -- finding models ----------------------------------------------------------------------

    @work(exclusive=True, group="first-run-probe")
    async def _probe_ollama(self) -> None:
        # The model's base URL stays empty when it is the default, so it follows the default.
        base_url = None if self.ollama_url == DEFAULT_BASE_URLS["ollama"] else self.ollama_url
        target = ProviderTarget("ollama", "", self.ollama_url)
        where = one_line(self.ollama_url)
        try:
            found = await list_offered(target, timeout=OLLAMA_PROBE_TIMEOUT, environ=self.environ)
        except ProviderError:
            self._ollama_note = f"No Ollama answering at {where}."
            found = []
        else:
            noun = "model" if len(found) == 1 else "models"
            self._ollama_note = f"Ollama at {where}: {len(found)} {noun}."
        self._offers.extend(
            Offer("ollama", model.api_model, Decimal(0), base_url=base_url) for model in found
        )
        self._probed = True
        self._show_offers()

    # -- showing them ------------------------------------------------------------------------

    def _show_offers(self) -> None:
        selection_list = self.query_one("#first-run-list", SelectionList)
        kept = set(selection_list.selected)
        highlighted = selection_list.highlighted
        selection_list.clear_options()
        selection_list.add_options(
            self._selection(index, offer, index in kept) for index, offer in enumerate(self._offers)
        )
        if self._offers:  # start on (or stay near) a model, so space works straight away
            selection_list.highlighted = min(highlighted or 0, len(self._offers) - 1)

        keys = (
            f"{' and '.join(self._found)} set."
            if self._found
            else "No OpenAI or Anthropic key set."
        )
        self.query_one("#first-run-found", Static).update(f"{keys}\n{self._ollama_note}")
        nothing = self._probed and not self._offers
        offering = bool(self._offers)
        selection_list.display = offering
        self.query_one("#first-run-add", Button).display = offering
        self.query_one("#first-run-hint", Static).display = nothing
        self.query_one("#first-run-intro", Static).display = not nothing
        self.query_one("#first-run-skip", Button).label = "Close" if nothing else "Skip"
        if offering:
            self._status("space ticks, ctrl+r adds the ticked ones, escape skips.")
            if self.focused is None:  # never pull focus away from where the user moved it
                selection_list.focus()
        elif nothing:
            self._status("")
            self.query_one("#first-run-skip", Button).focus()
        else:
            self._status("")
        self.refresh_bindings()

    @staticmethod
    def _selection(index: int, offer: Offer, selected: bool) -> Selection[int]:
        # Rich Text, not a str: the SelectionList would read a str as markup, and Ollama model
        # names come from a server.
        prompt = Text(one_line(offer.api_model).ljust(_NAME_WIDTH), no_wrap=True)
        prompt.append(f" {offer.provider:<{_PROVIDER_WIDTH}} ", style="dim")
        if offer.price == 0 and offer.output_price is None:
            prompt.append("free")
        else:
            out = offer.output_price if offer.output_price is not None else offer.price
            prompt.append(f"{format_price(offer.price)} / {format_price(out)} $/M")
        return Selection(prompt, index, initial_state=selected)

    def _status(self, message: str, *, warning: bool = False) -> None:
        status = self.query_one("#first-run-status", Static)
        status.update(message)
        status.set_class(warning, "-warning")

    @on(SelectionList.SelectedChanged)
    def _selection_changed(self) -> None:
        self.refresh_bindings()

    # -- adding ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        nothing = self._probed and not self._offers
        # One escape key: Skip while there is something to add, Close when there is not.
        if action == "skip":
            return not nothing
        if action == "close":
            return nothing
        if action == "add":
            if not self._offers:
                return False
            return True if self.query_one("#first-run-list", SelectionList).selected else None
        return True

    def action_add(self) -> None:
        values = sorted(self.query_one("#first-run-list", SelectionList).selected)
        if not values:
            self._status("Tick models first: space ticks the highlighted one.", warning=True)
            return
        self._add([self._offers[index] for index in values])

    @work(exclusive=True, group="first-run-add")
    async def _add(self, offers: list[Offer]) -> None:
        outcome = await add_models(self.services, (offer.create() for offer in offers))
        self._added.extend(outcome.added)
        if not outcome.skipped:
            self.dismiss(list(self._added))
            return
        # Stay open to show what was skipped; what did get added leaves the list.
        added = {model.name for model in outcome.added}
        self._offers = [offer for offer in self._offers if offer.api_model not in added]
        self.query_one("#first-run-list", SelectionList).deselect_all()
        self._show_offers()
        self._status(outcome.summary(), warning=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "first-run-add":
            self.action_add()
        else:
            self.action_skip()

    def action_skip(self) -> None:
        self.dismiss(list(self._added))

    def action_close(self) -> None:
        self.action_skip()
