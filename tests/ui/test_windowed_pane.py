"""The windowed message pane: any chat, any length, the same lines as a fully mounted pane.

A reference pane with every message mounted (one page of the whole chat, nothing unmounted)
gives the chat's lines at each position; the windowed pane, moved there by paging, jumping or
Home/End, must show exactly those lines, keep its view still while pages come and go, and keep
only a few screens mounted.
"""

# ruff: noqa: F811
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from textual.widgets import Markdown

from synergia_tui.models import Message
from synergia_tui.ui.widgets import message_pane, message_view
from synergia_tui.ui.widgets.message_view import MessageView, RenderedSegment
from tests.fake_provider_server import fake_provider  # noqa: F401
from tests.support import one_path
from tests.ui.conftest import screen_text, settle
from tests.ui.test_reply_engine import add_served_model, slow_reply

SIZE = (90, 28)


def _content(i: int) -> str:
    """Messages of varied shapes: short lines, paragraphs, lists, code blocks."""
    if i % 10 == 3:
        return f"Code for {i}:\n\n```python\ndef f{i}(x):\n    return x * {i}\n```\n\nDone {i}."
    if i % 7 == 0:
        return f"# Heading {i}\n\n- one {i}\n- two {i}\n- three {i}"
    words = " ".join(f"word{i}-{n}" for n in range(3 + (i * 37) % 60))
    return f"Message {i}: {words}"


def add_chat(container: Any, model_id: Any, count: int, *, content=_content) -> Any:
    chat = container.chats.create_chat(title="Long read", model_id=model_id)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with container.db.unit_of_work(write=True) as uow:
        uow.session.add_all(
            one_path(
                [
                    Message(
                        chat_id=chat.id,
                        model_id=model_id,
                        role="user" if i % 2 == 0 else "assistant",
                        content=content(i),
                        created_at=start + timedelta(seconds=i),
                    )
                    for i in range(count)
                ]
            )
        )
        uow.commit()
    return chat


PANE_WORK = ("open-chat", "message-pages", "open-requested")


async def settle_pane(pilot: Any) -> None:
    """Until no page is loading and the pane has caught up with the view (a reply streaming
    meanwhile is not waited for)."""
    pane = pilot.app.main_screen.pane
    quiet = 0
    for _ in range(2_000):
        await pilot.pause()
        busy = pane.paging or any(
            not worker.is_finished and worker.group in PANE_WORK for worker in pilot.app.workers
        )
        quiet = 0 if busy else quiet + 1
        if quiet >= 3:
            return
    raise AssertionError("the pane kept loading pages")


def pane_lines(app: Any) -> list[str]:
    """The lines the pane shows (its scrollbar left out: it differs by design)."""
    region = app.main_screen.pane.scrollable_content_region
    strips = app.screen._compositor.render_strips()
    return [strip.text[region.x : region.right] for strip in strips[region.y : region.bottom]]


def top_place(pane: Any) -> tuple[Any, int]:
    """(id of the message at the top of the view, lines of it scrolled past)."""
    for view in pane.views:
        region = view.virtual_region
        if region.bottom > pane.scroll_y:
            return view.message.id, round(pane.scroll_y) - region.y
    raise AssertionError("no message in view")


async def reference(make_app: Any, chat: Any, size: tuple[int, int], monkeypatch: Any):
    """Every line of the chat as a fully mounted pane draws it at ``size``'s width, and where
    each message starts: one pane holding the whole chat as live Markdown widgets (Textual's
    own rendering; nothing drawn once and kept), on a terminal tall enough to show it all at
    once (its scrollbar's column kept, as the windowed pane has one)."""
    width, _ = size
    with monkeypatch.context() as patch:
        patch.setattr(message_pane, "MESSAGE_PAGE", 500)
        patch.setattr(message_pane, "JUMP_PAGE", 500)
        patch.setattr(message_pane, "KEEP_SCREENS", 10_000.0)
        patch.setattr(message_view, "DRAW_FINISHED", False)
        app = make_app()
        async with app.run_test(size=(width, 400)) as pilot:
            await settle(pilot)
            pane = app.main_screen.pane
            pane.styles.scrollbar_gutter = "stable"
            app.main_screen.open_chat(chat)
            await settle_pane(pilot)
            assert not pane.windowed, "the reference must hold the whole chat"
            while pane.max_scroll_y > 0:
                await pilot.resize_terminal(width, app.size.height + pane.max_scroll_y)
                await settle_pane(pilot)
            pane.anchor(False)  # an anchored pane taller than its messages keeps them at its foot
            pane.scroll_to(y=0, animate=False, immediate=True)
            await settle_pane(pilot)
            starts = {view.message.id: view.virtual_region.y for view in pane.views}
            return pane_lines(app)[: pane.virtual_size.height], starts


