"""Chat transcripts: JSON with every column, or readable Markdown."""

from __future__ import annotations

import json
import re

from synergia_tui.cli.output import to_jsonable
from synergia_tui.services import ChatExport

# json.dumps escapes C0 controls itself; these are the other characters core.safe_text makes
# visible (DEL, C1 controls, bidi overrides), which it would write as they are.
_UNESCAPED_CONTROLS = re.compile(r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def export_json(export: ChatExport, *, escape_controls: bool = True) -> str:
    """Every column of the chat and its messages; text stays readable (not ASCII-escaped).

    With ``escape_controls`` every control character is a ``\\uXXXX`` escape: the JSON decodes to
    exactly what is stored, and printing it cannot drive the terminal.
    """
    data = {
        "chat": export.chat.model_dump(),
        # The tree: every message with its parent, whether it is on the path the chat shows,
        # and that path's last message.
        "current_leaf": export.leaf_id,
        "messages": [m.model_dump(exclude={"sibling", "siblings"}) for m in export.messages],
    }
    text = json.dumps(to_jsonable(data), indent=2, ensure_ascii=False) + "\n"
    return escape_json_controls(text) if escape_controls else text


def escape_json_controls(text: str) -> str:
    """JSON ``text`` with every control character left by ``json.dumps`` as a ``\\uXXXX``
    escape (they can only occur inside JSON strings, where the escape means the same)."""
    return _UNESCAPED_CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


_BREAK = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def _escape_breaks(content: str) -> str:
    """``content`` with each thematic break outside code fences escaped (``\\---`` reads
    the same), so that in the export a break always marks where a message starts."""
    fence: str | None = None
    lines = []
    for line in content.split("\n"):
        opened = _FENCE.match(line)
        if fence is None and opened:
            fence = opened.group(1)
        elif fence is not None and opened and opened.group(1).startswith(fence):
            fence = None
        elif fence is None and _BREAK.match(line):
            line = "\\" + line.lstrip()
        lines.append(line)
    return "\n".join(lines)


def export_markdown(export: ChatExport) -> str:
    """The chat's current path as Markdown. Each message starts with a thematic break and a
    bold header line; breaks inside messages are escaped, and headings in a reply stay its own
    (the chat's title is the only level-1 heading)."""
    chat = export.chat
    lines = [
        f"# {chat.title}",
        "",
        f"- chat: `{chat.id}`",
        f"- created: {chat.created_at.isoformat()}",
    ]
    if chat.system_prompt:
        lines += ["", "> **system:** " + chat.system_prompt.replace("\n", "\n> ")]
    for message in export.path:
        who = f"**{message.role}**"
        if message.role == "assistant" and message.model_name:
            who += f" ({message.model_name})"
        header = f"{who} · {message.created_at.strftime('%Y-%m-%d %H:%M:%S')} UTC"
        if message.siblings > 1:
            header += f" · version {message.sibling} of {message.siblings}"
        lines += ["", "---", "", header]
        if message.status != "complete":
            note = f"*[{message.status}]*" + (f" {message.error}" if message.error else "")
            lines += ["", note]
        lines += ["", _escape_breaks(message.content)]
    return "\n".join(lines) + "\n"
