"""Search in the real `synergia` command, in tmux at 80×24: ctrl+f, type, enter lands on the
message deep in a chat of 3,000 messages, with the cursor on it and the match marked."""

from __future__ import annotations

import re
import subprocess
import uuid

import pytest

from tests.e2e.test_open_at import long_chat  # noqa: F401
from tests.e2e.test_tmux import SYNERGIA, _tmux, _wait_for, env  # noqa: F401

pytestmark = [pytest.mark.e2e]


def test_searching_lands_on_the_message_with_the_match_marked(env, long_chat):  # noqa: F811
    chat_id, message_ids = long_chat
    name = f"synergia-search-{uuid.uuid4().hex[:8]}"
    flags = [item for key, value in env.items() for item in ("-e", f"{key}={value}")]
    _tmux("new-session", "-d", "-s", name, "-x", "80", "-y", "24", *flags, SYNERGIA)
    try:
        _wait_for(name, "e2e-model", 30)  # the status bar names the model: the database is up
        _tmux("send-keys", "-t", name, "C-f")
        _wait_for(name, "Search every chat")
        _tmux("send-keys", "-t", name, "-l", "number 1234")
        screen = _wait_for(name, "1 result")
        assert "Very long chat" in screen
        _tmux("send-keys", "-t", name, "Enter")
        _wait_for(name, "n: next match")
        screen = _wait_for(name, "line number 1234 of the long chat")
        assert "line number 2999 " not in screen  # at the match, not the newest message
        assert "Copy" in _wait_for(name, "Quote")  # the footer has the cursor's keys
        styled = _tmux("capture-pane", "-p", "-e", "-t", name)
        # The matched words are drawn underlined (visible without colours too).
        line = next(row for row in styled.splitlines() if "1234" in row and "long chat" in row)
        underlined = r"\x1b\[(?:[0-9]+;)*4(?:;[0-9]+)*m(?:\x1b\[[0-9;]*m)*"
        assert re.search(underlined + "number", line), repr(line)
        assert re.search(underlined + "1234", line), repr(line)
        assert not re.search(underlined + "line", line)  # only the words searched for
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