def expected(ref: tuple[list[str], dict], pane: Any) -> list[str]:
    lines, starts = ref
    message_id, offset = top_place(pane)
    y = starts[message_id] + offset
    height = pane.scrollable_content_region.height
    return (lines[y : y + height] + [""] * height)[:height]


def drawn(pane: Any) -> bool:
    """Every mounted message is shown as its drawn lines (none is a live Markdown)."""
    return all(
        view.query_children(RenderedSegment) and not view.query_children(Markdown)
        for view in pane.views
    )


def _blank_tail(lines: list[str]) -> list[str]:
    return [line.rstrip() for line in lines]


@pytest.fixture
def long_chat(ui_container, a_model):
    return add_chat(ui_container, a_model.id, 150)


@pytest.mark.timeout(300)  # a pane mounting the whole chat, as the reference, is slow
async def test_paging_both_ways_shows_the_lines_of_a_fully_mounted_pane_and_never_jumps(
    make_app, ui_container, long_chat, monkeypatch
):
    ref = await reference(make_app, long_chat, SIZE, monkeypatch)
    lines, starts = ref
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.main_screen
        screen.open_chat(long_chat)
        await settle_pane(pilot)
        pane = screen.pane
        assert pane.windowed and len(pane.views) < 60
        assert _blank_tail(pane_lines(app)) == _blank_tail(expected(ref, pane))
        height = pane.scrollable_content_region.height

        # Up from the newest message to the first, a page per key, from the prompt box.
        assert screen.prompt.has_focus
        most_mounted = 0
        where = None
        for _ in range(2_000):
            message_id, offset = top_place(pane)
            y = starts[message_id] + offset
            if y == 0:
                break
            await pilot.press("pageup")
            await settle_pane(pilot)
            message_id, offset = top_place(pane)
            now = starts[message_id] + offset
            # Exactly a page up, wherever pages were mounted above or unmounted below.
            assert now == max(0, y - height), (y, now)
            assert _blank_tail(pane_lines(app)) == _blank_tail(expected(ref, pane))
            assert drawn(pane), [
                (v.message.content[:20], list(v.children), [c.size for c in v.children])
                for v in pane.views
                if not (v.query_children(RenderedSegment) and not v.query_children(Markdown))
            ]
            most_mounted = max(most_mounted, len(pane.views))
            where = pane.chat_position()
        assert top_place(pane)[0] == pane.views[0].message.id and not pane.has_older
        assert pane.first_index == 0
        assert pane.has_newer  # the newest pages were unmounted on the way
        assert most_mounted < 60
        assert where is None or where[0] < 2

        # And down again to the newest, the pane focused this time.
        pane.focus()
        for _ in range(2_000):
            if not pane.has_newer and pane.is_vertical_scroll_end:
                break
            message_id, offset = top_place(pane)
            y = starts[message_id] + offset
            await pilot.press("pagedown")
            await settle_pane(pilot)
            message_id, offset = top_place(pane)
            now = starts[message_id] + offset
            assert now == min(y + height, len(lines) - height), (y, now)
            assert _blank_tail(pane_lines(app)) == _blank_tail(expected(ref, pane))
            most_mounted = max(most_mounted, len(pane.views))
        assert most_mounted < 60
        assert pane.views[-1].message.content == _content(149)


