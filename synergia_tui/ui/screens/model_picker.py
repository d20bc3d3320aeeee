"""The model picker: choose the model of a chat, and manage the catalogue from the keyboard.

Two modes share one screen. *Pick* lists the enabled models; Enter chooses one. *Manage*
(ctrl+g) also lists disabled models, dimmed and marked, and offers add, edit, delete and
enable/disable. Focus stays in the filter box, so every key here is enter, escape, an arrow or a
ctrl combination: typing always filters.
"""

from __future__ import annotations

import dataclasses
import uuid
from decimal import Decimal

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Static

from synergia_tui.core.errors import SynergiaError
from synergia_tui.core.safe_text import one_line
from synergia_tui.models.ai_model import AIModelRead
from synergia_tui.services.facade import AsyncServices
from synergia_tui.ui.screens.confirm import ConfirmScreen
from synergia_tui.ui.screens.discover_models import DiscoverModelsScreen, added_message
from synergia_tui.ui.screens.model_form import ModelFormScreen

CURRENT_MARK = "●"
_PROVIDER_WIDTH = 9  # "anthropic"
_PRICE_WIDTH = 8
_STATE_WIDTH = 8  # "disabled"
_MIN_TEXT_WIDTH = 10


def _without_keys(bindings: list[Binding], keys: set[str]) -> list[BindingType]:
    kept: list[BindingType] = []
    for binding in bindings:
        rest = [key for key in binding.key.split(",") if key.strip() not in keys]
        if rest:
            kept.append(dataclasses.replace(binding, key=",".join(rest)))
    return kept


class FilterInput(Input, inherit_bindings=False):
    """The filter box: an Input that leaves enter, ctrl+e and ctrl+d to the picker.

    They are the picker's pick, edit and delete keys; home, end and delete still edit the text.
    """

    BINDINGS = _without_keys(
        [b for b in Input.BINDINGS if isinstance(b, Binding)], {"enter", "ctrl+e", "ctrl+d"}
    )


def format_price(price: Decimal) -> str:
    """A price per million tokens with at least two decimals and no trailing zeros beyond."""
    normalized = price.normalize()
    if normalized.as_tuple().exponent >= -2:  # type: ignore[operator]
        return f"{price:.2f}"
    return f"{normalized:f}"


def matches(model: AIModelRead, query: str) -> bool:
    """Whether every word of ``query`` appears in the model's name, provider or model id."""
    haystack = f"{model.name} {model.provider} {model.api_model}".casefold()
    return all(word in haystack for word in query.casefold().split())


