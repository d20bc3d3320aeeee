"""Hostile text stays text; a database that goes away and comes back; hang-up."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

from sqlalchemy import text

from synergia_tui.ui.widgets.status_bar import StatusBar
from tests.ui.conftest import notifications, screen_text, settle

HOSTILE = (
    "A\x1b]52;c;cHduZWQ=\x07B\x1b]8;;http://evil\x1b\\C\x1b]0;title\x07D\x1b[2JE\x9b31mF"
    "[bold red]G[/][@click=app.quit]H[/]"
)


def _assert_neutralised(shown: str) -> None:
    assert "\x1b" not in shown and "\x9b" not in shown and "\x07" not in shown
    assert "␛" in shown
    assert "[bold red]G[/]" in shown or "[bold red]" in shown


# The "H" that the hostile [@click=app.quit] markup wraps, drawn literally or (if the markup
# were obeyed) straight after the "G".
_LINKED_H = re.compile(r"G(?:\[/\])?(?:\[@click=app\.quit\])?(H)")
MAX_CLICKS = 20


def _click_actions(app) -> list[str]:
    """Every click action attached to a cell on screen."""
    return [
        str(segment.style.meta["@click"])
        for strip in app.screen._compositor.render_strips()
        for segment in strip
        if segment.style is not None and "@click" in segment.style.meta
    ]


async def _click_every_hostile_link(pilot, app) -> set[tuple[int, int]]:
    """Click each place the linked "H" is drawn; the screen is re-read after every click
    (a click can dismiss a toast and move things)."""
    clicked: set[tuple[int, int]] = set()
    for _ in range(MAX_CLICKS):
        if not app.is_running:
            break
        spots = [
            (match.start(1), y)
            for y, line in enumerate(screen_text(app).splitlines())
            for match in _LINKED_H.finditer(line)
            if (match.start(1), y) not in clicked
        ]
        if not spots:
            break
        clicked.add(spots[0])
        await pilot.click(offset=spots[0])
        await settle(pilot)
    else:
        raise AssertionError(f"still finding places to click after {MAX_CLICKS} clicks")
    return clicked


async def test_hostile_strings_are_shown_as_text_everywhere(make_app, ui_container, a_model):
    chat = ui_container.chats.create_chat(title="placeholder", model_id=a_model.id)
    ui_container.messages.add_user_message(chat.id, "x")
    with ui_container.db.unit_of_work(
        write=True
    ) as uow:  # services refuse such titles; a DB may not
        uow.session.execute(text("UPDATE chats SET title = :t"), {"t": HOSTILE})
        uow.session.execute(text("UPDATE models SET name = :t"), {"t": HOSTILE})
        uow.session.execute(text("UPDATE messages SET content = :t"), {"t": HOSTILE})
        uow.commit()
    chat = ui_container.chats.get_chat(chat.id)
    app = make_app()
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot)
        app.main_screen.open_chat(chat)
        await settle(pilot)
        app.notify(f"Deleted “{HOSTILE}”.")
        await settle(pilot)
        shown = screen_text(app)
        _assert_neutralised(shown)
        # Only the pane's Markdown links are clickable (they ask before opening); nothing drawn
        # carries the action the hostile markup names.
        actions = _click_actions(app)
        assert all(action.startswith("link(") for action in actions), actions
        clicked = await _click_every_hostile_link(pilot, app)
        assert len(clicked) >= 3, shown  # sidebar, pane and status bar at least
        assert app.is_running  # clicking where the [@click=app.quit] text is did nothing
        sidebar_text = str(app.main_screen.sidebar.chats[0].title)
        assert sidebar_text == HOSTILE  # stored as is, shown neutralised
        status = app.main_screen.status_bar.query_one("#status-model").content
        _assert_neutralised(str(status))
        _assert_neutralised(notifications(app)[-1])


async def test_the_database_going_away_and_coming_back(make_app, ui_container, a_model, tmp_path):
    db_dir = tmp_path / "ui"
    gone = tmp_path / "ui-gone"
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        bar = app.main_screen.query_one(StatusBar)
        assert not bar.has_class("-db-down")

        db_dir.rename(gone)
        ui_container.db.engine.dispose()  # drop pooled connections, as a server restart would
        app.main_screen.check_health()
        await settle(pilot)
        assert bar.has_class("-db-down")
        assert "unreachable" in screen_text(app)
        assert any("unreachable" in n for n in notifications(app))

        await pilot.press("ctrl+n")  # needs the database: a notification, no crash
        await settle(pilot)
        assert any("Database unavailable" in n for n in notifications(app))
        assert app.is_running

        gone.rename(db_dir)
        app.main_screen.check_health()
        await settle(pilot)
        assert not bar.has_class("-db-down")
        assert any("back" in n for n in notifications(app))
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert len(ui_container.chats.list_chats().chats) == 1


async def test_sighup_exits_the_app_promptly(make_app):
    # In this process a hang-up must end the app, not pytest (the e2e tests cover the real exit).
    app = make_app(terminate=lambda code: app.exit(code, return_code=code))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(50):
            await pilot.pause(0.02)
            if not app.is_running:
                break
    assert app.hung_up
    assert app.return_code == 129


def test_the_app_module_does_not_import_the_database_stack():
    code = (
        "import sys, synergia_tui.ui.app; "
        "print(','.join(m for m in ('sqlmodel', 'alembic', 'synergia_tui.bootstrap', "
        "'synergia_tui.models') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