@pytest.mark.timeout(300)
async def test_home_end_and_a_jump_mount_only_the_pages_around_them(
    make_app, ui_container, a_model, monkeypatch
):
    chat = add_chat(ui_container, a_model.id, 160)
    ref = await reference(make_app, chat, SIZE, monkeypatch)
    ids = [m.id for m in ui_container.messages.list_messages(chat.id, limit=500).messages]
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.main_screen
        screen.open_chat(chat)
        await settle_pane(pilot)
        pane = screen.pane
        pane.focus()

        await pilot.press("home")
        await settle_pane(pilot)
        assert top_place(pane) == (ids[0], 0)
        assert pane.first_index == 0 and pane.has_newer and len(pane.views) < 60
        assert _blank_tail(pane_lines(app)) == _blank_tail(expected(ref, pane))
        position = pane.chat_position()
        assert position is not None and position[0] == 0 and position[2] == 160

        await pilot.press("end")
        await settle_pane(pilot)
        assert pane.is_vertical_scroll_end and not pane.has_newer
        assert pane.views[-1].message.id == ids[-1]
        assert _blank_tail(pane_lines(app)) == _blank_tail(expected(ref, pane))

        pane.show_message(ids[80])
        await settle_pane(pilot)
        assert top_place(pane) == (ids[80], 0)
        mounted = [view.message.id for view in pane.views]
        assert mounted.index(ids[80]) > 0 and mounted[-1] != ids[80]  # neighbours both sides
        assert len(mounted) < 60
        assert _blank_tail(pane_lines(app)) == _blank_tail(expected(ref, pane))
        position = pane.chat_position()
        assert position is not None and 79 <= position[0] <= 81

        # After a resize the lines are a fully mounted pane's at that size.
        await pilot.resize_terminal(70, 24)
        await settle_pane(pilot)
        narrow = await reference(make_app, chat, (70, 24), monkeypatch)
        assert _blank_tail(pane_lines(app)) == _blank_tail(expected(narrow, pane))
        assert drawn(pane)
        await pilot.press("pageup")
        await settle_pane(pilot)
        assert _blank_tail(pane_lines(app)) == _blank_tail(expected(narrow, pane))

        # A theme change redraws what is mounted; the lines stay the chat's.
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await settle_pane(pilot)
        assert _blank_tail(pane_lines(app)) == _blank_tail(expected(narrow, pane))
        assert drawn(pane)


@pytest.mark.timeout(900)  # a key and a settle per page: about 160 pages
async def test_paging_through_two_thousand_messages_keeps_the_mounted_count_bounded(
    make_app, ui_container, a_model
):
    chat = add_chat(ui_container, a_model.id, 2_000, content=lambda i: f"message number {i}")
    app = make_app()
    async with app.run_test(size=(80, 40)) as pilot:
        await settle(pilot)
        app.main_screen.open_chat(chat)
        await settle_pane(pilot)
        pane = app.main_screen.pane
        most = len(pane.views)
        for _ in range(2_000):
            if not pane.has_older and pane.scroll_y == 0:
                break
            await pilot.press("pageup")
            await settle_pane(pilot)
            most = max(most, len(pane.views))
            assert len(list(pane.query(MessageView))) == len(pane.views)
        assert pane.views[0].message.content == "message number 0"
        # The screen, the screens kept each side and the page loading ahead: about 8 screens of
        # 3-line messages, whatever the chat's length.
        per_screen = pane.scrollable_content_region.height / 3
        screens = 1 + 2 * message_pane.KEEP_SCREENS + 2 * message_pane.AHEAD_SCREENS
        assert most <= screens * per_screen + message_pane.MESSAGE_PAGE, most
        assert most < 400


