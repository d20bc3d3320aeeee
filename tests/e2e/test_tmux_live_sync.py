"""Two real `synergia` processes side by side in tmux, on one database: what one does shows in
the other by itself, a reply streaming in one included, as it is saved."""

# ruff: noqa: F811
from __future__ import annotations

import subprocess
import uuid

import pytest

from tests.e2e.test_tmux import SYNERGIA, _tmux, _wait_for, _wait_gone
from tests.e2e.test_tmux_streaming import env, send, type_text  # noqa: F401
from tests.fake_provider_server import Script, fake_provider  # noqa: F401

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def panes(env: dict[str, str]):
    """Session with two panes, left and right, each running synergia (100×40 each)."""
    name = f"synergia-sync-{uuid.uuid4().hex[:8]}"
    flags = [item for key, value in env.items() for item in ("-e", f"{key}={value}")]
    _tmux("new-session", "-d", "-s", name, "-x", "201", "-y", "40", *flags, SYNERGIA)
    _tmux("split-window", "-h", "-t", f"{name}:0", *flags, SYNERGIA)
    yield f"{name}:0.0", f"{name}:0.1"
    subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


def test_a_chat_and_a_streaming_reply_in_one_terminal_show_in_the_other(panes, fake_provider):
    left, right = panes
    for pane in panes:
        _wait_for(pane, "· live")  # both watch the database
    words = [f"tok{i}" for i in range(240)]
    fake_provider.script = Script(reply=" ".join(words), tokens_per_second=15)  # ~16 s
    type_text(left, "sync me please")
    send(left, "Enter")
    _wait_for(left, "tok3")  # streaming on the left...

    # ...and on the right, without a key: the new chat in the list.
    _wait_for(right, "sync me please")
    # Open it from the keyboard (search, then enter): the reply grows as the left saves it.
    send(right, "C-f")
    _wait_for(right, "Search every chat")
    type_text(right, "sync")
    _wait_for(right, "result")
    send(right, "Enter")
    _wait_gone(right, "Search every chat")
    _wait_for(right, "tok40", deadline_s=20)
    assert "replying" in _tmux("capture-pane", "-p", "-t", left)  # still streaming there
    # The right landed on the prompt (the search hit), so its view stays there while the reply
    # grows past the bottom; once the left is done, `end` shows the whole reply as it ended.
    _wait_gone(left, "replying", deadline_s=40)
    send(right, "End")
    screen = _wait_for(right, "tok239", deadline_s=15)
    assert "replying" not in screen
