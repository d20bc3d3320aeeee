"""The private part of Textual that drawn reply segments rely on still behaves as assumed.

``synergia_tui.ui.widgets.offline_render`` is the only module that imports a private Textual
module; these tests fail first if a Textual upgrade moves or changes it.
"""

from __future__ import annotations

import inspect

from textual.app import App, ComposeResult
from textual.widgets import Markdown

from synergia_tui.ui.widgets.offline_render import draw_lines

SOURCE = "# Title\n\nSome *words* here.\n\n- one\n- two\n"


def test_the_compositor_still_has_what_offline_drawing_calls():
    from textual._compositor import Compositor

    assert list(inspect.signature(Compositor).parameters) == []
    assert list(inspect.signature(Compositor.reflow).parameters) == ["self", "parent", "size"]
    assert list(inspect.signature(Compositor.render_strips).parameters)[:2] == ["self", "size"]


class OneMarkdown(App[None]):
    def compose(self) -> ComposeResult:
        yield Markdown(SOURCE)


async def test_a_markdown_is_drawn_off_screen_exactly_as_the_screen_shows_it():
    app = OneMarkdown()
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        markdown = app.query_one(Markdown)
        lines = draw_lines(markdown)
        assert lines is not None
        drawn = [strip.text.rstrip() for strip in lines]
        assert drawn == [
            "",
            "",
            "                 Title",
            "",
            "  Some words here.",
            "",
            "  • one",
            "  • two",
            "",
        ]
        region = markdown.region
        on_screen = [
            strip.text[region.x : region.right].rstrip()
            for strip in app.screen._compositor.render_strips()[region.y : region.bottom]
        ]
        assert drawn == on_screen


async def test_a_widget_that_is_not_mounted_is_not_drawn():
    assert draw_lines(Markdown(SOURCE)) is None
