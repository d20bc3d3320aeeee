"""The look of the main screen, empty and with a chat containing code, at two sizes."""

from __future__ import annotations

import pytest

from tests.ui.conftest import settle

CODE_REPLY = "Sure:\n\n```python\ndef greet(name: str) -> str:\n    return f'hi {name}'\n```\n"


async def _steady(pilot) -> None:
    """Wait until every message's Markdown has parsed (off-loop) and the pane stops growing."""
    from textual.widgets import Markdown
    from textual.widgets._markdown import MarkdownBlock

    pane = pilot.app.main_screen.pane
    last = None
    for _ in range(100):
        await settle(pilot)
        ready = all(md.query(MarkdownBlock) for md in pane.query(Markdown))
        state = (ready, pane.virtual_size)
        if ready and state == last:
            break
        last = state
        await pilot.pause(0.02)
    pane.scroll_end(animate=False, immediate=True)
    await settle(pilot)


def _fixed_health(app):
    # No focused text box: a blinking cursor would make each frame a coin toss.
    app.main_screen.prompt.cursor_blink = False
    app.main_screen.set_focus(None)
    from synergia_tui.services.reads import DatabaseHealth, HealthReport

    report = HealthReport(
        status="healthy",
        timestamp=app.clock(),
        version=app.version,
        uptime_s=1.0,
        database=DatabaseHealth("sqlite", "sqlite:///x", True, 0.4, "head", "head"),
    )
    app.main_screen.status_bar.health = report


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_main_screen_empty(snap_compare, make_app, size):
    app = make_app()

    async def run_before(pilot):
        await settle(pilot)
        _fixed_health(app)
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_main_screen_with_a_chat_containing_code(
    snap_compare, make_app, ui_container, a_model, size
):
    chat = ui_container.chats.create_chat(title="Greeting function", model_id=a_model.id)
    ui_container.messages.add_user_message(chat.id, "Write a greeting function")
    reply = ui_container.messages.start_reply(chat.id, a_model.id)
    ui_container.messages.finish_reply(reply.id, content=CODE_REPLY)
    app = make_app()

    async def run_before(pilot):
        await settle(pilot)
        app.main_screen.open_chat(ui_container.chats.get_chat(chat.id))
        await _steady(pilot)
        _fixed_health(app)
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
