"""The reply engine as a user meets it: one live reply per chat, stopped only where it is shown.

A real SDK talks to the fake provider server; what is checked is what a user would notice: the
screen (sidebar marks, status bar, message headers), notifications, and the rows stored.
"""

# ruff: noqa: F811
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func
from sqlmodel import select
from textual.widgets import Input

from synergia_tui.models import AIModelCreate, Chat, Message
from synergia_tui.services.streaming import estimate_tokens
from synergia_tui.ui.screens.model_picker import ModelPickerScreen
from synergia_tui.ui.widgets.chat_column import BUSY
from synergia_tui.ui.widgets.chat_sidebar import LIVE_MARK
from tests.fake_provider_server import Script, fake_provider  # noqa: F401
from tests.ui.conftest import notifications, screen_text, settle, wait_until

REPLYING = "replying (esc stops)"


# -- set-up ------------------------------------------------------------------------------------


def add_served_model(container, server, provider: str):
    base = server.anthropic_base_url if provider == "anthropic" else server.openai_base_url
    return container.models.add_model(
        AIModelCreate(
            name=f"served-{provider}",
            provider=provider,
            api_model="fake-model-a",
            base_url=base,
            api_key_env="FAKE_KEY",
            price_per_million_tokens=Decimal("3"),
            output_price_per_million_tokens=Decimal("15"),
        )
    )


@pytest.fixture(autouse=True)
def fake_key(monkeypatch):
    monkeypatch.setenv("FAKE_KEY", "sk-ui-engine-000000000")


@pytest.fixture
def served_model(ui_container, fake_provider):
    """An OpenAI-format model served by the fake provider (the only model: the default)."""
    return add_served_model(ui_container, fake_provider, "openai")


def words(stem: str, count: int) -> str:
    return " ".join(f"{stem}{i}" for i in range(count))


def slow_reply(fake_provider, stem: str = "part", count: int = 60, rate: float = 6) -> str:
    """Serve a reply of ``count`` words at ``rate`` words a second: long enough to act during,
    and slow enough that the app is idle between words (a busy app makes each ``pilot.press``
    wait up to a second or two for it to settle)."""
    fake_provider.script = Script(reply=words(stem, count), tokens_per_second=rate)
    return fake_provider.script.reply


# -- looking ----------------------------------------------------------------------------------


def live_words(screen) -> int:
    """How many words of the replies streaming on ``screen`` arrived so far."""
    return max((len(live.text.split()) for live in screen.engine.live.values()), default=0)


async def wait_streaming(pilot, screen, at_least: int = 3) -> None:
    await wait_until(pilot, lambda: live_words(screen) >= at_least, "the reply streams")


async def wait_reply_stored(pilot, screen, chat_id) -> None:
    """Until the chat's reply has ended and is stored (the engine lets the chat go)."""
    await wait_until(pilot, lambda: not screen.engine.is_busy(chat_id), "the reply is stored")
    await pilot.pause()


def region_lines(app, widget) -> list[str]:
    """The terminal lines inside ``widget``'s region, as plain text."""
    x, y, width, height = widget.region
    strips = app.screen._compositor.render_strips()
    return [strips[row].crop(x, x + width).text for row in range(y, y + height)]


def sidebar_row(app, title: str) -> str:
    rows = [line for line in region_lines(app, app.main_screen.sidebar) if title in line]
    assert len(rows) == 1, f"one sidebar row titled {title!r}, got {rows}"
    return rows[0]


def messages_of(container, chat_id):
    return container.messages.list_messages(chat_id).messages


def posts(fake_provider) -> int:
    """Replies asked of the provider."""
    return sum(1 for r in fake_provider.requests if r.method == "POST")


def stored_rows(container) -> tuple[int, int]:
    """(chats, messages) in the database, deleted ones included."""
    with container.db.unit_of_work() as uow:
        chats = uow.session.exec(select(func.count()).select_from(Chat)).one()
        messages = uow.session.exec(select(func.count()).select_from(Message)).one()
    return chats, messages


