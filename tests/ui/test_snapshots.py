"""The look of the main screen: empty, with code, with failed replies, with the database down,
and on a 16-colour terminal."""

# ruff: noqa: F811
from __future__ import annotations

import io

import pytest

from tests.fake_provider_server import fake_provider  # noqa: F401
from tests.ui.conftest import settle

STEADY_ROUNDS = 100

CODE_REPLY = "Sure:\n\n```python\ndef greet(name: str) -> str:\n    return f'hi {name}'\n```\n"


async def _steady(pilot) -> None:
    """Wait until every message's Markdown has parsed (off-loop) and the pane stops growing."""
    from textual.widgets import Markdown
    from textual.widgets._markdown import MarkdownBlock

    pane = pilot.app.main_screen.pane
    last = None
    for _ in range(STEADY_ROUNDS):
        await settle(pilot)
        ready = all(md.query(MarkdownBlock) for md in pane.query(Markdown))
        state = (ready, pane.virtual_size)
        if ready and state == last:
            break
        last = state
        await pilot.pause(0.02)
    else:
        raise AssertionError(f"the message pane did not settle in {STEADY_ROUNDS} rounds")
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


def test_main_screen_with_a_cancelled_and_a_failed_reply(
    snap_compare, make_app, ui_container, a_model
):
    chat = ui_container.chats.create_chat(title="Two broken replies", model_id=a_model.id)
    ui_container.messages.add_user_message(chat.id, "Tell me a long story")
    cancelled = ui_container.messages.start_reply(chat.id, a_model.id)
    ui_container.messages.finish_reply(
        cancelled.id, content="Once upon a time, in a land far", status="cancelled"
    )
    ui_container.messages.add_user_message(chat.id, "Try again please")
    failed = ui_container.messages.start_reply(chat.id, a_model.id)
    ui_container.messages.finish_reply(
        failed.id,
        content="There was a",
        status="error",
        error="openai: the provider is unavailable (HTTP 503)",
    )
    app = make_app()

    async def run_before(pilot):
        await settle(pilot)
        app.main_screen.open_chat(ui_container.chats.get_chat(chat.id))
        await _steady(pilot)
        _fixed_health(app)
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_main_screen_with_a_reply_streaming(
    snap_compare, make_app, ui_container, fake_provider, monkeypatch
):
    """Mid-reply: the partial text, the chat marked in the list, the status bar saying so."""
    from decimal import Decimal

    from synergia_tui.models import AIModelCreate
    from tests.fake_provider_server import Script

    monkeypatch.setenv("FAKE_KEY", "sk-snapshot-000000000")
    ui_container.models.add_model(
        AIModelCreate(
            name="served",
            provider="openai",
            api_model="fake-model-a",
            base_url=fake_provider.openai_base_url,
            api_key_env="FAKE_KEY",
            price_per_million_tokens=Decimal("1"),
        )
    )
    fake_provider.script = Script(
        chunks=["Streaming ", "replies ", "arrive ", "word ", "by ", "word"], hold_after=5
    )
    app = make_app()

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press(*"Stream something", "enter")
        engine = app.main_screen.engine
        for _ in range(STEADY_ROUNDS):
            live = next(iter(engine.live.values()), None)
            if live is not None and live.text == "Streaming replies arrive word by ":
                break
            await pilot.pause(0.02)
        else:
            raise AssertionError("the first five words never arrived")
        await pilot.pause(0.3)  # the view's batch of text is drawn
        _fixed_health(app)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_status_bar_with_the_database_down(snap_compare, make_app, ui_container, tmp_path):
    app = make_app()

    async def run_before(pilot):
        await settle(pilot)
        _fixed_health(app)
        await settle(pilot)
        # The database really goes away (as in test_safety_and_outage), and a real check sees it.
        (tmp_path / "ui").rename(tmp_path / "ui-gone")
        ui_container.db.engine.dispose()
        app.main_screen.check_health()
        await settle(pilot)
        assert app.main_screen.status_bar.database_down
        app.clear_notifications()  # the toast is tested elsewhere; this is the bar's look
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def _as_on_a_16_colour_terminal(app) -> None:
    """Screenshots of ``app`` show the colours a 16-colour terminal gets.

    Textual's console detects the colour system from TERM (rich: TERM=xterm means "standard",
    16 colours; TEXTUAL_COLOR_SYSTEM overrides it) and every colour written to the terminal is
    downgraded to the nearest of the 16. Screenshots are always exported in truecolor, so the
    same downgrade is applied here to every segment before exporting.
    """
    from rich.color import ColorSystem
    from rich.console import Console
    from rich.segment import Segment, Segments
    from rich.style import Style

    def downgraded(style: Style | None) -> Style | None:
        if style is None:
            return None
        return style + Style.from_color(
            style.color.downgrade(ColorSystem.STANDARD) if style.color else None,
            style.bgcolor.downgrade(ColorSystem.STANDARD) if style.bgcolor else None,
        )

    def export_screenshot(*, title: str | None = None, simplify: bool = False) -> str:
        width, height = app.size
        console = Console(
            width=width,
            height=height,
            file=io.StringIO(),
            force_terminal=True,
            color_system="standard",
            record=True,
            legacy_windows=False,
            safe_box=False,
        )
        update = app.screen._compositor.render_update(
            full=True, screen_stack=app._background_screens, simplify=simplify
        )
        segments = [
            Segment(text, downgraded(style), control)
            for text, style, control in console.render(update)
        ]
        console.print(Segments(segments))
        return console.export_svg(title=title or app.title)

    app.export_screenshot = export_screenshot


def test_main_screen_with_code_on_a_16_colour_terminal(
    snap_compare, make_app, ui_container, a_model
):
    chat = ui_container.chats.create_chat(title="Greeting function", model_id=a_model.id)
    ui_container.messages.add_user_message(chat.id, "Write a greeting function")
    reply = ui_container.messages.start_reply(chat.id, a_model.id)
    ui_container.messages.finish_reply(reply.id, content=CODE_REPLY)
    app = make_app()
    _as_on_a_16_colour_terminal(app)

    async def run_before(pilot):
        await settle(pilot)
        app.main_screen.open_chat(ui_container.chats.get_chat(chat.id))
        await _steady(pilot)
        _fixed_health(app)
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


@pytest.mark.postgres
def test_a_key_on_an_empty_server_schema(snap_compare, postgres_databases):
    """The pane and the notification both say what to run; nothing says "still opening"."""
    from datetime import UTC, datetime

    from synergia_tui.core.config import Settings
    from synergia_tui.ui.app import SynergiaApp
    from tests.ui.conftest import TEST_VERSION

    url = postgres_databases.create()
    app = SynergiaApp(
        Settings(synergia_database_url=url.render_as_string(hide_password=False)),
        clock=lambda: datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
        version=TEST_VERSION,
        health_interval=None,
    )

    async def run_before(pilot):
        for _ in range(STEADY_ROUNDS * 2):
            await pilot.pause(0.02)
            if app.main_screen.column.unavailable:
                break
        app.main_screen.prompt.cursor_blink = False
        await pilot.press("ctrl+n")
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_ctrl_c_outside_a_text_box(snap_compare, make_app):
    app = make_app()

    async def run_before(pilot):
        await settle(pilot)
        _fixed_health(app)
        await pilot.press("ctrl+c")
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
