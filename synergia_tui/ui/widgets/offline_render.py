"""Drawing a widget off screen: the one place Synergia uses a private part of Textual.

``textual._compositor.Compositor`` is what a screen uses to lay out and draw its widgets. Used
on one widget, it gives exactly the lines Textual would show for it (same styles, same theme),
which is how a finished message (or a finished stretch of a streaming reply) becomes a cheap
``RenderedSegment``.
Textual is pinned in pyproject.toml; ``tests/ui/test_offline_render.py`` fails if a Textual
upgrade changes what this module relies on (the constructor, ``reflow``, ``render_strips``).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

from textual._compositor import Compositor
from textual.geometry import Size
from textual.widget import Widget

if TYPE_CHECKING:
    from collections.abc import Hashable

    from textual.strip import Strip


def draw_lines(widget: Widget) -> list[Strip] | None:
    """The lines ``widget`` draws at its current width, or None when it cannot be drawn yet
    (not mounted, or not laid out).

    An offline compositor lays out and draws the widget as if it were a screen of its own.
    """
    width = widget.size.width
    parent = widget.parent
    if not widget.is_attached or not width or not isinstance(parent, Widget):
        return None
    height = widget.get_content_height(parent.size, widget.app.size, width)
    if not height:
        return None
    compositor = Compositor()
    compositor.reflow(widget, Size(width, height))
    return compositor.render_strips(Size(width, height))


class DrawnLines:
    """Lines already drawn for finished messages, by message, width and theme (least recently
    used dropped first): a message that scrolls out of the window and back, or a chat opened
    again, is shown without drawing its Markdown again.

    ``width`` is the width the last lines were drawn at: a view made for a new page looks its
    lines up there (a view whose width turns out different draws again).
    """

    def __init__(self, capacity: int = 160) -> None:
        self.capacity = capacity
        self.width = 0
        self._lines: OrderedDict[Hashable, list[Strip]] = OrderedDict()

    def get(self, key: Hashable, width: int) -> list[Strip] | None:
        lines = self._lines.get((key, width))
        if lines is not None:
            self._lines.move_to_end((key, width))
        return lines

    def put(self, key: Hashable, width: int, lines: list[Strip]) -> None:
        self.width = width
        self._lines[(key, width)] = lines
        self._lines.move_to_end((key, width))
        while len(self._lines) > self.capacity:
            self._lines.popitem(last=False)

    def clear(self) -> None:
        self._lines.clear()

    def __len__(self) -> int:
        return len(self._lines)
