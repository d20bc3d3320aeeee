"""Replies stream into the pane from a real SDK talking to a local server."""

# ruff: noqa: F811
from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from textual.color import Color
from textual.widgets import Markdown

from synergia_tui.models import AIModelCreate
from synergia_tui.ui.widgets.message_view import RenderedSegment
from tests.fake_provider_server import Script, fake_provider  # noqa: F401
from tests.ui.conftest import notifications, screen_text, settle, wait_until


@pytest.fixture
def served_model(ui_container, fake_provider, monkeypatch):
    monkeypatch.setenv("FAKE_KEY", "sk-ui-stream-000000000")
    return ui_container.models.add_model(
        AIModelCreate(
            name="served",
            provider="openai",
            api_model="fake-model-a",
            base_url=fake_provider.openai_base_url,
            api_key_env="FAKE_KEY",
            price_per_million_tokens=Decimal("1"),
            output_price_per_million_tokens=Decimal("2"),
        )
    )


def live_text(screen) -> str:
    """What arrived so far of the replies streaming on ``screen``."""
    return max((live.text for live in screen.engine.live.values()), default="")


def stored(ui_container):
    chat = ui_container.chats.list_chats().chats[0]
    return chat, ui_container.messages.list_messages(chat.id).messages


async def test_a_reply_streams_into_the_pane_and_is_stored_with_its_cost(
    make_app, ui_container, served_model, fake_provider
):
    fake_provider.script = Script(
        reply="Here is code:\n\n```python\nprint('hi')\n```\n",
        prompt_tokens=100,
        completion_tokens=50,
    )
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"show me code", "enter")
        await settle(pilot)
        chat, messages = stored(ui_container)
        assert [(m.role, m.status) for m in messages] == [
            ("user", "complete"),
            ("assistant", "complete"),
        ]
        assert messages[1].content == fake_provider.script.reply
        assert messages[1].cost == Decimal("0.0002")  # 100 × 1/M + 50 × 2/M
        text = screen_text(app)
        assert "print('hi')" in text
        assert "150 tok" in text  # the status bar adds the reply's tokens up


async def test_escape_stops_a_reply_and_keeps_what_arrived_as_cancelled(
    make_app, ui_container, served_model, fake_provider
):
    fake_provider.script = Script(
        reply=" ".join(f"word{i}" for i in range(400)), tokens_per_second=100
    )
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"talk a lot", "enter")
        screen = app.main_screen
        await wait_until(pilot, lambda: len(live_text(screen).split()) >= 5)
        assert "replying" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        _, messages = stored(ui_container)
        reply = messages[-1]
        assert reply.status == "cancelled"
        assert reply.content.startswith("word0 word1 word2 word3 word4")
        assert len(reply.content) < len(fake_provider.script.reply)
        # Its header says so (scrolled into view: on a slow machine the reply can outgrow the
        # pane before escape lands).
        screen.pane.scroll_to_widget(screen.pane.views[-1], animate=False, top=True)
        await pilot.pause()
        assert "cancelled" in screen_text(app)
        assert screen.engine.live == {}


async def test_a_failed_reply_shows_its_error_and_ctrl_r_retries_without_a_new_prompt(
    make_app, ui_container, served_model, fake_provider
):
    fake_provider.script = Script(status=500)
    app = make_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press(*"please answer", "enter")
        await settle(pilot)
        _, messages = stored(ui_container)
        assert [(m.role, m.status) for m in messages] == [
            ("user", "complete"),
            ("assistant", "error"),
        ]
        assert "500" in screen_text(app)
        assert any("ctrl+r" in n for n in notifications(app))

        fake_provider.script = Script(reply="Now it works.")
        await pilot.press("ctrl+r")
        await settle(pilot)
        chat, messages = stored(ui_container)
        # The retry is a second version of the answer, shown in the failed one's place; the
        # failed one is kept (one left away).
        assert [(m.role, m.sibling, m.siblings) for m in messages] == [
            ("user", 1, 1),
            ("assistant", 2, 2),
        ]
        assert (messages[-1].status, messages[-1].content) == ("complete", "Now it works.")
        kept = ui_container.chats.export_chat(chat.id).messages
        assert [m.status for m in kept] == ["complete", "error", "complete"]
        assert [m["content"] for m in fake_provider.last_request.body["messages"]] == [
            "please answer"
        ]
        assert "Now it works." in screen_text(app)


