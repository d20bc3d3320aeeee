"""Prompts as the message pane shows them: every line break the user typed is kept, a pasted
fenced block stays a code block, and nothing in a prompt is read as markup or as a heading.
Replies stay standard Markdown."""

from __future__ import annotations

from textual.widgets import Markdown

from synergia_tui.ui.widgets.message_view import MessageView, RenderedSegment, _prompt_parser
from tests.ui.test_prompt_box import add_prompts, open_chat


def body_lines(app, view: MessageView) -> list[str]:
    """The lines the message's body draws, as plain text."""
    (body,) = [c for c in view.children if isinstance(c, Markdown | RenderedSegment)]
    x, y, width, height = body.region
    strips = app.screen._compositor.render_strips()
    if isinstance(body, RenderedSegment):
        return [strip.text.rstrip() for strip in body._lines]
    return [strips[row].crop(x, x + width).text.rstrip() for row in range(y, y + height)]


class TestPromptsShown:
    async def _shown(self, make_app, ui_container, a_model, prompt: str):
        """A chat holding ``prompt`` (and its answer), and an app to open it in."""
        chat = ui_container.chats.create_chat(title="Shown", model_id=a_model.id)
        add_prompts(ui_container, chat, [prompt])
        return chat, make_app()

    async def test_a_prompt_of_three_lines_shows_three_lines(self, make_app, ui_container, a_model):
        chat, app = await self._shown(make_app, ui_container, a_model, "alpha\nbeta\ngamma")
        async with app.run_test(size=(100, 40)) as pilot:
            await open_chat(pilot, chat)
            view = app.main_screen.pane.views[0]
            assert view.message.role == "user"
            lines = [line.strip() for line in body_lines(app, view) if line.strip()]
            assert lines == ["alpha", "beta", "gamma"]
            # A reply's Markdown is standard: its soft line break joins the lines.
            reply = app.main_screen.pane.views[1]
            assert [line.strip() for line in body_lines(app, reply) if line.strip()] == [
                "answer to alpha beta gamma"
            ]

    async def test_a_pasted_code_block_stays_a_block(self, make_app, ui_container, a_model):
        code = "Why does this fail?\n```python\ndef f(x):\n    return x  # why\n```\nThanks"
        chat, app = await self._shown(make_app, ui_container, a_model, code)
        async with app.run_test(size=(100, 40)) as pilot:
            await open_chat(pilot, chat)
            app_views = app.main_screen.pane.views
            lines = [line.strip() for line in body_lines(app, app_views[0]) if line.strip()]
            assert lines[0] == "Why does this fail?"
            assert "def f(x):" in lines and "return x  # why" in lines  # indentation kept
            assert lines[-1] == "Thanks"
            # Drawn as a fence: indented as code, and no "#" read as a heading.
            body = body_lines(app, app_views[0])
            code_line = next(line for line in body if "return x" in line)
            def_line = next(line for line in body if "def f(x):" in line)
            assert code_line.index("return") - def_line.index("def") == 4

    async def test_prompt_text_is_never_markup_nor_headings(self, make_app, ui_container, a_model):
        text = "# not a heading\n[bold]not bold[/bold]\n---\n<b>tag</b>"
        chat, app = await self._shown(make_app, ui_container, a_model, text)
        async with app.run_test(size=(100, 40)) as pilot:
            await open_chat(pilot, chat)
            lines = [line.strip() for line in body_lines(app, app.main_screen.pane.views[0])]
            assert [line for line in lines if line] == text.splitlines()

    async def test_a_pasted_file_of_3000_lines_shows_3000_lines(
        self, make_app, ui_container, a_model
    ):
        text = "\n".join(f"line {i}: x = {i}" for i in range(3000))
        chat, app = await self._shown(make_app, ui_container, a_model, text)
        async with app.run_test(size=(100, 40)) as pilot:
            await open_chat(pilot, chat)
            view = app.main_screen.pane.views[0]
            lines = [line.strip() for line in body_lines(app, view) if line.strip()]
            assert len(lines) == 3000
            assert lines[0] == "line 0: x = 0" and lines[-1] == "line 2999: x = 2999"


def test_user_markdown_keeps_a_fence_as_a_fence():
    """The parser the pane uses for prompts: a fence token, hard breaks elsewhere."""
    tokens = _prompt_parser().parse("a\nb\n```\ncode\n```\n")
    assert [t.type for t in tokens if t.type == "fence"] == ["fence"]
    inline = next(t for t in tokens if t.type == "inline")
    assert [c.type for c in inline.children] == ["text", "hardbreak", "text"]
