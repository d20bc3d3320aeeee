"""Search from the keyboard: ctrl+f searches every chat as you type, enter opens the chat at the
message found (the windowed pane loads only the page around it) with the cursor on it and the
words marked; n/N step through the matches of the chat; / finds in the open chat from the
cursor. Checked on what the screen shows and what is selected, over a real SQLite database."""

from __future__ import annotations

from datetime import timedelta

from synergia_tui.models import Message
from synergia_tui.ui.screens.search import SearchScreen
from synergia_tui.ui.widgets.message_view import RenderedSegment
from tests.test_search import START
from tests.test_search import add_chat as add_search_chat
from tests.ui.conftest import notifications, screen_text, settle
from tests.ui.test_reply_engine import wait_until

LONG = 400
WALRUS_AT = (40, 250, 390)  # the messages of the long chat that mention the walrus


def long_chat_text(i: int) -> str:
    if i in WALRUS_AT:
        return f"Message {i}: the **Walrus** said it, and the walrus meant it."
    return f"Message {i}: nothing to see here, only words and more words."


def add_chat(container, title, texts):
    """A chat holding ``texts`` (see ``tests.test_search``), and its messages' ids in order."""
    chat_id = add_search_chat(container, title, texts)
    return chat_id, [m.id for m in container.messages.list_messages(chat_id, limit=500).messages]


async def search_for(pilot, query: str) -> SearchScreen:
    await pilot.press("ctrl+f")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, SearchScreen), "search opens")
    screen = pilot.app.screen
    await pilot.press(*query)
    await wait_until(
        pilot, lambda: screen.shown_query == query and screen.hits, f"results for {query!r}"
    )
    return screen


def marked_words(app) -> list[str]:
    """The words drawn as search matches (underlined) in the message pane, top to bottom."""
    words = []
    for segment in app.main_screen.pane.query(RenderedSegment):
        if segment.highlight is None:
            continue
        for y in range(segment.size.height):
            word = ""
            for seg in segment.render_line(y):
                if seg.style is not None and seg.style.underline:
                    word += seg.text
                elif word:
                    words.append(word)
                    word = ""
            if word:
                words.append(word)
    return words


async def test_ctrl_f_finds_a_message_deep_in_a_long_chat_and_lands_on_it(
    make_app, ui_container, a_model
):
    long_id, ids = add_chat(ui_container, "Sea creatures", [long_chat_text(i) for i in range(LONG)])
    add_chat(ui_container, "Other", ["no such animal here"])
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        search = await search_for(pilot, "walrus")
        assert {hit.message_id for hit in search.hits} == {ids[i] for i in WALRUS_AT}
        assert "3 results" in screen_text(app)
        # The oldest of the three equal matches is the last result: go down to it.
        target = search.hits[-1].message_id
        assert target == ids[40]
        await pilot.press("down", "down", "enter")
        main = app.main_screen
        pane = main.pane
        await wait_until(pilot, lambda: pane.selected == target, "the cursor is on the match")
        await settle(pilot)
        assert main.current_chat.id == long_id
        assert app.focused is pane
        assert len(pane.views) < 40 < LONG  # the page around it, not the chat
        view = pane.selected_view()
        assert view is not None and view.has_class("-selected")
        assert view.region.y >= pane.region.y and view.region.bottom <= pane.region.bottom
        assert "Message 40: the Walrus said it" in screen_text(app)
        await wait_until(pilot, lambda: "Walrus" in marked_words(app), "the match is marked")
        assert marked_words(app) == ["Walrus", "walrus"]

        # n / N: the next and previous matches in reading order, loading their pages.
        await pilot.press("n")
        await wait_until(pilot, lambda: pane.selected == ids[250], "n goes to the next match")
        await settle(pilot)
        assert "Message 250: the Walrus said it" in screen_text(app)
        await pilot.press("n")
        await wait_until(pilot, lambda: pane.selected == ids[390], "n again")
        await pilot.press("n")
        await wait_until(
            pilot, lambda: "No more matches below." in notifications(app), "n past the last"
        )
        assert pane.selected == ids[390]
        await pilot.press("N")
        await wait_until(pilot, lambda: pane.selected == ids[250], "N goes back")

        # Another chat opened from the list: no marks, no n.
        await pilot.press("escape")
        main.open_chat(ui_container.chats.get_chat(long_id))
        await settle(pilot)
        assert pane.search_query is None and marked_words(app) == []


