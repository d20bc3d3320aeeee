"""Live sync: what another session of the same user stores shows here without a keypress.

The other session is a second set of services with connections of its own (as another host
would have), on both backends: on PostgreSQL through ``LISTEN``/``NOTIFY`` as a real member
role, on SQLite through ``PRAGMA data_version``. What it stores must show in the app on its own:
new chats, renamed and deleted ones, and in the open chat a prompt and a reply streaming in as
it is saved, then as it ended.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from synergia_tui.bootstrap import Container, build
from synergia_tui.models import AIModelCreate
from synergia_tui.ui.app import SynergiaApp
from tests.conftest import settings_for
from tests.ui.conftest import (
    TEST_VERSION,
    add_messages,
    clock_after,
    screen_text,
    settle,
    wait_until,
)

SYNC_WAIT_S = 10.0
"""Generous for a loaded CI machine; ``make bench`` measures the real delay."""


@pytest.fixture
def other_host(db_url) -> Iterator[Container]:  # type: ignore[no-untyped-def]
    """Alice's services again, with connections of their own: her session on another host."""
    built = build(settings_for(db_url))
    yield built
    built.close()


def _model(container: Container):  # type: ignore[no-untyped-def]
    return container.models.add_model(
        AIModelCreate(name="m", provider="openai", api_model="gpt-4o-mini")
    )


def _app(container: Container) -> SynergiaApp:
    return SynergiaApp(
        services=container.async_services(),
        clock=clock_after(container),
        version=TEST_VERSION,
        health_interval=None,
        live_sync=True,
    )


def _in_view(pane) -> list[str]:  # type: ignore[no-untyped-def]
    """The messages with a line in the pane's view."""
    top, bottom = pane.scroll_y, pane.scroll_y + pane.scrollable_content_region.height
    return [
        v.message.content
        for v in pane.views
        if v.virtual_region.bottom > top and v.virtual_region.y < bottom
    ]


def _titles(app: SynergiaApp) -> list[str]:
    return [chat.title for chat in app.main_screen.sidebar.chats]


async def test_another_sessions_chats_and_reply_show_here_as_they_are_saved(container, other_host):
    model = _model(container)
    kept = container.chats.create_chat(title="Kept", model_id=model.id)
    doomed = container.chats.create_chat(title="Doomed", model_id=model.id)
    app = _app(container)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.main_screen
        await wait_until(pilot, lambda: screen.status_bar.live is True, "live sync up")
        assert " · live" in screen_text(app)
        assert _titles(app) == ["Doomed", "Kept"]

        # The chat list: new, renamed and deleted chats, without a key pressed.
        elsewhere = other_host.chats.create_chat(title="From the other host", model_id=model.id)
        await wait_until(
            pilot, lambda: "From the other host" in _titles(app), "new chat", SYNC_WAIT_S
        )
        other_host.chats.rename_chat(kept.id, "Kept, renamed")
        other_host.chats.delete_chat(doomed.id)
        await wait_until(
            pilot,
            lambda: _titles(app) == ["From the other host", "Kept, renamed"],
            "renamed and deleted",
            SYNC_WAIT_S,
        )

        # The open chat: a prompt, then a reply growing as the other session saves it.
        screen.open_chat(elsewhere)
        await settle(pilot)
        other_host.messages.add_user_message(elsewhere.id, "What is live sync?")
        await wait_until(
            pilot, lambda: "What is live sync?" in screen_text(app), "the prompt", SYNC_WAIT_S
        )
        reply = other_host.messages.start_reply(elsewhere.id, model.id)
        other_host.messages.save_partial(reply.id, "Every word saved there")
        await wait_until(
            pilot,
            lambda: "Every word saved there" in screen_text(app),
            "the first words",
            SYNC_WAIT_S,
        )
        other_host.messages.save_partial(reply.id, "Every word saved there shows here")
        await wait_until(
            pilot,
            lambda: "Every word saved there shows here" in screen_text(app),
            "more words",
            SYNC_WAIT_S,
        )
        other_host.messages.finish_reply(
            reply.id, content="Every word saved there shows here, as it is saved."
        )
        await wait_until(
            pilot,
            lambda: (
                screen.pane.views[-1].message.status == "complete"
                and "as it is saved." in screen_text(app)
            ),
            "the reply ended",
            SYNC_WAIT_S,
        )
        views = screen.pane.views
        assert [v.message.role for v in views] == ["user", "assistant"]
        assert views[-1].shown_source == "Every word saved there shows here, as it is saved."
        assert not views[-1].has_class("-streaming")
        assert screen.engine.live == {}  # shown, not streamed, here


async def test_what_this_session_does_itself_shows_once(container):
    """The watcher hears this process's own writes too (SQLite's data_version counts every
    other connection): they must not show twice."""
    model = _model(container)
    chat = container.chats.create_chat(title="Mine", model_id=model.id)
    app = _app(container)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.main_screen
        await wait_until(pilot, lambda: screen.status_bar.live is True, "live sync up")
        screen.open_chat(chat)
        await settle(pilot)
        services = screen.services
        assert services is not None
        await services.messages.add_user_message(chat.id, "once")
        await screen.pane.append_message(  # as the room does after storing a prompt
            container.messages.list_messages(chat.id).messages[-1]
        )
        for _ in range(10):  # a few of the watcher's rounds
            await pilot.pause(0.1)
        await settle(pilot)
        assert [v.message.content for v in screen.pane.views] == ["once"]
        assert _titles(app) == ["Mine"]


async def test_news_from_another_session_does_not_move_a_reader_who_scrolled_up(
    container, other_host
):
    model = _model(container)
    chat = container.chats.create_chat(title="Long", model_id=model.id)
    add_messages(container, chat.id, model.id, 24)
    app = _app(container)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.main_screen
        await wait_until(pilot, lambda: screen.status_bar.live is True, "live sync up")
        screen.open_chat(container.chats.get_chat(chat.id))
        await settle(pilot)
        pane = screen.pane
        pane.focus()
        await pilot.press("pageup", "pageup")
        await settle(pilot)
        assert not pane.has_newer  # the window still holds the chat's end
        top, shown = pane.scroll_y, _in_view(pane)

        other_host.messages.add_user_message(chat.id, "News from the other host")
        await wait_until(
            pilot,
            lambda: pane.views[-1].message.content == "News from the other host",
            "the new message mounted",
            SYNC_WAIT_S,
        )
        await settle(pilot)
        assert (pane.scroll_y, _in_view(pane)) == (top, shown)  # the reader stays put
        await pilot.press("end")
        await settle(pilot)
        assert "News from the other host" in screen_text(app)


async def test_the_open_chat_deleted_in_another_session_leaves_the_screen(container, other_host):
    model = _model(container)
    chat = container.chats.create_chat(title="Going", model_id=model.id)
    container.messages.add_user_message(chat.id, "about to go")
    app = _app(container)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.main_screen
        await wait_until(pilot, lambda: screen.status_bar.live is True, "live sync up")
        screen.open_chat(container.chats.get_chat(chat.id))
        await wait_until(pilot, lambda: "about to go" in screen_text(app), "the chat open")
        other_host.chats.delete_chat(chat.id)
        await wait_until(
            pilot,
            lambda: "deleted in another session" in screen_text(app),
            "told it is gone",
            SYNC_WAIT_S,
        )
        assert screen.current_chat is None and "about to go" not in screen_text(app)
        assert _titles(app) == []
