"""Writing a prompt in the user's own editor (``$VISUAL``, else ``$EDITOR``, else ``vi``).

The text goes to a private temporary file (0600, removed afterwards), the app hands the
terminal to the editor (``App.suspend``) and takes it back when the editor exits, and the
file's text comes back. The editor runs on a thread while the event loop goes on, with repaints
held back until the terminal is the app's again: a reply streaming meanwhile keeps arriving and
being saved (its lease renewed), where a blocking call would freeze it for as long as the editor
is open.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from typing import Protocol

from textual.app import SuspendNotSupported

FALLBACK_EDITOR = "vi"


class EditorFailed(Exception):
    """The editor could not be used; ``str()`` is the one line to show (the prompt is kept)."""


class Suspendable(Protocol):
    """What of the app is used: handing the terminal over, and holding repaints back."""

    def suspend(self) -> contextlib.AbstractContextManager[None]: ...

    def batch_update(self) -> contextlib.AbstractContextManager[None]: ...


def editor_command(environ: Mapping[str, str] | None = None) -> list[str]:
    """The editor to run, as a command line split like a shell would (``code --wait``)."""
    environ = os.environ if environ is None else environ
    raw = environ.get("VISUAL", "").strip() or environ.get("EDITOR", "").strip()
    try:
        words = shlex.split(raw) if raw else []
    except ValueError as err:
        raise EditorFailed(f"Cannot read the editor command {raw!r}: {err}") from None
    return words or [FALLBACK_EDITOR]


@contextlib.contextmanager
def _private_file(text: str) -> Iterator[str]:
    fd, path = tempfile.mkstemp(prefix="synergia-prompt-", suffix=".md")  # 0600, ours alone
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def _run(command: list[str]) -> int:
    return subprocess.run(command, check=False).returncode


async def edit_externally(
    app: Suspendable, text: str, *, environ: Mapping[str, str] | None = None
) -> str:
    """``text`` as the user left it in their editor. Raises ``EditorFailed`` when the editor
    cannot be started, exits with an error, or the terminal cannot be handed over (a browser
    session)."""
    command = editor_command(environ)
    name = command[0]
    with _private_file(text) as path:
        try:
            with app.batch_update(), app.suspend():
                code = await asyncio.to_thread(_run, [*command, path])
        except SuspendNotSupported:
            raise EditorFailed(
                "An editor needs the terminal, and this session has none to lend (a browser?)."
            ) from None
        except FileNotFoundError:
            raise EditorFailed(
                f"No editor {name!r} found: set $VISUAL or $EDITOR. The prompt is as it was."
            ) from None
        except OSError as err:
            raise EditorFailed(f"Could not start the editor {name!r}: {err.strerror}") from None
        if code != 0:
            raise EditorFailed(
                f"The editor {name!r} exited with code {code}: the prompt is as it was."
            )
        with open(path, encoding="utf-8", errors="replace", newline="") as file:
            edited = file.read()
    if not text.endswith("\n") and edited.endswith("\n"):
        # Editors end a file with a newline; the prompt never asked for one.
        edited = edited[:-2] if edited.endswith("\r\n") else edited[:-1]
    return edited