async def test_switching_chats_while_a_reply_streams_keeps_it_in_its_own_chat(
    make_app, ui_container, served_model, fake_provider
):
    other = ui_container.chats.create_chat(title="Other chat", model_id=served_model.id)
    fake_provider.script = Script(
        reply=" ".join(f"part{i}" for i in range(200)), tokens_per_second=40
    )
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"first chat prompt", "enter")
        screen = app.main_screen
        await wait_until(pilot, lambda: len(live_text(screen).split()) >= 5)
        first = screen.current_chat
        screen.open_chat(ui_container.chats.get_chat(other.id))
        await wait_until(pilot, lambda: screen.current_chat.id == other.id)
        await pilot.pause(0.2)
        assert "part3" not in screen_text(app)  # the reply is not shown in the wrong chat
        screen.open_chat(ui_container.chats.get_chat(first.id))
        await settle(pilot)
        assert ui_container.messages.list_messages(other.id).messages == []
        messages = ui_container.messages.list_messages(first.id).messages
        assert (messages[-1].status, messages[-1].content) == (
            "complete",
            fake_provider.script.reply,
        )
        shown = [
            view.markdown.source for view in screen.pane.views if view.message.role == "assistant"
        ]
        assert shown == [fake_provider.script.reply]


async def test_escape_sequences_and_markup_from_the_model_are_shown_inert(
    make_app, ui_container, served_model, fake_provider
):
    fake_provider.script = Script(chunks=["A \x1b]52;c;ZXZpbA==\x07 B \x1b[2J C [bold red]D[/]"])
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"hi", "enter")
        await settle(pilot)
        text = screen_text(app)
        assert "\x1b" not in text and "\x07" not in text
        assert "␛]52;c;ZXZpbA==␇" in text
        assert "[bold red]D[/]" in text


async def test_quitting_while_a_reply_streams_stores_it_as_cancelled(
    make_app, ui_container, served_model, fake_provider
):
    fake_provider.script = Script(
        reply=" ".join(f"w{i}" for i in range(400)), tokens_per_second=100
    )
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"long", "enter")
        screen = app.main_screen
        await wait_until(pilot, lambda: len(live_text(screen).split()) >= 3)
        await pilot.press("ctrl+q")
        await asyncio.sleep(0)
    _, messages = stored(ui_container)
    assert messages[-1].status == "cancelled"
    assert messages[-1].content.startswith("w0 w1 w2")


async def test_typing_a_prompt_makes_the_models_client_before_enter_and_replies_reuse_it(
    make_app, ui_container, served_model, fake_provider
):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.main_screen
        await pilot.press(*"hel")
        target = ui_container.replies.target_of(served_model.id)
        await wait_until(
            pilot, lambda: screen.engine.providers is not None and target in screen.engine.providers
        )
        assert fake_provider.requests == []  # made ready, nothing sent yet
        await pilot.press(*"lo", "enter")
        await settle(pilot)
        await pilot.press(*"again", "enter")
        await settle(pilot)
        _, messages = stored(ui_container)
        assert [(m.role, m.status) for m in messages] == [
            ("user", "complete"),
            ("assistant", "complete"),
        ] * 2
        assert fake_provider.connections_opened == 1


