"""Copying text to the user's clipboard, and saying honestly how it was sent."""

from __future__ import annotations

import os

from textual.app import App


def copy_text(app: App[object], text: str, what: str) -> None:
    """Copy through OSC 52 (reaches the user's own machine over SSH) and tell the user how."""
    app.copy_to_clipboard(text)
    route = "your terminal's clipboard escape (OSC 52)"
    hints = []
    if os.environ.get("TMUX"):
        hints.append("tmux passes it on only with `set -g set-clipboard on`")
    if os.environ.get("SSH_TTY") or os.environ.get("SSH_CONNECTION"):
        route += ", over SSH to your local terminal"
    hints.append("terminals without OSC 52 support ignore it")
    app.notify(
        f"Sent {what} ({len(text):,} characters) through {route}. " + "; ".join(hints) + ".",
        title="Copied",
        markup=False,
    )
