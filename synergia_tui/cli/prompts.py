"""System prompts from the command line: `synergia chats system` and `synergia prompts`."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from synergia_tui.bootstrap import Container
from synergia_tui.cli.output import print_json, print_table
from synergia_tui.core.errors import ConfigError, ValidationError
from synergia_tui.core.safe_text import one_line

MAX_STDIN_CHARS = 2_000_000
PREVIEW = 60


def read_stdin(what: str, stdin: TextIO | None = None) -> str:
    """``what``'s text from stdin (`-`); a terminal is not read from, so nothing hangs."""
    stream = sys.stdin if stdin is None else stdin
    if stream is None or stream.isatty():
        raise ConfigError(f"{what}: - reads the text from stdin; pipe it in")
    text = stream.read(MAX_STDIN_CHARS + 1)
    if len(text) > MAX_STDIN_CHARS:
        raise ValidationError(f"{what}: the text on stdin is over {MAX_STDIN_CHARS:,} characters")
    return text


def _preview(text: str) -> str:
    first = one_line(" ".join(text.split()))
    return first if len(first) <= PREVIEW else first[: PREVIEW - 1] + "…"


def chat_system(args: argparse.Namespace, container: Container) -> int:
    """`synergia chats system ID [TEXT|-|--preset NAME|--clear]`."""
    chat = container.chats.find_chat_by_prefix(args.chat_id)
    if args.text is None and args.preset is None and not args.clear:
        shown = chat.system_prompt
        if shown is None:
            print("synergia: this chat has no system prompt", file=sys.stderr)
        else:
            sys.stdout.write(shown if shown.endswith("\n") else shown + "\n")
        return 0
    how = ""
    text: str | None
    if args.clear:
        text = None
    elif args.preset is not None:
        text = container.presets.get_preset(args.preset).text
        how = f" from preset {one_line(args.preset)}"
    else:
        text = read_stdin("chats system") if args.text == "-" else args.text
        if not text.strip():
            raise ValidationError("System prompt is empty: give some text, or --clear it")
    changed = container.chats.set_system_prompt(chat.id, text)
    if text is None:
        print(f"cleared the system prompt of {one_line(changed.title)}")
    else:
        print(f"set the system prompt of {one_line(changed.title)}{how} ({len(text):,} characters)")
    return 0


def cmd_prompts(args: argparse.Namespace, container: Container) -> int:
    """`synergia prompts [list|show NAME|set NAME [TEXT|-]|rm NAME] [--json]`."""
    presets = container.presets
    sub = args.prompts_command or "list"
    if sub == "list":
        default = presets.default_name
        listed = presets.list_presets()
        if args.json:
            print_json(
                [
                    {
                        "name": p.name,
                        "text": p.text,
                        "is_default": p.name == default,
                        "updated_at": p.updated_at,
                    }
                    for p in listed
                ]
            )
        else:
            print_table(
                ("NAME", "DEFAULT", "TEXT"),
                [(p.name, "yes" if p.name == default else "", _preview(p.text)) for p in listed],
            )
    elif sub == "show":
        text = presets.get_preset(args.name).text
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    elif sub == "set":
        text = read_stdin("prompts set") if args.text == "-" else args.text
        saved = presets.save_preset(args.name, text)
        print(f"saved preset {one_line(saved.name)} ({len(saved.text):,} characters)")
    elif sub == "rm":
        presets.delete_preset(args.name)
        print(f"removed preset {one_line(args.name)}")
    return 0