def long_reply(paragraphs: int) -> str:
    """Numbered paragraphs, with a fenced block (holding blank lines) in the middle."""
    parts = [f"Paragraph {i} says something about item {i}." for i in range(paragraphs)]
    fence = "```python\ndef f():\n\n\n    return 1\n\n\nprint(f())\n```"
    parts.insert(paragraphs // 2, fence)
    return "\n\n".join(parts) + "\n"


def serve_long_reply(fake_provider, paragraphs: int) -> str:
    """Have the server stream ``long_reply(paragraphs)`` a line at a time; return its text."""
    reply = long_reply(paragraphs)
    fake_provider.script = Script(chunks=reply.splitlines(keepends=True), tokens_per_second=150)
    return reply


async def test_a_long_reply_is_shown_whole_in_drawn_segments_and_redrawn_on_resize(
    make_app, ui_container, served_model, fake_provider
):
    reply = serve_long_reply(fake_provider, 150)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"write a lot", "enter")
        await settle(pilot)
        screen = app.main_screen
        _, messages = stored(ui_container)
        assert (messages[-1].status, messages[-1].content) == ("complete", reply)
        view = screen.pane.views[-1]
        segments = list(view.query_children(RenderedSegment))
        assert len(segments) >= 2  # finished stretches are drawn lines, not Markdown blocks
        assert view.shown_source == reply
        for segment in segments:  # a code fence is never cut between segments
            assert segment.source.count("```") % 2 == 0
        assert "Paragraph 149 says" in screen_text(app)
        screen.pane.scroll_to_widget(view, animate=False, top=True)
        await pilot.pause()
        drawn = screen_text(app)
        assert "Paragraph 1 says something about item 1." in drawn

        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        view = screen.pane.views[-1]
        # Drawn again at the new width, as one body: the whole reply, finished.
        (body,) = view.query_children(RenderedSegment)
        assert (body.source, body.width) == (reply, body.size.width)
        assert not view.query_children(Markdown)
        screen.pane.scroll_end(animate=False)
        await pilot.pause()
        assert "Paragraph 149 says" in screen_text(app)

        # Back at the first size the reply looks exactly as the drawn segments did.
        await pilot.resize_terminal(100, 30)
        await settle(pilot)
        screen.pane.scroll_to_widget(view, animate=False, top=True)
        await pilot.pause()
        assert screen_text(app) == drawn


async def test_drawn_segments_are_drawn_again_in_a_new_theme(
    make_app, ui_container, served_model, fake_provider
):
    reply = serve_long_reply(fake_provider, 120)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"write a lot", "enter")
        await settle(pilot)
        view = app.main_screen.pane.views[-1]
        assert list(view.query_children(RenderedSegment))
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await settle(pilot)
        (body,) = view.query_children(RenderedSegment)
        assert body.source == reply
        # The text is in the new theme's colour (drawn lines keep the colours they were drawn in).
        foreground = Color.parse(app.get_css_variables()["foreground"]).rich_color
        lines = [body.render_line(y) for y in range(body.size.height)]
        line = next(line for line in lines if "Paragraph" in line.text)
        colors = {segment.style.color for segment in line if segment.text.strip()}
        assert colors == {foreground}


def model_part(app) -> str:
    """The status bar's model part: the model, and what its reply is doing."""
    return str(app.main_screen.query_one("#status-model").content)


async def test_a_rate_limited_reply_says_when_it_retries_until_text_flows(
    make_app, ui_container, served_model, fake_provider
):
    fake_provider.enqueue(Script(status=429, retry_after="2"))
    fake_provider.script = Script(
        reply=" ".join(f"word{i}" for i in range(120)), tokens_per_second=40
    )
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"hello", "enter")
        screen = app.main_screen
        await wait_until(pilot, lambda: "rate limited" in model_part(app))
        assert model_part(app) == "model served · rate limited — retrying in 2 s (esc stops)"
        assert live_text(screen) == ""
        # The second request is answered: the words flow and the notice goes.
        await wait_until(pilot, lambda: len(live_text(screen).split()) >= 3)
        await pilot.pause()
        assert model_part(app) == "model served · replying (esc stops)"
        await settle(pilot)
        assert model_part(app) == "model served"
        _, messages = stored(ui_container)
        assert (messages[-1].status, messages[-1].content) == (
            "complete",
            fake_provider.script.reply,
        )


async def test_a_reply_that_ends_while_waiting_to_retry_clears_the_notice(
    make_app, ui_container, served_model, fake_provider
):
    fake_provider.enqueue(Script(status=429, retry_after="3"))
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"hello", "enter")
        await wait_until(pilot, lambda: "rate limited" in model_part(app))
        await pilot.press("escape")  # stopped during the wait: no text ever came
        await settle(pilot)
        assert model_part(app) == "model served"
        assert app.main_screen.engine.retrying_of(app.main_screen.current_chat.id) is None