class ModelPickerScreen(ModalScreen[AIModelRead | None]):
    """Lists models to pick one for the current chat; dismisses with it, or None on escape."""

    BINDINGS = [
        Binding("enter", "pick", "Pick", id="model_picker.pick"),
        Binding("escape", "close", "Close", id="model_picker.close"),
        Binding("up", "move(-1)", "Up", show=False, id="model_picker.up"),
        Binding("down", "move(1)", "Down", show=False, id="model_picker.down"),
        Binding("pageup", "move(-10)", "Page up", show=False, id="model_picker.page_up"),
        Binding("pagedown", "move(10)", "Page down", show=False, id="model_picker.page_down"),
        Binding("ctrl+g", "manage", "Manage", id="model_picker.manage"),
        Binding("ctrl+g", "stop_managing", "Done", id="model_picker.stop_managing"),
        Binding("ctrl+r", "add", "Add", id="model_picker.add"),
        Binding("ctrl+e", "edit", "Edit", id="model_picker.edit"),
        Binding("ctrl+d", "delete", "Delete", id="model_picker.delete"),
        Binding("ctrl+t", "toggle_enabled", "On/off", id="model_picker.toggle_enabled"),
        Binding("ctrl+l", "discover", "Discover", id="model_picker.discover"),
    ]

    _MANAGE_ACTIONS = frozenset({"add", "edit", "delete", "toggle_enabled", "discover"})
    _ROW_ACTIONS = frozenset({"pick", "edit", "delete", "toggle_enabled"})

    managing: reactive[bool] = reactive(False, init=False, bindings=True)
    """Whether management mode is on (disabled models shown, management keys offered)."""

    def __init__(self, services: AsyncServices, current_model_id: uuid.UUID | None = None) -> None:
        super().__init__()
        self.services = services
        self.current_model_id = current_model_id
        self._models: list[AIModelRead] = []
        self._shown: list[AIModelRead] = []
        self._loaded = False
        self._problem: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="model-picker"):
            yield FilterInput(placeholder="Filter models…", id="model-filter")
            yield Static("Loading models…", id="model-picker-status", markup=False)
            table: DataTable[Text] = DataTable(id="model-table", cursor_type="row")
            yield table
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#model-picker").border_title = "Pick a model"
        self.query_one("#model-filter", Input).focus()
        self._load(select=self.current_model_id)

    # -- data --------------------------------------------------------------------------------

    @work(exclusive=True, group="model-picker-load")
    async def _load(self, select: uuid.UUID | None = None) -> None:
        """Fetch every live model (disabled too, for management) and show them."""
        try:
            models = await self.services.models.list_models()
        except SynergiaError as err:
            self._problem = str(err)
            self._models = []
        else:
            self._problem = None
            self._models = models
        self._loaded = True
        self._render_rows(select=select)

    @property
    def highlighted(self) -> AIModelRead | None:
        """The model under the cursor, if any."""
        table = self.query_one("#model-table", DataTable)
        if not self._shown or not 0 <= table.cursor_row < len(self._shown):
            return None
        return self._shown[table.cursor_row]

    def _visible_models(self) -> list[AIModelRead]:
        query = self.query_one("#model-filter", Input).value
        return [
            model
            for model in self._models
            if (self.managing or model.is_enabled) and matches(model, query)
        ]

    def _column_widths(self) -> tuple[int, int]:
        """Widths of the name and model-id columns: what the fixed columns leave, shared 3:2."""
        table = self.query_one("#model-table", DataTable)
        columns = 7 if self.managing else 6
        fixed = 1 + _PROVIDER_WIDTH + 2 * _PRICE_WIDTH + (_STATE_WIDTH if self.managing else 0)
        padding = 2 * table.cell_padding * columns
        # One spare cell so that a vertical scrollbar never forces a horizontal one.
        spare = table.scrollable_content_region.width - fixed - padding - 1
        spare = max(spare, 2 * _MIN_TEXT_WIDTH)
        name_width = max(_MIN_TEXT_WIDTH, spare * 3 // 5)
        return name_width, max(_MIN_TEXT_WIDTH, spare - name_width)

    def _render_rows(self, *, select: uuid.UUID | None = None) -> None:
        """Fill the table from the loaded models, keeping the cursor on ``select`` if shown."""
        table = self.query_one("#model-table", DataTable)
        if select is None and (current := self.highlighted) is not None:
            select = current.id
        self._shown = self._visible_models()
        name_width, model_width = self._column_widths()
        table.clear(columns=True)
        table.add_column("", width=1, key="current")
        table.add_column("Name", width=name_width, key="name")
        table.add_column("Provider", width=_PROVIDER_WIDTH, key="provider")
        table.add_column("Model id", width=model_width, key="api_model")
        table.add_column(Text("In $/M", justify="right"), width=_PRICE_WIDTH, key="price")
        table.add_column(Text("Out $/M", justify="right"), width=_PRICE_WIDTH, key="out")
        if self.managing:
            table.add_column("State", width=_STATE_WIDTH, key="state")
        for model in self._shown:
            table.add_row(*self._cells(model), key=str(model.id))
        index = next((i for i, m in enumerate(self._shown) if m.id == select), 0)
        if self._shown:
            table.move_cursor(row=index, animate=False)
        self._update_status()
        self.refresh_bindings()

    def _cells(self, model: AIModelRead) -> list[Text]:
        # Names and ids come from whoever added the model: neutralized, and Text so that
        # DataTable does not read them as markup.
        style = "" if model.is_enabled else "dim"

        def cell(value: str, justify: str = "left") -> Text:
            return Text(value, style=style, no_wrap=True, overflow="ellipsis", justify=justify)  # type: ignore[arg-type]

        cells = [
            cell(CURRENT_MARK if model.id == self.current_model_id else ""),
            cell(one_line(model.name)),
            cell(model.provider),
            cell(one_line(model.api_model)),
            cell(format_price(model.price_per_million_tokens), "right"),
            cell(format_price(model.output_price), "right"),
        ]
        if self.managing:
            cells.append(cell("enabled" if model.is_enabled else "disabled"))
        return cells

    def _update_status(self) -> None:
        status = self.query_one("#model-picker-status", Static)
        message = self._status_message()
        status.update(message or "")
        status.set_class(self._problem is not None, "-error")
        status.display = bool(message)

    def _status_message(self) -> str | None:
        if not self._loaded:
            return "Loading models…"
        if self._problem is not None:
            return self._problem
        if self._shown:
            return None
        query = self.query_one("#model-filter", Input).value.strip()
        if query:
            what = "model" if self.managing else "enabled model"
            return f"No {what} matches '{one_line(query)}'."
        if not self._models:
            if self.managing:
                return "No models yet: ctrl+r adds one."
            return "No models yet: ctrl+g to manage models, then ctrl+r to add one."
        return "Every model is disabled: ctrl+g to manage models and enable one."

    # -- events ------------------------------------------------------------------------------

    @on(Input.Changed, "#model-filter")
    def _filter_changed(self) -> None:
        self._render_rows()

    @on(DataTable.RowHighlighted)
    def _highlight_moved(self) -> None:
        self.refresh_bindings()

    @on(DataTable.RowSelected)
    def _row_clicked(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_pick()

    def on_resize(self) -> None:
        if self._loaded:
            self._render_rows()

    def watch_managing(self, managing: bool) -> None:
        title = "Manage models" if managing else "Pick a model"
        self.query_one("#model-picker").border_title = title
        self.set_class(managing, "-managing")
        self._render_rows()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "manage":
            return not self.managing
        if action == "stop_managing":
            return self.managing
        if action in self._MANAGE_ACTIONS and not self.managing:
            return False
        if action in self._ROW_ACTIONS and self.highlighted is None:
            return None  # shown greyed out: there is no row to act on
        return True

    # -- actions -----------------------------------------------------------------------------

    def action_close(self) -> None:
        self.dismiss(None)

    def action_move(self, delta: int) -> None:
        table = self.query_one("#model-table", DataTable)
        if self._shown:
            row = min(max(table.cursor_row + delta, 0), len(self._shown) - 1)
            table.move_cursor(row=row, animate=False)

    def action_pick(self) -> None:
        model = self.highlighted
        if model is None:
            return
        if not model.is_enabled:
            self.notify(
                f"'{one_line(model.name)}' is disabled: ctrl+t enables it.",
                severity="warning",
                markup=False,
            )
            return
        self.dismiss(model)

    def action_manage(self) -> None:
        self.managing = True

    def action_stop_managing(self) -> None:
        self.managing = False

    def action_add(self) -> None:
        self.app.push_screen(ModelFormScreen(self.services, None), self._form_closed)

    def action_edit(self) -> None:
        if (model := self.highlighted) is not None:
            self.app.push_screen(ModelFormScreen(self.services, model), self._form_closed)

    def _form_closed(self, saved: AIModelRead | None) -> None:
        if saved is not None:
            self.notify(f"Saved model '{one_line(saved.name)}'.", markup=False)
            self._load(select=saved.id)

    def action_delete(self) -> None:
        model = self.highlighted
        if model is None:
            return
        question = (
            f"Delete model '{one_line(model.name)}'?\n"
            "Chats that used it keep showing its name in their history."
        )

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._delete(model)

        self.app.push_screen(ConfirmScreen(question), confirmed)

    @work(group="model-picker-change")
    async def _delete(self, model: AIModelRead) -> None:
        try:
            await self.services.models.delete_model(model.id)
        except SynergiaError as err:
            self.notify(str(err), severity="error", markup=False)
        else:
            self.notify(f"Deleted model '{one_line(model.name)}'.", markup=False)
        self._load()

    def action_toggle_enabled(self) -> None:
        if (model := self.highlighted) is not None:
            self._set_enabled(model, not model.is_enabled)

    @work(group="model-picker-change")
    async def _set_enabled(self, model: AIModelRead, enabled: bool) -> None:
        try:
            changed = await self.services.models.set_enabled(model.id, enabled)
        except SynergiaError as err:
            self.notify(str(err), severity="error", markup=False)
            self._load()
            return
        verb = "Enabled" if changed.is_enabled else "Disabled"
        self.notify(f"{verb} model '{one_line(changed.name)}'.", markup=False)
        self._load(select=changed.id)

    def action_discover(self) -> None:
        """Find the models a server offers (OpenAI-compatible /models, Ollama tags) and add some."""
        self.app.push_screen(DiscoverModelsScreen(self.services), self._discovered)

    def _discovered(self, added: list[AIModelRead] | None) -> None:
        if added:
            self.notify(added_message(added), markup=False)
            self._load(select=added[0].id)
