"""The message cursor, from the keyboard: alt+up/down select a message anywhere on the main
screen, and on it c copies, q quotes, e edits and resends (a new version), r answers again,
f forks, left/right switch versions, enter lists its actions and links; escape goes back.

A real SDK talks to the fake provider server; what is checked is what a user sees (the screen,
the clipboard, the prompt box) and what is stored."""

# ruff: noqa: F811
from __future__ import annotations

from textual import events

from synergia_tui.ui.screens.message_menu import MessageMenu
from synergia_tui.ui.widgets.message_view import MessageView
from tests.fake_provider_server import Script, fake_provider  # noqa: F401
from tests.ui.conftest import add_messages, screen_text, settle
from tests.ui.test_reply_engine import (  # noqa: F401
    fake_key,
    messages_of,
    region_lines,
    served_model,
    wait_reply_stored,
    wait_until,
)


async def chat_with_a_reply(pilot, fake_provider, prompt="What is 2+2?", reply="It is 4."):
    fake_provider.script = Script(reply=reply)
    await settle(pilot)
    await pilot.press(*prompt, "enter")
    screen = pilot.app.main_screen
    await wait_until(pilot, lambda: screen.current_chat is not None, "the chat starts")
    await wait_reply_stored(pilot, screen, screen.current_chat.id)
    await settle(pilot)
    return screen


async def wait_stored(pilot, container, chat_id, contents: list[str]) -> None:
    """Until the chat's path holds ``contents``, the last reply finished, and the screen has
    caught up."""

    def stored() -> bool:
        messages = messages_of(container, chat_id)
        done = bool(messages) and messages[-1].status != "streaming"
        return done and [m.content for m in messages] == contents

    await wait_until(pilot, stored, f"the chat holds {contents}")
    await wait_reply_stored(pilot, pilot.app.main_screen, chat_id)
    await settle(pilot)


def selected(screen) -> MessageView | None:
    return screen.pane.selected_view()


def header_of(app, view) -> str:
    return region_lines(app, view.query_one(".message-header"))[0].strip()


async def test_alt_up_selects_from_the_prompt_and_the_arrows_walk_the_messages(
    make_app, ui_container, served_model, fake_provider
):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await chat_with_a_reply(pilot, fake_provider)
        assert app.focused is screen.prompt
        await pilot.press("alt+up")
        assert app.focused is screen.pane
        view = selected(screen)
        assert view is not None and view.message.content == "It is 4."
        assert view.has_class("-selected")
        # The header is drawn reversed: visible without colours.
        header = view.query_one(".message-header")
        assert header.styles.text_style.reverse
        await pilot.press("up")
        assert selected(screen).message.content == "What is 2+2?"
        await pilot.press("up")  # the first message: stays
        assert selected(screen).message.content == "What is 2+2?"
        await pilot.press("down")
        assert selected(screen).message.content == "It is 4."
        assert not screen.pane.views[0].has_class("-selected")
        await pilot.press("escape")
        assert app.focused is screen.prompt and selected(screen) is None
        assert not any(v.has_class("-selected") for v in screen.pane.views)


async def test_c_copies_and_q_quotes_the_selected_message(
    make_app, ui_container, served_model, fake_provider
):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await chat_with_a_reply(pilot, fake_provider, reply="line one\nline two")
        await pilot.press("alt+up", "c")
        assert app.clipboard == "line one\nline two"
        await pilot.press("q")
        assert screen.prompt.text == "> line one\n> line two\n\n"
        assert app.focused is screen.prompt


