"""The external editor: which one runs, the private file it edits, and what comes back when it
works, fails, or is missing (the prompt is never lost). Real editors (small scripts) run as
subprocesses; the app is a stand-in that records the terminal being handed over."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import pytest
from textual.app import SuspendNotSupported

from synergia_tui.ui.external_editor import EditorFailed, edit_externally, editor_command


class TerminalOwner:
    """Stands in for the app: counts suspensions, and checks repaints are held meanwhile."""

    def __init__(self, *, can_suspend: bool = True) -> None:
        self.can_suspend = can_suspend
        self.suspended = 0
        self.batched = False
        self.batched_while_suspended = False

    @contextlib.contextmanager
    def suspend(self):
        if not self.can_suspend:
            raise SuspendNotSupported("no")
        self.suspended += 1
        self.batched_while_suspended = self.batched
        yield

    @contextlib.contextmanager
    def batch_update(self):
        self.batched = True
        try:
            yield
        finally:
            self.batched = False


def editor(tmp_path: Path, body: str) -> str:
    """An editor: a shell script given the file to edit as ``$1``."""
    script = tmp_path / "editor.sh"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o700)
    return str(script)


def test_visual_wins_over_editor_and_a_command_line_is_split_like_a_shell():
    assert editor_command({"VISUAL": "code --wait", "EDITOR": "nano"}) == ["code", "--wait"]
    assert editor_command({"EDITOR": "'my editor' -n"}) == ["my editor", "-n"]
    assert editor_command({"VISUAL": "  ", "EDITOR": ""}) == ["vi"]
    with pytest.raises(EditorFailed, match="Cannot read the editor command"):
        editor_command({"EDITOR": "'unclosed"})


async def test_the_edited_text_comes_back_from_a_private_file_that_is_then_removed(tmp_path):
    seen = tmp_path / "seen"
    script = editor(
        tmp_path,
        f'stat -c %a "$1" > {seen}; cat "$1" >> {seen}; printf "line one\\nline two\\n" > "$1"; '
        f'echo "$1" > {tmp_path / "path"}',
    )
    owner = TerminalOwner()
    text = await edit_externally(owner, "the prompt so far", environ={"EDITOR": script})
    # The editor's final newline is not the prompt's.
    assert text == "line one\nline two"
    mode, before = seen.read_text().split("\n", 1)
    assert mode == "600" and before == "the prompt so far"
    assert not Path((tmp_path / "path").read_text().strip()).exists()
    assert owner.suspended == 1 and owner.batched_while_suspended


async def test_an_editor_that_fails_leaves_the_prompt_as_it_was(tmp_path):
    script = editor(tmp_path, 'echo ruined > "$1"; exit 3')
    with pytest.raises(EditorFailed, match="exited with code 3"):
        await edit_externally(TerminalOwner(), "keep", environ={"VISUAL": script})


async def test_a_missing_editor_says_how_to_choose_one(tmp_path):
    with pytest.raises(EditorFailed, match=r"set \$VISUAL or \$EDITOR"):
        await edit_externally(
            TerminalOwner(), "keep", environ={"EDITOR": str(tmp_path / "no-such-editor")}
        )


async def test_without_a_terminal_to_hand_over_nothing_runs_and_no_file_is_left(
    tmp_path, monkeypatch
):
    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    ran = tmp_path / "ran"
    script = editor(tmp_path, f"touch {ran}")
    with pytest.raises(EditorFailed, match="needs the terminal"):
        await edit_externally(TerminalOwner(can_suspend=False), "keep", environ={"EDITOR": script})
    assert not ran.exists()
    assert list(private.iterdir()) == []
