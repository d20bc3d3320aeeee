"""The system prompt of a chat (or of the next new chat), edited in a modal screen.

The text box holds the prompt; below it, the user's presets: ``tab`` goes to them and ``enter``
puts a preset's text in the box. ``f2`` saves (an empty box clears the prompt), ``f3`` saves the
text as a preset, ``escape`` leaves everything as it was. ctrl+s is not used: the design keeps it
free (terminal flow control), and f2 is the save key of terminal editors such as mc.
The prompt and the presets are untrusted text: the box shows them as typed, and every label is
plain ``Content``, never markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static, TextArea
from textual.widgets.option_list import Option

from synergia_tui.core.errors import SynergiaError
from synergia_tui.core.safe_text import one_line
from synergia_tui.ui.screens.text_prompt import TextPromptScreen

if TYPE_CHECKING:
    from synergia_tui.models import PresetRead
    from synergia_tui.services.facade import AsyncServices

HINT = "tab presets · enter use · f2 save · f3 save as preset · esc cancel"
NO_PRESETS = "No presets yet: f3 saves this text as one."
PREVIEW = 40
NAME_WIDTH = 20


class SystemPromptScreen(ModalScreen[str | None]):
    """Edits a system prompt; dismisses with the new text (``""``: none) or None (cancelled)."""

    BINDINGS = [
        Binding("f2", "save", "Save", id="system_prompt.save"),
        Binding("f3", "save_preset", "Save as preset", id="system_prompt.save_preset"),
        Binding("escape", "cancel", "Cancel", id="system_prompt.cancel"),
    ]

    def __init__(self, text: str, *, title: str, services: AsyncServices | None) -> None:
        super().__init__()
        self.text = text
        self.title_text = title
        self.services = services
        self.presets: list[PresetRead] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="system-prompt-dialog"):
            yield Static(self.title_text, id="system-prompt-title", markup=False)
            yield TextArea(self.text, id="system-prompt-text", soft_wrap=True)
            yield OptionList(id="system-prompt-presets")
            yield Static(HINT, id="system-prompt-hint", markup=False)

    @property
    def text_area(self) -> TextArea:
        return self.query_one("#system-prompt-text", TextArea)

    @property
    def preset_list(self) -> OptionList:
        return self.query_one("#system-prompt-presets", OptionList)

    def on_mount(self) -> None:
        area = self.text_area
        area.focus()
        area.move_cursor(area.document.end)
        self.load_presets()

    @work(group="presets", exclusive=True)
    async def load_presets(self) -> None:
        presets = self.services.presets if self.services is not None else None
        if presets is None:
            return
        try:
            self.presets = await presets.list_presets()
        except SynergiaError as err:
            self.notify(str(err), severity="error")
            return
        options = self.preset_list
        options.clear_options()
        if not self.presets:
            options.add_option(Option(Content(NO_PRESETS), disabled=True))
            return
        width = min(NAME_WIDTH, max(len(one_line(p.name)) for p in self.presets))
        for index, preset in enumerate(self.presets):
            options.add_option(Option(self._label(preset, width), id=str(index)))
        options.highlighted = 0  # tab then enter takes the first; up/down choose another

    @staticmethod
    def _label(preset: PresetRead, width: int) -> Content:
        words = one_line(" ".join(preset.text.split()))
        if len(words) > PREVIEW:
            words = words[: PREVIEW - 1] + "…"
        name = one_line(preset.name).ljust(width)
        return Content.assemble((name, "bold"), "  ", (words, "dim"))

    @on(OptionList.OptionSelected, "#system-prompt-presets")
    def _preset_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is None:
            return
        preset = self.presets[int(event.option.id)]
        area = self.text_area
        area.load_text(preset.text)
        area.focus()
        area.move_cursor(area.document.end)
        self.notify(f"The text of preset {preset.name}: f2 saves it.")

    def action_save(self) -> None:
        text = self.text_area.text
        self.dismiss(text if text.strip() else "")

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_save_preset(self) -> None:
        text = self.text_area.text
        if not text.strip():
            self.notify("Type the preset's text first.", severity="warning")
            return

        def named(name: str | None) -> None:
            if name is not None and name.strip():
                self._save_preset(name.strip(), text)

        self.app.push_screen(TextPromptScreen("Save this text as the preset named:"), named)

    @work(group="presets")
    async def _save_preset(self, name: str, text: str) -> None:
        presets = self.services.presets if self.services is not None else None
        if presets is None:
            return
        try:
            saved = await presets.save_preset(name, text)
        except SynergiaError as err:
            self.notify(str(err), severity="error")
            return
        self.notify(f"Saved preset {saved.name}.")
        self.load_presets()
