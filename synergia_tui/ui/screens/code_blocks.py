"""Pick one code block of the open chat to copy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from synergia_tui.core.safe_text import neutralize, one_line
from synergia_tui.ui.clipboard import copy_text
from synergia_tui.ui.code_blocks import CodeBlock, code_blocks

if TYPE_CHECKING:
    from textual.app import App

    from synergia_tui.models import MessageRead


def copy_a_code_block(app: App[object], messages: list[MessageRead]) -> None:
    """Copy the code block of ``messages``, asking which one (newest first) when there are more."""
    blocks = [
        block for message in reversed(messages) for block in reversed(code_blocks(message.content))
    ]
    if not blocks:
        app.notify("No code blocks in the messages shown.", severity="warning")
        return

    def chosen(block: CodeBlock | None) -> None:
        if block is not None:
            copy_text(app, neutralize(block.code), "the code block")

    if len(blocks) == 1:
        chosen(blocks[0])
    else:
        app.push_screen(CodeBlockScreen(blocks), chosen)


class CodeBlockScreen(ModalScreen[CodeBlock | None]):
    """Lists code blocks (newest first); enter dismisses with the chosen one."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="code-blocks.cancel")]

    def __init__(self, blocks: list[CodeBlock]) -> None:
        super().__init__()
        self.blocks = blocks

    def compose(self) -> ComposeResult:
        with Vertical(id="code-blocks-dialog"):
            yield Static("Copy which code block?", id="code-blocks-title", markup=False)
            options = []
            for block in self.blocks:
                lines = len(block.code.splitlines())
                label = Text(f"{block.language or 'text'} · {lines} lines · ", style="dim")
                label.append(one_line(block.preview))
                options.append(Option(label))
            yield OptionList(*options, id="code-blocks-list", markup=False)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.blocks[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)
