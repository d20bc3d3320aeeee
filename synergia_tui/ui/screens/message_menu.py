"""What can be done with the message under the cursor (enter on it): its actions and links."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from synergia_tui.core.safe_text import one_line
from synergia_tui.ui.code_blocks import links

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from synergia_tui.models import MessageRead

LINK = "link:"
"""A chosen link comes back as ``link:`` and its target."""


def message_actions(message: MessageRead) -> list[tuple[str, str, str]]:
    """(action, key, label) for each action that applies to ``message``."""
    actions = [("copy", "c", "Copy the message"), ("quote", "q", "Quote it in the prompt")]
    if message.role == "user":
        actions.append(("edit", "e", "Edit and send again (a new version)"))
    if message.role == "assistant" and message.status != "streaming":
        actions.append(("regenerate", "r", "Answer again (a new version)"))
    actions.append(("fork", "f", "Fork: a new chat with the conversation up to here"))
    if message.siblings > 1:
        actions.append(("previous_version", "←", "Previous version"))
        actions.append(("next_version", "→", "Next version"))
    return actions


class MessageMenu(ModalScreen[str | None]):
    """Lists the message's actions, then its links (to copy without a mouse); enter picks one,
    escape closes. Dismisses with the action, ``link:<href>``, or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="message-menu.cancel")]

    def __init__(self, message: MessageRead) -> None:
        super().__init__()
        self.message = message
        self.choices: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="message-menu-dialog"):
            yield Static("This message:", id="message-menu-title", markup=False)
            options = []
            for action, key, label in message_actions(self.message):
                text = Text(f"{key:>2}  ", style="bold")
                text.append(label)
                options.append(Option(text))
                self.choices.append(action)
            for href in links(self.message.content):
                text = Text("    Copy link ", style="dim")
                text.append(one_line(href))
                options.append(Option(text))
                self.choices.append(LINK + href)
            yield OptionList(*options, id="message-menu-list", markup=False)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.choices[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)
