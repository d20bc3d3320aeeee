"""The chat sidebar: create, rename, delete, filter and page through chats."""

from __future__ import annotations

from textual.widgets import Input

from synergia_tui.ui.screens.confirm import ConfirmScreen
from synergia_tui.ui.screens.text_prompt import TextPromptScreen
from tests.ui.conftest import screen_text, settle


async def test_ctrl_n_creates_a_chat_that_is_stored_and_listed(make_app, ui_container, a_model):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        stored = ui_container.chats.list_chats().chats
        assert [c.title for c in stored] == ["New chat"]
        assert stored[0].model_id == a_model.id
        assert app.main_screen.current_chat.id == stored[0].id
        assert "New chat" in screen_text(app)


async def test_f2_renames_the_open_chat(make_app, ui_container):
    chat = ui_container.chats.create_chat(title="Old title")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.main_screen.open_chat(chat)
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, TextPromptScreen)
        app.screen.query_one(Input).value = ""
        await pilot.press(*"Fresh title", "enter")
        await settle(pilot)
        assert ui_container.chats.get_chat(chat.id).title == "Fresh title"
        assert "Fresh title" in screen_text(app)
        assert "Old title" not in screen_text(app)


async def test_f8_deletes_the_chat_only_after_confirmation(make_app, ui_container):
    chat = ui_container.chats.create_chat(title="Doomed")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.main_screen.open_chat(chat)
        await settle(pilot)
        await pilot.press("f8")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")  # cancel: nothing happens
        await settle(pilot)
        assert [c.id for c in ui_container.chats.list_chats().chats] == [chat.id]

        await pilot.press("f8")
        await settle(pilot)
        await pilot.click("#confirm-yes")
        await settle(pilot)
        assert ui_container.chats.list_chats().chats == []
        assert "Doomed" not in screen_text(app).split("Deleted")[0]
        assert app.main_screen.current_chat is None


async def test_delete_key_in_the_chat_list_deletes_the_highlighted_chat(make_app, ui_container):
    ui_container.chats.create_chat(title="Keep me")
    doomed = ui_container.chats.create_chat(title="Remove me")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        sidebar = app.main_screen.sidebar
        sidebar.chat_list.focus()
        sidebar.chat_list.highlighted = 0  # newest first: "Remove me"
        await pilot.press("delete")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.click("#confirm-yes")
        await settle(pilot)
        assert [c.title for c in ui_container.chats.list_chats().chats] == ["Keep me"]
        assert doomed.id not in [c.id for c in sidebar.chats]


async def test_the_filter_searches_the_database_not_just_the_loaded_page(make_app, ui_container):
    ui_container.chats.create_chat(title="Needle in the haystack")  # oldest: not on page one
    for i in range(12):
        ui_container.chats.create_chat(title=f"Hay {i}")
    app = make_app(chat_page=5)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        sidebar = app.main_screen.sidebar
        assert len(sidebar.chats) == 5
        assert "Needle" not in [c.title.split()[0] for c in sidebar.chats]
        app.main_screen.action_find_chat()  # the palette's Find chat (ctrl+f searches)
        await pilot.pause()
        await pilot.press(*"needle")
        await settle(pilot)
        assert [c.title for c in sidebar.chats] == ["Needle in the haystack"]
        for _ in "needle":
            await pilot.press("backspace")
        await pilot.press(*"nothing like this")
        await settle(pilot)
        assert sidebar.chats == []
        assert "No chat titles" in screen_text(app)


async def test_scrolling_the_sidebar_pages_in_more_chats(make_app, ui_container):
    for i in range(70):
        ui_container.chats.create_chat(title=f"Chat {i:02d}")
    app = make_app(chat_page=25)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        sidebar = app.main_screen.sidebar
        assert len(sidebar.chats) == 25  # one page, never everything
        sidebar.chat_list.focus()
        for _ in range(4):
            await pilot.press("end")
            await settle(pilot)
        assert len(sidebar.chats) == 70
        assert sidebar.chats[-1].title == "Chat 00"
        assert len({c.id for c in sidebar.chats}) == 70


async def test_f9_shows_the_trash_and_r_restores_the_highlighted_chat(make_app, ui_container):
    ui_container.chats.create_chat(title="Still here")
    deleted = ui_container.chats.create_chat(title="Deleted by mistake")
    ui_container.chats.delete_chat(deleted.id)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        sidebar = app.main_screen.sidebar
        assert [c.title for c in sidebar.chats] == ["Still here"]

        await pilot.press("f9")
        await settle(pilot)
        assert sidebar.showing_trash
        assert [c.title for c in sidebar.chats] == ["Deleted by mistake"]
        assert "Deleted by mist…" in screen_text(app)  # 80 columns: the title is cut
        await pilot.press("enter")  # a chat in the trash is not opened
        await settle(pilot)
        assert app.main_screen.current_chat is None
        await pilot.press("f8")  # nor deleted again
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen)

        await pilot.press("r")
        await settle(pilot)
        assert sidebar.chats == []
        assert "The trash is" in screen_text(app)  # "empty." on the next line, at 80 columns
        assert ui_container.chats.list_trash().chats == []

        await pilot.press("f9")
        await settle(pilot)
        assert not sidebar.showing_trash
        assert {c.title for c in sidebar.chats} == {"Still here", "Deleted by mistake"}
