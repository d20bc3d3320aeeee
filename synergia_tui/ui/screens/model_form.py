"""The form that adds or edits an AI model, with its errors shown next to the fields."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Footer, Input, Label, Select, Static

from synergia_tui.core.errors import ConflictError, SynergiaError, ValidationError
from synergia_tui.core.safe_text import one_line
from synergia_tui.models.ai_model import PROVIDER_NAMES, AIModelCreate, AIModelRead, AIModelUpdate
from synergia_tui.services.facade import AsyncServices
from synergia_tui.services.models import check_price
from synergia_tui.services.validation import single_line
from synergia_tui.ui.screens.confirm import ConfirmScreen


@dataclass(frozen=True)
class Field:
    """One row of the form: the attribute it edits, its label and a hint shown when empty."""

    key: str
    label: str
    placeholder: str = ""


TEXT_FIELDS = (
    Field("name", "Name", "what you will pick it by, e.g. gpt-4o-mini"),
    Field("api_model", "Model id", "the provider's id, e.g. gpt-4o-mini"),
    Field("base_url", "Base URL", "optional: an OpenAI-compatible server"),
    Field("api_key_env", "API key env", "optional: the variable's NAME, e.g. OPENAI_API_KEY"),
    Field("price", "Input $/M", "USD per million input tokens, 0 if free"),
    Field("output_price", "Output $/M", "optional: same as input when empty"),
    Field("context_window", "Context", "optional: context window in tokens"),
    Field("max_output_tokens", "Max output", "optional: longest answer in tokens"),
)

# Which field a service message is about, by how the message starts.
_MESSAGE_FIELDS = (
    ("Name", "name"),
    ("Unknown provider", "provider"),
    ("Model id", "api_model"),
    ("Base URL", "base_url"),
    ("API key env", "api_key_env"),
    ("Output price", "output_price"),
    ("Price", "price"),
    ("Input price", "price"),
    ("Context window", "context_window"),
    ("Max output tokens", "max_output_tokens"),
)


def field_of(message: str) -> str | None:
    """The form field a service error message refers to, or None for a general problem."""
    for prefix, key in _MESSAGE_FIELDS:
        if message.startswith(prefix):
            return key
    return None


class ModelFormScreen(ModalScreen[AIModelRead | None]):
    """Adds a model (``model`` None) or edits one; dismisses with the saved model, or None."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="model_form.cancel"),
        # priority so that it shows in the footer and works from every text field; check_action
        # hands enter back to the provider list, the checkbox and the buttons.
        Binding("enter", "save", "Save", id="model_form.save", priority=True),
    ]

    def __init__(self, services: AsyncServices, model: AIModelRead | None = None) -> None:
        super().__init__()
        self.services = services
        self.model = model
        self._saving = False
        self._initial: dict[str, object] = {}

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        model = self.model
        title = "Add a model" if model is None else f"Edit model '{one_line(model.name)}'"
        with Vertical(id="model-form"):
            yield Static(title, id="model-form-title", markup=False)
            with VerticalScroll(id="model-form-fields"):
                yield from self._row(TEXT_FIELDS[0])
                with Horizontal(classes="form-row", id="provider-row"):
                    yield Label("Provider", classes="form-label")
                    yield Select(
                        [(name, name) for name in PROVIDER_NAMES],
                        value=model.provider if model else PROVIDER_NAMES[0],
                        allow_blank=False,
                        compact=True,
                        id="provider",
                    )
                yield Static("", id="provider-error", classes="form-error", markup=False)
                for field in TEXT_FIELDS[1:]:
                    yield from self._row(field)
                with Horizontal(classes="form-row", id="is_enabled-row"):
                    yield Label("", classes="form-label")
                    yield Checkbox(
                        "Enabled (can be picked for chats)",
                        model.is_enabled if model else True,
                        compact=True,
                        id="is_enabled",
                    )
            yield Static("", id="model-form-error", classes="form-error", markup=False)
            with Horizontal(id="model-form-buttons"):
                yield Button("Save", variant="primary", id="model-form-save", compact=True)
                yield Button("Cancel", id="model-form-cancel", compact=True)
        yield Footer()

    def _row(self, field: Field) -> ComposeResult:
        with Horizontal(classes="form-row", id=f"{field.key}-row"):
            yield Label(field.label, classes="form-label")
            yield Input(
                self._initial_text(field.key),
                placeholder=field.placeholder,
                compact=True,
                id=field.key,
            )
        yield Static("", id=f"{field.key}-error", classes="form-error", markup=False)

    def _initial_text(self, key: str) -> str:
        model = self.model
        if model is None:
            return ""
        value = {
            "name": model.name,
            "api_model": model.api_model,
            "base_url": model.base_url,
            "api_key_env": model.api_key_env,
            "price": _plain(model.price_per_million_tokens),
            "output_price": _plain(model.output_price_per_million_tokens),
            "context_window": model.context_window,
            "max_output_tokens": model.max_output_tokens,
        }[key]
        # Stored text may hold control characters written by another client; the form shows
        # (and would save) their visible stand-ins rather than sending them to the terminal.
        return "" if value is None else one_line(str(value))

    def on_mount(self) -> None:
        for error in self.query(".form-error"):
            error.display = False
        self._initial = self._values()
        self.query_one("#name", Input).focus()

    # -- reading the form --------------------------------------------------------------------

    def _values(self) -> dict[str, object]:
        values: dict[str, object] = {
            f.key: self.query_one(f"#{f.key}", Input).value for f in TEXT_FIELDS
        }
        values["provider"] = self.query_one("#provider", Select).value
        values["is_enabled"] = self.query_one("#is_enabled", Checkbox).value
        return values

    @property
    def is_dirty(self) -> bool:
        """Whether the user changed anything since the form opened."""
        return self._values() != self._initial

    def _parse(self) -> tuple[dict[str, object], dict[str | None, str]]:
        """The form as service input, and the problems found in it, by field."""
        raw = self._values()
        data: dict[str, object] = {"provider": raw["provider"], "is_enabled": raw["is_enabled"]}
        errors: dict[str | None, str] = {}  # keyed like _show_errors' (None: the whole form)

        def check(key: str, parse: object) -> None:
            try:
                data[key] = parse(str(raw[key]))  # type: ignore[operator]
            except ValidationError as err:
                errors[key] = str(err)

        check("name", lambda text: single_line(text, "Name", max_length=200))
        check("api_model", lambda text: single_line(text, "Model id", max_length=200))
        data["base_url"] = str(raw["base_url"]).strip() or None
        data["api_key_env"] = str(raw["api_key_env"]).strip() or None
        check("price", _parse_price)
        check("output_price", _parse_output_price)
        check("context_window", lambda text: _parse_tokens(text, "Context window"))
        check("max_output_tokens", lambda text: _parse_tokens(text, "Max output tokens"))
        data["price_per_million_tokens"] = data.pop("price", None)
        data["output_price_per_million_tokens"] = data.pop("output_price", None)
        return data, errors

    # -- errors ------------------------------------------------------------------------------

    def _clear_errors(self) -> None:
        for error in self.query(".form-error").results(Static):
            error.update("")
            error.display = False
        for row in self.query(".form-row.-error"):
            row.remove_class("-error")

    def _show_errors(self, errors: dict[str | None, str]) -> None:
        """Each message under its field (or under the form); focus goes to the first one."""
        first: Widget | None = None
        for key, message in errors.items():
            target = self.query_one(f"#{key}-error" if key else "#model-form-error", Static)
            target.update(one_line(message))
            target.display = True
            if key is not None:
                self.query_one(f"#{key}-row").add_class("-error")
                first = first or self.query_one(f"#{key}")
        if first is not None:
            first.focus()
            self.query_one("#model-form-fields", VerticalScroll).scroll_to_widget(first)

    # -- actions -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "save":
            # Only text fields save on enter; elsewhere enter opens the list, ticks the box or
            # presses the focused button.
            return isinstance(self.focused, Input) and not self._saving
        return True

    def action_save(self) -> None:
        if self._saving:
            return
        self._clear_errors()
        data, errors = self._parse()
        if errors:
            self._show_errors(dict(errors))
            return
        self._saving = True
        self._save(data)

    @work(exclusive=True, group="model-form-save")
    async def _save(self, data: dict[str, object]) -> None:
        try:
            if self.model is None:
                saved = await self.services.models.add_model(AIModelCreate.model_validate(data))
            else:
                changes = AIModelUpdate.model_validate(data)
                saved = await self.services.models.edit_model(self.model.id, changes)
        except ConflictError as err:
            self._saving = False
            self._show_errors({"name": str(err)})
        except ValidationError as err:
            self._saving = False
            self._show_errors({field_of(str(err)): str(err)})
        except SynergiaError as err:  # not found, storage: nothing the fields can fix
            self._saving = False
            self._show_errors({None: str(err)})
        else:
            self.dismiss(saved)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "model-form-save":
            self.action_save()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        if not self.is_dirty:
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(
            ConfirmScreen("Discard the changes to this model?", confirm_label="Discard"),
            answered,
        )


def _plain(price: Decimal | None) -> str | None:
    """A stored price as a person would type it: 0.150000 becomes 0.15."""
    if price is None:
        return None
    return f"{price.normalize():f}"


def _parse_price(text: str) -> Decimal:
    if not text.strip():
        raise ValidationError("Input price is required (0 for a free model)")
    return check_price(text, "Input price")


def _parse_output_price(text: str) -> Decimal | None:
    return check_price(text, "Output price") if text.strip() else None


def _parse_tokens(text: str, what: str) -> int | None:
    """An optional count of tokens; ``what`` starts the message (and names the field)."""
    text = text.strip().replace("_", "").replace(",", "")
    if not text:
        return None
    try:
        tokens = int(text)
    except ValueError:
        raise ValidationError(f"{what} must be a whole number of tokens") from None
    if tokens <= 0:
        raise ValidationError(f"{what} must be a positive number of tokens")
    return tokens
