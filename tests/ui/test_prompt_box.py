"""The prompt box grown up: ``up`` / ``down`` walk the open chat's earlier prompts (without
getting in the way of moving through the text), ``f4`` hands the prompt to an editor, and the
prompts shown above keep their line breaks and code blocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from synergia_tui.models import Message
from tests.support import one_path
from tests.ui.conftest import add_messages, notifications, screen_text, settle


def add_prompts(container, chat, prompts: list[str]) -> None:
    """``prompts``, each answered, in this order (the last is the newest)."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    rows = []
    for prompt in prompts:
        for role, content in (("user", prompt), ("assistant", f"answer to {prompt}")):
            rows.append(
                Message(
                    chat_id=chat.id,
                    model_id=chat.model_id,
                    role=role,
                    content=content,
                    created_at=start + timedelta(seconds=len(rows)),
                )
            )
    with container.db.unit_of_work(write=True) as uow:
        uow.session.add_all(one_path(rows))
        uow.commit()


async def open_chat(pilot, chat) -> None:
    await settle(pilot)
    pilot.app.main_screen.open_chat(chat)
    await settle(pilot)


async def press(pilot, *keys: str) -> None:
    """Press keys, letting a page of prompts that one of them asked for arrive."""
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


class TestEarlierPrompts:
    async def test_up_in_an_empty_prompt_walks_back_and_down_comes_back_to_it(
        self, make_app, ui_container, a_model
    ):
        chat = ui_container.chats.create_chat(title="Walk", model_id=a_model.id)
        add_prompts(ui_container, chat, ["first", "second\nin two lines", "third"])
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await open_chat(pilot, chat)
            prompt = app.main_screen.prompt
            assert app.focused is prompt and prompt.text == ""
            await press(pilot, "up")
            assert prompt.text == "third"
            await press(pilot, "up")
            assert prompt.text == "second\nin two lines"
            await press(pilot, "up")
            assert prompt.text == "first"
            await press(pilot, "up")  # the oldest: stays
            assert prompt.text == "first"
            await press(pilot, "down", "down")
            # A recalled prompt of two lines: down from its first line moves the cursor first.
            assert prompt.text == "third"
            await press(pilot, "down")
            assert prompt.text == ""
            # The cursor keys never reached the message pane.
            assert app.focused is prompt and app.main_screen.pane.selected_message() is None

    async def test_a_recalled_prompt_of_several_lines_is_walked_past_from_its_edges(
        self, make_app, ui_container, a_model
    ):
        chat = ui_container.chats.create_chat(title="Lines", model_id=a_model.id)
        add_prompts(ui_container, chat, ["oldest", "one\ntwo\nthree", "newest"])
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await open_chat(pilot, chat)
            prompt = app.main_screen.prompt
            await press(pilot, "up", "up")
            assert prompt.text == "one\ntwo\nthree"
            assert prompt.cursor_location[0] == 0  # going back: on its first line
            await press(pilot, "up")
            assert prompt.text == "oldest"
            await press(pilot, "down")
            assert prompt.text == "one\ntwo\nthree"
            assert prompt.cursor_location[0] == 2  # coming forward: on its last line
            await press(pilot, "up")  # inside the text: the cursor moves, the walk waits
            assert prompt.text == "one\ntwo\nthree" and prompt.cursor_location[0] == 1

    async def test_up_in_a_prompt_being_written_moves_the_cursor_not_the_text(
        self, make_app, ui_container, a_model
    ):
        chat = ui_container.chats.create_chat(title="Typing", model_id=a_model.id)
        add_prompts(ui_container, chat, ["an earlier prompt"])
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await open_chat(pilot, chat)
            prompt = app.main_screen.prompt
            await press(pilot, *"line one", "ctrl+j", *"line two")
            assert prompt.cursor_location == (1, 8)
            await press(pilot, "up")
            assert prompt.text == "line one\nline two"
            assert prompt.cursor_location[0] == 0
            await press(pilot, "down")
            assert prompt.text == "line one\nline two"
            assert prompt.cursor_location[0] == 1

    async def test_a_draft_comes_back_after_a_walk_from_its_start(
        self, make_app, ui_container, a_model
    ):
        chat = ui_container.chats.create_chat(title="Draft", model_id=a_model.id)
        add_prompts(ui_container, chat, ["older", "newer"])
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await open_chat(pilot, chat)
            prompt = app.main_screen.prompt
            await press(pilot, *"my draft", "up")
            # The first up goes to the start of the line, as in any text box.
            assert prompt.text == "my draft" and prompt.cursor_location == (0, 0)
            await press(pilot, "up")  # from the very start, where up has nowhere to go
            assert prompt.text == "newer"
            await press(pilot, "up")
            assert prompt.text == "older"
            await press(pilot, "down", "down")
            assert prompt.text == "my draft"

    async def test_a_recalled_prompt_once_changed_is_a_draft_of_its_own(
        self, make_app, ui_container, a_model
    ):
        chat = ui_container.chats.create_chat(title="Changed", model_id=a_model.id)
        add_prompts(ui_container, chat, ["older", "newer"])
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await open_chat(pilot, chat)
            prompt = app.main_screen.prompt
            await press(pilot, "up", *"!", "left", "left")
            assert prompt.text == "newer!"
            await press(pilot, "up", "down")  # moves the cursor: the text stays as changed
            assert prompt.text == "newer!"
            # Emptied, the box walks from the newest again.
            prompt.clear()
            await press(pilot, "up")
            assert prompt.text == "newer"

    async def test_each_chat_recalls_its_own_prompts(self, make_app, ui_container, a_model):
        first = ui_container.chats.create_chat(title="First", model_id=a_model.id)
        second = ui_container.chats.create_chat(title="Second", model_id=a_model.id)
        add_prompts(ui_container, first, ["asked in the first chat"])
        add_prompts(ui_container, second, ["asked in the second chat", "and again"])
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await open_chat(pilot, first)
            prompt = app.main_screen.prompt
            await press(pilot, "up")
            assert prompt.text == "asked in the first chat"
            prompt.clear()
            await open_chat(pilot, second)
            await press(pilot, "up")
            assert prompt.text == "and again"  # the walk starts over, in this chat
            await press(pilot, "up", "up")
            assert prompt.text == "asked in the second chat"
            prompt.clear()
            await open_chat(pilot, first)
            await press(pilot, "up", "up")
            assert prompt.text == "asked in the first chat"

    async def test_a_prompt_just_sent_is_the_first_one_recalled(
        self, make_app, ui_container, a_model
    ):
        chat = ui_container.chats.create_chat(title="Sent", model_id=a_model.id)
        add_prompts(ui_container, chat, ["from before"])
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await open_chat(pilot, chat)
            prompt = app.main_screen.prompt
            await press(pilot, "up")  # the walk has read its first page
            prompt.clear()
            await press(pilot, *"just sent", "enter")
            assert prompt.text == ""
            await press(pilot, "up")
            assert prompt.text == "just sent"
            await press(pilot, "up")
            assert prompt.text == "from before"

    async def test_a_long_chat_is_walked_a_page_at_a_time(self, make_app, ui_container, a_model):
        chat = ui_container.chats.create_chat(title="Long", model_id=a_model.id)
        add_messages(ui_container, chat.id, a_model.id, 10_000)  # 5,000 prompts
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await open_chat(pilot, chat)
            prompt = app.main_screen.prompt
            for _ in range(120):
                await press(pilot, "up")
            # The newest prompt is number 9998; every other message is a prompt.
            assert prompt.text == f"message number {9998 - 2 * 119}"
            loaded = len(prompt.prompt_history.entries)
            assert 120 <= loaded <= 200, loaded  # pages of 50 as the walk went, not 5,000
            await press(pilot, "down")
            assert prompt.text == f"message number {9998 - 2 * 118}"


class TestEditor:
    async def test_without_a_terminal_to_lend_f4_says_so_and_keeps_the_prompt(
        self, make_app, a_model
    ):
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await press(pilot, *"keep me", "f4")
            await settle(pilot)
            assert app.main_screen.prompt.text == "keep me"
            assert any("needs the terminal" in n for n in notifications(app))

    async def test_f4_is_in_the_footer_at_80_columns_with_send_and_models(self, make_app):
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            footer = screen_text(app).splitlines()[-1]
            for shown in ("Send", "Newline", "New chat", "Models", "f4 Editor", "Commands"):
                assert shown in footer, footer
