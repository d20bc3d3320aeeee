"""Drawing a widget off screen: the one place Synergia uses a private part of Textual.

``textual._compositor.Compositor`` is what a screen uses to lay out and draw its widgets. Used
on one widget, it gives exactly the lines Textual would show for it (same styles, same theme),
which is how a finished stretch of a streaming reply becomes a cheap ``RenderedSegment``.
Textual is pinned in pyproject.toml; ``tests/ui/test_offline_render.py`` fails if a Textual
upgrade changes what this module relies on (the constructor, ``reflow``, ``render_strips``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual._compositor import Compositor
from textual.geometry import Size
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.strip import Strip


def draw_lines(widget: Widget) -> list[Strip] | None:
    """The lines ``widget`` draws at its current width, or None when it cannot be drawn yet.

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