def cost_at(prompt_tokens: int, completion_tokens: int) -> Decimal:
    """The cost at the served models' prices: 3 per million in, 15 per million out."""
    return (Decimal(prompt_tokens) * 3 + Decimal(completion_tokens) * 15) / Decimal(1_000_000)


# -- 1. escape stops only the reply of the chat on screen ---------------------------------------


async def test_escape_in_another_chat_leaves_the_reply_streaming_and_it_ends_complete(
    make_app, ui_container, served_model, fake_provider
):
    other = ui_container.chats.create_chat(title="Other chat", model_id=served_model.id)
    reply = slow_reply(fake_provider)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"first chat prompt", "enter")
        screen = app.main_screen
        await wait_streaming(pilot, screen)
        first = screen.current_chat
        screen.open_chat(ui_container.chats.get_chat(other.id))
        await wait_until(pilot, lambda: screen.current_chat.id == other.id, "chat B is open")

        await pilot.press("escape")
        await pilot.pause()
        assert screen.engine.is_live(first.id)

        await wait_reply_stored(pilot, screen, first.id)
        answer = messages_of(ui_container, first.id)[-1]
        assert (answer.status, answer.content) == ("complete", reply)
        assert messages_of(ui_container, other.id) == []


async def test_escape_in_the_chat_filter_returns_to_the_prompt_and_stops_nothing(
    make_app, ui_container, served_model, fake_provider
):
    reply = slow_reply(fake_provider)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"a prompt", "enter")
        screen = app.main_screen
        await wait_streaming(pilot, screen)
        chat = screen.current_chat
        app.main_screen.action_find_chat()  # the palette's Find chat (ctrl+f searches)
        await pilot.pause()
        assert isinstance(app.focused, Input) and app.focused.id == "chat-filter"

        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is screen.prompt
        assert screen.engine.is_live(chat.id)

        await wait_reply_stored(pilot, screen, chat.id)
        answer = messages_of(ui_container, chat.id)[-1]
        assert (answer.status, answer.content) == ("complete", reply)


async def test_escape_in_the_chat_filter_returns_to_the_prompt_with_no_reply_streaming(
    make_app, ui_container, served_model
):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.main_screen.action_find_chat()  # the palette's Find chat (ctrl+f searches)
        await pilot.pause()
        assert isinstance(app.focused, Input) and app.focused.id == "chat-filter"
        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is app.main_screen.prompt


async def test_escape_with_the_model_picker_open_closes_it_and_stops_nothing(
    make_app, ui_container, served_model, fake_provider
):
    reply = slow_reply(fake_provider)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"a prompt", "enter")
        screen = app.main_screen
        await wait_streaming(pilot, screen)
        chat = screen.current_chat
        await pilot.press("ctrl+o")
        await wait_until(
            pilot, lambda: isinstance(app.screen, ModelPickerScreen), "the picker is open"
        )

        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, "the picker is closed")
        assert screen.engine.is_live(chat.id)

        await wait_reply_stored(pilot, screen, chat.id)
        answer = messages_of(ui_container, chat.id)[-1]
        assert (answer.status, answer.content) == ("complete", reply)


# -- 2. live marks: the sidebar's dot, the status bar's "replying" -----------------------------


async def test_the_sidebar_marks_a_chat_while_its_reply_streams_and_the_status_bar_only_on_it(
    make_app, ui_container, served_model, fake_provider
):
    other = ui_container.chats.create_chat(title="Other chat", model_id=served_model.id)
    slow_reply(fake_provider, count=40)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert LIVE_MARK not in sidebar_row(app, "Other chat")
        await pilot.press(*"first chat prompt", "enter")
        screen = app.main_screen
        await wait_streaming(pilot, screen)
        first = screen.current_chat
        await wait_until(
            pilot, lambda: LIVE_MARK in sidebar_row(app, "first chat prompt"), "the dot shows"
        )
        assert LIVE_MARK not in sidebar_row(app, "Other chat")
        assert REPLYING in screen_text(app)

        screen.open_chat(ui_container.chats.get_chat(other.id))
        await wait_until(pilot, lambda: screen.current_chat.id == other.id, "chat B is open")
        await pilot.pause()
        assert screen.engine.is_live(first.id)  # still streaming, elsewhere
        assert REPLYING not in screen_text(app)
        assert LIVE_MARK in sidebar_row(app, "first chat prompt")
        assert LIVE_MARK not in sidebar_row(app, "Other chat")

        screen.open_chat(ui_container.chats.get_chat(first.id))
        await wait_until(pilot, lambda: screen.current_chat.id == first.id, "chat A is open")
        await pilot.pause()
        assert screen.engine.is_live(first.id)
        assert REPLYING in screen_text(app)

        await wait_reply_stored(pilot, screen, first.id)
        await wait_until(
            pilot, lambda: LIVE_MARK not in sidebar_row(app, "first chat prompt"), "the dot goes"
        )
        assert REPLYING not in screen_text(app)
        assert messages_of(ui_container, first.id)[-1].status == "complete"