async def test_the_results_follow_the_typing_and_enter_on_nothing_does_nothing(
    make_app, ui_container, a_model
):
    add_chat(ui_container, "Tea", ["green tea leaves", "black tea", "a teapot"])
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        search = await search_for(pilot, "tea")
        assert len([h for h in search.hits if h.message_id]) == 2
        await pilot.press(*" green")  # typed on: the results are for what is typed now
        await wait_until(pilot, lambda: search.shown_query == "tea green", "the new results")
        assert [h.message_id is not None for h in search.hits] == [True]
        await pilot.press(*"zzz")
        await wait_until(pilot, lambda: "Nothing matches" in screen_text(app), "no match said")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is search  # nothing to open: still searching
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is app.main_screen and app.main_screen.current_chat is None


async def test_text_in_results_is_shown_as_text_never_as_markup_or_escapes(
    make_app, ui_container, a_model
):
    hostile = "[bold red]walrus[/] \x1b[31mred\x1b[0m [link=file:///etc]walrus[/link]"
    add_chat(ui_container, "[i]Title[/i]", [hostile])
    app = make_app()
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        await search_for(pilot, "walrus")
        shown = screen_text(app)
        assert "[bold red]walrus[/]" in shown
        assert "[i]Title[/i]" in shown
        assert "\x1b" not in shown and "␛[31m" in shown  # the escape made visible


async def test_a_match_on_another_branch_is_opened_in_its_version(make_app, ui_container, a_model):
    chat_id, ids = add_chat(ui_container, "Branches", ["question", "first answer: narwhal"])
    # A second version of the answer, shown instead of the first.
    with ui_container.db.unit_of_work(write=True) as uow:
        first = uow.messages.get(ids[1])
        first.on_path = False
        uow.session.add(
            Message(
                chat_id=chat_id,
                parent_id=ids[0],
                role="assistant",
                content="second answer",
                created_at=START + timedelta(seconds=5),
            )
        )
        uow.commit()
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await search_for(pilot, "narwhal")
        await pilot.press("enter")
        pane = app.main_screen.pane
        await wait_until(pilot, lambda: pane.selected == ids[1], "the first answer selected")
        await settle(pilot)
        assert [m.content for m in pane.messages] == ["question", "first answer: narwhal"]
        assert "1/2" in screen_text(app)  # the first of the turn's two versions


async def test_slash_finds_in_the_open_chat_from_the_cursor_in_reading_order(
    make_app, ui_container, a_model
):
    texts = [f"line {i} {'otter' if i % 3 == 0 else 'seal'}" for i in range(30)]
    chat_id, ids = add_chat(ui_container, "Otters", texts)
    add_chat(ui_container, "Otter elsewhere", ["an otter in another chat"])
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        main = app.main_screen
        main.open_chat(ui_container.chats.get_chat(chat_id))
        await settle(pilot)
        await pilot.press("alt+up")  # the cursor on the newest message (29), then up to 13
        for _ in range(16):
            await pilot.press("up")
        await settle(pilot)
        assert main.pane.selected == ids[13]
        await pilot.press("slash")
        await wait_until(pilot, lambda: isinstance(app.screen, SearchScreen), "find opens")
        find = app.screen
        assert "Find in “Otters”" in screen_text(app)
        await pilot.press(*"otter")
        await wait_until(pilot, lambda: find.shown_query == "otter" and find.hits, "the matches")
        assert [h.message_id for h in find.hits] == [ids[i] for i in range(0, 30, 3)]
        assert find.highlighted.message_id == ids[15]  # the first one below the cursor
        await pilot.press("enter")
        await wait_until(pilot, lambda: main.pane.selected == ids[15], "lands on it")
        await pilot.press("N")
        await wait_until(pilot, lambda: main.pane.selected == ids[12], "N: the one above")