async def test_e_edits_a_prompt_and_sending_makes_a_second_version(
    make_app, ui_container, served_model, fake_provider
):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await chat_with_a_reply(pilot, fake_provider)
        chat = screen.current_chat
        await pilot.press("alt+up", "up", "e")
        assert screen.prompt.text == "What is 2+2?"
        assert app.focused is screen.prompt
        fake_provider.script = Script(reply="It is 6.")
        await pilot.press("backspace", "backspace", "backspace", "backspace", *"3+3?", "enter")
        await wait_stored(pilot, ui_container, chat.id, ["What is 3+3?", "It is 6."])
        shown = [view.message.content for view in screen.pane.views]
        assert shown == ["What is 3+3?", "It is 6."]
        # Drawn, not just held: a reply shown whole as it ends was once drawn blank, while its
        # body was still being laid out (about one run in three).
        await wait_until(pilot, lambda: "It is 6." in screen_text(app), "the new reply drawn")
        assert "2/2" in header_of(app, screen.pane.views[0])
        assert "It is 4." not in screen_text(app)
        # The model was sent the edited prompt alone.
        assert fake_provider.last_request.body["messages"] == [
            {"role": "user", "content": "What is 3+3?"}
        ]
        # left on the prompt brings the first version back, with its reply.
        await pilot.press("alt+up", "up", "left")
        await wait_until(
            pilot,
            lambda: [v.message.content for v in screen.pane.views] == ["What is 2+2?", "It is 4."],
            "the first version is shown",
        )
        await settle(pilot)
        assert "1/2" in header_of(app, screen.pane.views[0])
        assert selected(screen).message.content == "What is 2+2?"
        assert [m.content for m in messages_of(ui_container, chat.id)] == [
            "What is 2+2?",
            "It is 4.",
        ]


async def test_escape_while_editing_cancels_the_edit(
    make_app, ui_container, served_model, fake_provider
):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await chat_with_a_reply(pilot, fake_provider)
        await pilot.press("alt+up", "up", "e")
        assert screen.column.editing is not None
        await pilot.press("escape")
        assert screen.column.editing is None and screen.prompt.text == ""
        fake_provider.script = Script(reply="fine")
        await pilot.press(*"a new question", "enter")
        # A prompt after the first turn, not a new version of the first prompt.
        contents = ["What is 2+2?", "It is 4.", "a new question", "fine"]
        await wait_stored(pilot, ui_container, screen.current_chat.id, contents)


async def test_r_answers_again_and_the_arrows_switch_between_the_answers(
    make_app, ui_container, served_model, fake_provider
):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await chat_with_a_reply(pilot, fake_provider)
        chat = screen.current_chat
        fake_provider.script = Script(reply="Four.")
        await pilot.press("alt+up", "r")
        await wait_stored(pilot, ui_container, chat.id, ["What is 2+2?", "Four."])
        # One answer on screen, the new one, marked as the second version: not two stacked.
        assert [v.message.content for v in screen.pane.views] == ["What is 2+2?", "Four."]
        assert "2/2" in header_of(app, screen.pane.views[1])
        await pilot.press("alt+up", "left")
        await wait_until(
            pilot,
            lambda: [v.message.content for v in screen.pane.views][-1] == "It is 4.",
            "the first answer is shown",
        )
        await settle(pilot)
        assert "1/2" in header_of(app, screen.pane.views[1])
        await pilot.press("right")
        await wait_until(
            pilot,
            lambda: [v.message.content for v in screen.pane.views][-1] == "Four.",
            "the second answer is shown",
        )


async def test_f_forks_the_chat_up_to_the_selected_message(
    make_app, ui_container, served_model, fake_provider
):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await chat_with_a_reply(pilot, fake_provider)
        original = screen.current_chat
        fake_provider.script = Script(reply="Six.")
        await pilot.press(*"And 3+3?", "enter")
        contents = ["What is 2+2?", "It is 4.", "And 3+3?", "Six."]
        await wait_stored(pilot, ui_container, original.id, contents)
        await pilot.press("alt+up", "up", "up", "f")
        await wait_until(
            pilot,
            lambda: screen.current_chat is not None and screen.current_chat.id != original.id,
            "the fork is open",
        )
        await settle(pilot)
        assert screen.current_chat.title.endswith("(fork)")
        assert [v.message.content for v in screen.pane.views] == ["What is 2+2?", "It is 4."]
        assert "(fork)" in screen_text(app)  # listed in the sidebar
        assert len(messages_of(ui_container, original.id)) == 4