# -- 3. one reply at a time per chat -----------------------------------------------------------


async def test_a_quick_double_ctrl_r_regenerates_once(
    make_app, ui_container, served_model, fake_provider
):
    fake_provider.script = Script(reply="First answer.")
    app = make_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press(*"question", "enter")
        await settle(pilot)
        chat = app.main_screen.current_chat
        assert posts(fake_provider) == 1
        again = slow_reply(fake_provider, stem="again", count=12)

        await pilot.press("ctrl+r", "ctrl+r")
        await settle(pilot)

        stored = ui_container.chats.export_chat(chat.id).messages
        assert [(m.role, m.content) for m in stored] == [
            ("user", "question"),
            ("assistant", "First answer."),
            ("assistant", again),
        ]
        # The chat shows one of the two answers: the new one, its second version.
        shown = messages_of(ui_container, chat.id)
        assert [(m.content, m.sibling, m.siblings) for m in shown] == [
            ("question", 1, 1),
            (again, 2, 2),
        ]
        assert posts(fake_provider) == 2
        assert notifications(app).count(BUSY) == 1


async def test_ctrl_r_during_a_streaming_reply_is_refused_and_starts_nothing(
    make_app, ui_container, served_model, fake_provider
):
    reply = slow_reply(fake_provider, count=24)
    app = make_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press(*"question", "enter")
        screen = app.main_screen
        await wait_streaming(pilot, screen)
        chat = screen.current_chat

        await pilot.press("ctrl+r")
        await pilot.pause()
        assert BUSY in notifications(app)

        await wait_reply_stored(pilot, screen, chat.id)
        await settle(pilot)
        stored = messages_of(ui_container, chat.id)
        assert [(m.role, m.status, m.content) for m in stored] == [
            ("user", "complete", "question"),
            ("assistant", "complete", reply),
        ]
        assert posts(fake_provider) == 1


async def test_a_second_enter_during_a_reply_is_refused_and_the_prompt_kept_to_send_later(
    make_app, ui_container, served_model, fake_provider
):
    reply = slow_reply(fake_provider, count=24)
    app = make_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press(*"question", "enter")
        screen = app.main_screen
        await wait_streaming(pilot, screen)
        chat = screen.current_chat

        await pilot.press(*"follow up", "enter")
        await pilot.pause()
        assert BUSY in notifications(app)
        assert screen.prompt.text == "follow up"

        await wait_reply_stored(pilot, screen, chat.id)
        await settle(pilot)
        assert screen.prompt.text == "follow up"
        assert [(m.role, m.content) for m in messages_of(ui_container, chat.id)] == [
            ("user", "question"),
            ("assistant", reply),
        ]
        assert posts(fake_provider) == 1
        assert stored_rows(ui_container) == (1, 2)

        # Once the reply is stored, the same enter sends it.
        fake_provider.script = Script(reply="Second answer.")
        await pilot.press("enter")
        await settle(pilot)
        assert [(m.role, m.content) for m in messages_of(ui_container, chat.id)][2:] == [
            ("user", "follow up"),
            ("assistant", "Second answer."),
        ]
        assert screen.prompt.text == ""


