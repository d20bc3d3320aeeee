"""Pick one code block of the open chat to copy."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from synergia_tui.core.safe_text import one_line
from synergia_tui.ui.code_blocks import CodeBlock


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
