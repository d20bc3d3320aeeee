"""Starts the TUI (placeholder until the terminal UI lands)."""

from __future__ import annotations

import sys


def run_tui() -> int:
    print("synergia: the terminal UI is not built yet; try `synergia --help`", file=sys.stderr)
    return 1
