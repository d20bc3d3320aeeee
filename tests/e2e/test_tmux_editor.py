"""f4 in the real `synergia` in tmux at 80x24: the terminal goes to $EDITOR (here a small
script), the app comes back redrawn, and the editor's text is in the prompt."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

from tests.e2e.test_tmux import SYNERGIA, _tmux, _wait_for, _wait_gone, env  # noqa: F401

EDITOR_SCRIPT = """#!/bin/sh
echo "EDITOR HAS THE TERMINAL"
# Wait (a bounded while) for the test to have seen the screen handed over.
i=0
while [ ! -e "{go}" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done
stat -c %a "$1" > "{mode}"
before=$(cat "$1")
printf 'edited: %s\\nsecond line\\n' "$before" > "$1"
"""


def test_f4_hands_the_prompt_to_the_editor_and_takes_its_text_back(
    env,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
):
    go, mode = tmp_path / "go", tmp_path / "mode"
    script = tmp_path / "fake-editor"
    script.write_text(EDITOR_SCRIPT.format(go=go, mode=mode))
    script.chmod(0o700)
    values = {**env, "VISUAL": str(script), "EDITOR": str(script)}
    flags = [item for key, value in values.items() for item in ("-e", f"{key}={value}")]
    name = f"synergia-editor-{uuid.uuid4().hex[:8]}"
    _tmux("new-session", "-d", "-s", name, "-x", "80", "-y", "24", *flags, SYNERGIA)
    try:
        screen = _wait_for(name, "sqlite ●")
        assert "f4 Editor" in screen  # the key is in the footer at 80 columns
        _tmux("send-keys", "-t", name, "-l", "draft text")
        _wait_for(name, "draft text")
        _tmux("send-keys", "-t", name, "F4")
        screen = _wait_for(name, "EDITOR HAS THE TERMINAL")
        assert "sqlite ●" not in screen and "f4 Editor" not in screen  # the app stepped aside
        go.touch()
        screen = _wait_gone(name, "EDITOR HAS THE TERMINAL")
        screen = _wait_for(name, "second line")
        # Redrawn whole: the status bar and the footer are back, with the editor's text.
        screen = _wait_for(name, "f4 Editor")
        assert "sqlite ●" in screen and "edited: draft text" in screen, screen
        assert mode.read_text().strip() == "600"  # the file the editor had was private
        # The app still takes keys: the edited prompt is sent, its two lines kept.
        _tmux("send-keys", "-t", name, "Enter")
        screen = _wait_for(name, "You → e2e-model")
        lines = screen.splitlines()
        first = next(i for i, line in enumerate(lines) if "edited: draft text" in line)
        assert "second line" in lines[first + 1], screen
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