# -- 4. a rejected prompt leaves nothing behind -------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "reason"),
    [("hello\x00world", "NUL byte"), ("broken \ud83d half", "unpaired surrogate")],
    ids=["nul", "lone-surrogate"],
)
async def test_a_prompt_that_cannot_be_stored_is_refused_and_creates_no_chat(
    make_app, ui_container, served_model, fake_provider, prompt, reason
):
    app = make_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        screen = app.main_screen
        screen.prompt.text = prompt
        screen.prompt.focus()
        await pilot.press("enter")
        await settle(pilot)

        assert any(reason in n for n in notifications(app)), notifications(app)
        assert screen.prompt.text == prompt
        assert screen.current_chat is None
        assert screen.sidebar.chats == []
        assert "No chats yet" in "\n".join(region_lines(app, screen.sidebar))
        assert ui_container.chats.list_chats().chats == []
        assert stored_rows(ui_container) == (0, 0)
        assert posts(fake_provider) == 0
        assert screen.engine.live == {}  # the new-chat claim is released: the next send works

        screen.prompt.text = "a fine prompt"
        await pilot.press("enter")
        await settle(pilot)
        assert [c.title for c in ui_container.chats.list_chats().chats] == ["a fine prompt"]


# -- 5. a reply cut at the token limit ---------------------------------------------------------


CUT_SCRIPTS = {
    "openai": Script(reply="This answer runs out of", finish_reason="length"),
    "anthropic": Script(reply="This answer runs out of", stop_reason="max_tokens"),
}


async def run_cut_reply(make_app, pilot_body, provider: str, ui_container, fake_provider):
    add_served_model(ui_container, fake_provider, provider)
    fake_provider.script = CUT_SCRIPTS[provider]
    app = make_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press(*"explain", "enter")
        await settle(pilot)
        await pilot_body(app, pilot)
    return app


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_a_reply_cut_at_the_token_limit_tells_the_user_and_is_marked_cut(
    make_app, ui_container, fake_provider, provider
):
    async def look(app, pilot):
        assert any("stopped at the token limit" in n for n in notifications(app))
        app.clear_notifications()
        await pilot.pause()
        text = screen_text(app)
        assert f"Assistant · served-{provider} · stopped at the token limit" in text
        assert "This answer runs out of" in text

    await run_cut_reply(make_app, look, provider, ui_container, fake_provider)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_a_reply_cut_at_the_token_limit_is_stored_as_cut_with_finish_reason_length(
    make_app, ui_container, fake_provider, provider
):
    async def nothing(app, pilot):
        pass

    await run_cut_reply(make_app, nothing, provider, ui_container, fake_provider)
    chat = ui_container.chats.list_chats().chats[0]
    answer = messages_of(ui_container, chat.id)[-1]
    assert (answer.status, answer.finish_reason, answer.content) == (
        "cut",
        "length",
        "This answer runs out of",
    )


async def test_a_cut_reply_says_on_the_message_that_it_stopped_at_the_token_limit(
    make_app, ui_container, fake_provider
):
    async def look(app, pilot):
        app.clear_notifications()
        await pilot.pause()
        pane = "\n".join(region_lines(app, app.main_screen.pane))
        assert "This answer runs out of" in pane
        assert "token limit" in pane

    await run_cut_reply(make_app, look, "openai", ui_container, fake_provider)


# -- 6. cancelled and failed replies still record tokens and cost -------------------------------


async def test_escape_mid_reply_on_anthropic_records_reported_prompt_and_estimated_completion(
    make_app, ui_container, fake_provider
):
    add_served_model(ui_container, fake_provider, "anthropic")
    fake_provider.script = Script(
        reply=words("token", 300), tokens_per_second=15, prompt_tokens=1234
    )
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"talk a lot", "enter")
        screen = app.main_screen
        await wait_streaming(pilot, screen, at_least=10)
        chat = screen.current_chat
        await pilot.press("escape")
        await wait_reply_stored(pilot, screen, chat.id)

    answer = messages_of(ui_container, chat.id)[-1]
    assert answer.status == "cancelled"
    assert answer.content.startswith("token0 token1 token2")
    assert answer.prompt_tokens == 1234  # told by the provider at the start
    assert answer.completion_tokens == estimate_tokens(len(answer.content))
    assert answer.tokens_estimated
    assert answer.cost == cost_at(1234, answer.completion_tokens) > 0


