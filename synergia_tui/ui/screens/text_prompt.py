"""A one-line question as a modal screen (e.g. a chat's new title)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class TextPromptScreen(ModalScreen[str | None]):
    """Asks for one line of text; dismisses with it (enter) or None (escape)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="text-prompt.cancel")]

    def __init__(self, question: str, *, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.question = question
        self.value = value
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="text-prompt-dialog"):
            yield Static(self.question, id="text-prompt-question", markup=False)
            yield Input(self.value, placeholder=self.placeholder, id="text-prompt-input")
            yield Static("enter to save · escape to cancel", id="text-prompt-hint", markup=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