async def test_a_reply_keeps_streaming_while_the_user_reads_far_above_and_the_view_stays(
    make_app, ui_container, fake_provider, monkeypatch
):
    monkeypatch.setenv("FAKE_KEY", "sk-ui-window-000000000")
    model = add_served_model(ui_container, fake_provider, "openai")
    chat = add_chat(ui_container, model.id, 300, content=lambda i: f"message number {i}")
    reply = slow_reply(fake_provider, "far", count=120, rate=10)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.main_screen
        screen.open_chat(chat)
        await settle_pane(pilot)
        pane = screen.pane
        await pilot.press(*"go on", "enter")
        await wait_for_text(pilot, lambda: "far3" in screen_text(app))

        pane.focus()
        await pilot.press("home")
        await settle_pane(pilot)
        place, scroll = top_place(pane), pane.scroll_y
        assert "message number 0" in screen_text(app)

        def stored_reply():
            return ui_container.messages.list_messages(chat.id, limit=1).messages[-1]

        saved = stored_reply().content
        await wait_for_text(pilot, lambda: len(stored_reply().content) > len(saved) + 10)
        # It streams on (saved as it goes); the view the user reads did not move.
        assert (top_place(pane), pane.scroll_y) == (place, scroll)
        assert "message number 0" in screen_text(app)

        await pilot.press("end")
        await settle_pane(pilot)
        # Back at the end, the reply shows all it has so far and keeps growing there.
        await wait_for_text(pilot, lambda: stored_reply().status == "complete", timeout_s=40)
        await settle_pane(pilot)
        assert pane.views[-1].message.id == stored_reply().id
        assert pane.views[-1].shown_source == reply
        assert "far119" in screen_text(app)


async def test_pageup_and_pagedown_page_the_messages_from_the_prompt_box(
    make_app, ui_container, a_model
):
    chat = add_chat(ui_container, a_model.id, 200, content=lambda i: f"message number {i}")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.main_screen
        screen.open_chat(chat)
        await settle_pane(pilot)
        pane = screen.pane
        assert screen.prompt.has_focus and pane.is_vertical_scroll_end
        await pilot.press(*"half a prompt")
        await pilot.press("pageup")
        await settle_pane(pilot)
        assert "message number 199" not in screen_text(app)
        assert "message number 190" in screen_text(app)
        await pilot.press("pagedown")
        await settle_pane(pilot)
        assert pane.is_vertical_scroll_end and "message number 199" in screen_text(app)
        assert screen.prompt.has_focus and screen.prompt.text == "half a prompt"


async def wait_for_text(pilot: Any, done: Any, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out: {done.__code__.co_firstlineno}")
        await pilot.pause(0.05)


async def test_dragging_the_scrollbar_moves_through_the_whole_chat_by_message_index(
    make_app, ui_container, a_model
):
    """The thumb is drawn by message index; dragging it from the bottom to the middle of the
    bar shows the middle of the chat (mounted there, nothing between), not the middle of
    the few pages mounted."""
    chat = add_chat(ui_container, a_model.id, 2_000, content=lambda i: f"message number {i}")
    app = make_app()
    async with app.run_test(size=(80, 40)) as pilot:
        await settle(pilot)
        app.main_screen.open_chat(chat)
        await settle_pane(pilot)
        pane = app.main_screen.pane
        bar = pane.vertical_scrollbar
        height = bar.size.height
        await pilot.mouse_down(bar, offset=(0, height - 1))  # the thumb, at the newest message
        for row in range(height - 2, height // 2 - 1, -1):
            await pilot.hover(bar, offset=(0, row))
            await pilot.pause()
        await pilot.mouse_up(bar, offset=(0, height // 2))
        await settle_pane(pilot)

        top = next(view for view in pane.views if view.virtual_region.bottom > pane.scroll_y)
        number = int(top.message.content.rsplit(" ", 1)[1])
        # Half the bar is half the chat (a row is 2,000 / height messages; the thumb's row).
        assert abs(number - 1_000) <= 2 * 2_000 / height + 8, number
        shown = screen_text(app)  # (its last line may be all that is left of it on screen)
        assert f"message number {number}" in shown or f"message number {number + 1}" in shown
        where = pane.chat_position()
        assert where is not None and abs(where[0] - number) < 2
        # Bounded: a few screens each side of the view (as the cursor walk checks), not the chat.
        assert pane.has_older and pane.has_newer and len(pane.views) < 100