async def test_a_stream_cut_by_the_server_on_anthropic_records_tokens_and_cost(
    make_app, ui_container, fake_provider
):
    add_served_model(ui_container, fake_provider, "anthropic")
    fake_provider.script = Script(reply=words("token", 100), cut_after=40, prompt_tokens=1234)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"talk a lot", "enter")
        await settle(pilot)
        chat = app.main_screen.current_chat

    answer = messages_of(ui_container, chat.id)[-1]
    assert answer.status == "error"
    assert answer.content.startswith("token0 token1") and "token39" in answer.content
    assert answer.prompt_tokens == 1234
    assert answer.completion_tokens == estimate_tokens(len(answer.content))
    assert answer.tokens_estimated
    assert answer.cost == cost_at(1234, answer.completion_tokens) > 0


async def test_escape_mid_reply_on_openai_records_estimated_tokens_and_their_cost(
    make_app, ui_container, served_model, fake_provider
):
    # OpenAI reports usage only at the end of a stream: a stopped reply has it all estimated.
    slow_reply(fake_provider, stem="token", count=300, rate=15)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(*"talk a lot", "enter")
        screen = app.main_screen
        await wait_streaming(pilot, screen, at_least=10)
        chat = screen.current_chat
        await pilot.press("escape")
        await wait_reply_stored(pilot, screen, chat.id)

    answer = messages_of(ui_container, chat.id)[-1]
    assert answer.status == "cancelled"
    assert answer.tokens_estimated
    assert answer.prompt_tokens and answer.prompt_tokens > 0
    assert answer.completion_tokens == estimate_tokens(len(answer.content)) > 0
    assert answer.cost == cost_at(answer.prompt_tokens, answer.completion_tokens) > 0


async def test_a_stream_cut_by_the_server_on_openai_records_estimated_tokens_and_cost(
    make_app, ui_container, served_model, fake_provider
):
    fake_provider.script = Script(reply=words("token", 100), cut_after=40)
    app = make_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press(*"talk a lot", "enter")
        await settle(pilot)
        chat = app.main_screen.current_chat
        assert any("The reply failed" in n for n in notifications(app))

    answer = messages_of(ui_container, chat.id)[-1]
    assert answer.status == "error"
    assert "token39" in answer.content and "token40" not in answer.content
    assert answer.tokens_estimated
    assert answer.completion_tokens == estimate_tokens(len(answer.content)) > 0
    assert answer.cost == cost_at(answer.prompt_tokens, answer.completion_tokens) > 0


async def test_continue_reply_asks_the_model_to_go_on_from_a_cut_reply(
    make_app, ui_container, fake_provider
):
    async def go_on(app, pilot):
        fake_provider.script = Script(reply="the words it needed.")
        app.main_screen.action_continue_reply()
        await settle(pilot)
        messages = messages_of(ui_container, app.main_screen.current_chat.id)
        assert [(m.role, m.status) for m in messages] == [
            ("user", "complete"),
            ("assistant", "cut"),
            ("user", "complete"),
            ("assistant", "complete"),
        ]
        assert messages[2].content.startswith("Continue")
        # The cut text went to the model as context, then the request to continue.
        sent = [m["content"] for m in fake_provider.last_request.body["messages"]]
        assert sent == ["explain", "This answer runs out of", messages[2].content]
        assert "the words it needed." in screen_text(app)

    await run_cut_reply(make_app, go_on, "openai", ui_container, fake_provider)


async def test_continue_reply_after_a_complete_reply_says_there_is_nothing_to_continue(
    make_app, ui_container, served_model, fake_provider
):
    app = make_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press(*"hi", "enter")
        await settle(pilot)
        app.main_screen.action_continue_reply()
        await pilot.pause()
        assert any("did not stop at the token limit" in n for n in notifications(app))
        assert len(messages_of(ui_container, app.main_screen.current_chat.id)) == 2