async def test_enter_lists_the_actions_and_the_links_and_a_link_is_copied(
    make_app, ui_container, served_model, fake_provider
):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await chat_with_a_reply(
            pilot,
            fake_provider,
            reply="See [the docs](https://example.com/docs) and https://x.org/a.",
        )
        await pilot.press("alt+up", "enter")
        await settle(pilot)
        menu = app.screen
        assert isinstance(menu, MessageMenu)
        text = screen_text(app)
        assert "Copy the message" in text and "Answer again" in text
        assert "https://example.com/docs" in text and "https://x.org/a" in text
        assert menu.choices[-2:] == ["link:https://example.com/docs", "link:https://x.org/a"]
        for _ in range(len(menu.choices) - 2):
            await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        assert app.clipboard == "https://example.com/docs"
        assert not isinstance(app.screen, MessageMenu)


async def test_the_cursor_walks_a_long_chat_to_its_first_message_with_the_window_bounded(
    make_app, ui_container, served_model
):
    chat = ui_container.chats.create_chat(title="Long", model_id=served_model.id)
    add_messages(ui_container, chat.id, served_model.id, 160)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.main_screen
        screen.open_chat(ui_container.chats.get_chat(chat.id))
        await wait_until(pilot, lambda: screen.current_chat is not None, "the chat opens")
        await settle(pilot)
        await pilot.press("alt+up")
        most = 0
        for _ in range(600):
            view = selected(screen)
            if view is not None and view.message.content == "message number 0":
                break
            await pilot.press("up")
            most = max(most, len(screen.pane.views))
            if view is not None and screen.pane.first_index == 0:
                continue
            await pilot.pause()
        else:
            raise AssertionError("the cursor did not reach the first message")
        assert most < 100, f"{most} views mounted at once"
        await settle(pilot)
        # The selected message is on screen.
        assert "message number 0" in screen_text(app)


async def test_up_keys_pressed_faster_than_pages_load_each_move_the_cursor_one_message(
    make_app, ui_container, served_model
):
    # Held down, or sent in one packet over SSH: a key that reaches the window's edge while the
    # page beyond is loading lands once it is mounted, instead of being lost.
    chat = ui_container.chats.create_chat(title="Long", model_id=served_model.id)
    add_messages(ui_container, chat.id, served_model.id, 120)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.main_screen
        screen.open_chat(ui_container.chats.get_chat(chat.id))
        await wait_until(pilot, lambda: screen.current_chat is not None, "the chat opens")
        await settle(pilot)
        await pilot.press("alt+up")
        assert selected(screen).message.content == "message number 119"
        for _ in range(40):
            app.post_message(events.Key("up", None))
        await wait_until(
            pilot,
            lambda: (
                (view := selected(screen)) is not None
                and view.message.content == "message number 79"
            ),
            "forty steps up",
        )
        await settle(pilot)
        assert selected(screen).message.content == "message number 79"  # and no further


async def test_the_footer_offers_the_keys_of_the_message_the_cursor_rests_on(
    make_app, ui_container, served_model, fake_provider
):
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await chat_with_a_reply(pilot, fake_provider)
        await pilot.press("alt+up")  # the reply: it can be answered again, not edited
        await wait_until(pilot, lambda: "r Regenerate" in footer_of(app), "the reply's keys")
        assert "e Edit" not in footer_of(app)
        await pilot.press("up")  # the prompt: the other way round, once the cursor rests
        await wait_until(pilot, lambda: "e Edit" in footer_of(app), "the prompt's keys")
        assert "r Regenerate" not in footer_of(app)


def footer_of(app) -> str:
    return screen_text(app).splitlines()[-1]
