"""The message pane and the prompt box: open, page, send, paste, copy."""

from __future__ import annotations

from textual import events

from synergia_tui.ui.screens.confirm import ConfirmScreen
from synergia_tui.ui.widgets.message_view import MessageView, RenderedSegment
from tests.ui.conftest import add_messages, notifications, screen_text, settle


async def test_a_long_chat_opens_with_only_its_newest_messages_and_loads_older_on_scroll(
    make_app, ui_container, a_model
):
    chat = ui_container.chats.create_chat(title="Long", model_id=a_model.id)
    add_messages(ui_container, chat.id, a_model.id, 10_000)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.main_screen.open_chat(chat)
        await settle(pilot)
        pane = app.main_screen.pane
        mounted = pane.messages
        assert 0 < len(mounted) <= 40
        assert mounted[-1].content == "message number 9999"
        assert "message number 9999" in screen_text(app)

        pane.scroll_home(animate=False, immediate=True)
        await settle(pilot)
        older = pane.messages
        assert len(older) > len(mounted)
        assert older[-1].content == "message number 9999"
        contents = [m.content for m in older]
        assert contents == sorted(contents, key=lambda c: int(c.split()[-1]))


async def test_short_messages_on_a_tall_terminal_still_fill_the_pane(
    make_app, ui_container, a_model
):
    chat = ui_container.chats.create_chat(title="Short ones", model_id=a_model.id)
    add_messages(ui_container, chat.id, a_model.id, 500)
    app = make_app()
    async with app.run_test(size=(100, 70)) as pilot:
        await settle(pilot)
        app.main_screen.open_chat(chat)
        await settle(pilot)
        pane = app.main_screen.pane
        # A first page does not fill 70 lines; older pages follow until it can scroll.
        assert pane.max_scroll_y > 0, (pane.scroll_y, pane.max_scroll_y, len(pane.messages))
        assert pane.is_vertical_scroll_end, (pane.scroll_y, pane.max_scroll_y, len(pane.messages))
        assert pane.messages[-1].content == "message number 499"
        assert len(pane.messages) < 100


async def test_enter_sends_a_prompt_which_is_stored_and_shown(make_app, ui_container, a_model):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(*"first line", "ctrl+j", *"second line", "enter")
        await settle(pilot)
        chats = ui_container.chats.list_chats().chats
        assert [c.title for c in chats] == ["first line"]
        stored = ui_container.messages.list_messages(chats[0].id).messages
        assert [(m.role, m.content) for m in stored if m.role == "user"] == [
            ("user", "first line\nsecond line")
        ]
        # The model has no key here: the reply is asked for and fails visibly, prompt kept.
        assert [(m.role, m.status) for m in stored[1:]] == [("assistant", "error")]
        assert "no API key" in (stored[1].error or "")
        assert app.main_screen.prompt.text == ""
        text = screen_text(app)
        assert "first line" in text and "second line" in text
        assert "model gpt-test" in text


async def test_empty_prompts_are_not_sent(make_app, ui_container, a_model):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("space", "ctrl+j", "enter")
        await settle(pilot)
        assert ui_container.chats.list_chats().chats == []


async def test_a_pasted_block_is_inserted_and_never_sent_by_itself(make_app, ui_container, a_model):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.main_screen.prompt.post_message(_paste("one\ntwo\n"))
        await settle(pilot)
        assert app.main_screen.prompt.text == "one\ntwo\n"
        assert ui_container.chats.list_chats().chats == []


async def test_a_very_large_paste_asks_before_it_is_inserted(make_app, ui_container, a_model):
    big = "x" * 150_000 + "\n"
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.main_screen.prompt.post_message(_paste(big))
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert app.main_screen.prompt.text == ""
        await pilot.click("#confirm-yes")
        await settle(pilot)
        assert app.main_screen.prompt.text == big
        assert ui_container.chats.list_chats().chats == []


async def test_without_any_model_the_prompt_is_kept_and_the_user_told(make_app, ui_container):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(*"hello", "enter")
        await settle(pilot)
        assert app.main_screen.prompt.text == "hello"
        assert any("No model" in n for n in notifications(app))


async def test_copy_last_reply_and_a_code_block_go_through_osc_52(make_app, ui_container, a_model):
    chat = ui_container.chats.create_chat(title="Code", model_id=a_model.id)
    ui_container.messages.add_user_message(chat.id, "show me code")
    reply = ui_container.messages.start_reply(chat.id, a_model.id)
    ui_container.messages.finish_reply(
        reply.id, content="Here:\n\n```python\nprint('a')\n```\n\n```sh\necho b\n```\n"
    )
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.main_screen.open_chat(chat)
        await settle(pilot)
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert app.clipboard.startswith("Here:")
        assert any("OSC 52" in n for n in notifications(app))

        await pilot.press("ctrl+g")
        await settle(pilot)
        await pilot.press("down", "enter")  # newest first: echo b, then print('a')
        await settle(pilot)
        assert app.clipboard == "print('a')\n"


async def test_links_in_messages_are_not_opened_but_offered_for_copying(
    make_app, ui_container, a_model
):
    chat = ui_container.chats.create_chat(title="Links", model_id=a_model.id)
    ui_container.messages.add_user_message(chat.id, "see [here](https://example.com/x)")
    opened: list[str] = []
    app = make_app()
    app.open_url = lambda url, **kw: opened.append(url)  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.main_screen.open_chat(chat)
        await settle(pilot)
        # The finished message is drawn lines by now: the click lands on the drawn link.
        (body,) = app.main_screen.pane.query_one(MessageView).query_children(RenderedSegment)
        lines = [body.render_line(y).text for y in range(body.size.height)]
        y = next(y for y, line in enumerate(lines) if "here" in line)
        await pilot.click(body, offset=(lines[y].index("here") + 1, y))
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "https://example.com/x" in screen_text(app)
        await pilot.click("#confirm-yes")
        await settle(pilot)
        assert opened == []
        assert app.clipboard == "https://example.com/x"


def _paste(text: str):
    from textual import events

    return events.Paste(text)


async def test_a_burst_of_keys_edits_the_prompt_in_keystroke_order(make_app, ui_container):
    # Over SSH a fast typist's keys arrive in one packet; backspace and arrows are bindings,
    # which Textual would run only after the key bubbled up, behind the letters that follow.
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        prompt = app.main_screen.prompt
        keys = [*"France", *["backspace"] * 6, *"Italy", "left", "left", "delete", "y"]
        for key in keys:  # posted at once, as one packet of input would be
            app.post_message(events.Key(key, key if len(key) == 1 else None))
        await settle(pilot)
        assert prompt.text == "Itayy"  # "Italy", two left, delete the l, type y
