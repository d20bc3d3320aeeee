"""The baseline: a minimal Textual app with Synergia's widgets and no database.

Header, a list (the sidebar), a Markdown pane, a text area (the prompt), a status line and a
footer. Run it as a script to see it; the benchmarks run it in a pty or headless.
"""

from __future__ import annotations

import sys

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Header, Label, ListItem, ListView, Markdown, Static, TextArea

from synergia_tui import __version__ as VERSION  # a literal in a tiny module: no app import

SAMPLE = """\
## Welcome

A **baseline** pane with a little Markdown and a code block:

```python
def hello() -> str:
    return "world"
```
"""


class BaselineApp(App[None]):
    """Same widgets as Synergia's main screen, static content."""

    CSS = """
    #sidebar { width: 30; }
    #pane { height: 1fr; }
    #prompt { height: 5; }
    #status { height: 1; }
    """
    BINDINGS = [
        Binding("enter", "noop", "Send"),
        Binding("ctrl+n", "noop", "New chat"),
        Binding("ctrl+o", "noop", "Model"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(self, messages: list[str] | None = None, *, scrollable: bool = False) -> None:
        super().__init__()
        self.messages = messages or [SAMPLE]
        self.scrollable = scrollable
        """The pane is a ``VerticalScroll`` with every message mounted (case 8's baseline)."""

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield ListView(*(ListItem(Label(f"Chat number {i}")) for i in range(20)), id="sidebar")
            with Vertical():
                with (VerticalScroll if self.scrollable else Vertical)(id="pane"):
                    for text in self.messages:
                        yield Markdown(text)
                yield TextArea(id="prompt")
        yield Static(f"sqlite ok · synergia {VERSION}", id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#prompt", TextArea).focus()

    def action_noop(self) -> None:
        """Bound keys that do nothing: the footer looks like the real one."""


if __name__ == "__main__":
    BaselineApp().run()
    sys.exit(0)
