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
        "messages": [m.model_dump() for m in export.messages],
    }
    text = json.dumps(to_jsonable(data), indent=2, ensure_ascii=False) + "\n"
    if escape_controls:
        # These characters can only occur inside JSON strings, where \\uXXXX means the same.
        text = _UNESCAPED_CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text


def export_markdown(export: ChatExport) -> str:
    chat = export.chat
    lines = [
        f"# {chat.title}",
        "",
        f"- chat: `{chat.id}`",
        f"- created: {chat.created_at.isoformat()}",
    ]
    if chat.system_prompt:
        lines += ["", "> **system:** " + chat.system_prompt.replace("\n", "\n> ")]
    for message in export.messages:
        who = message.role
        if message.role == "assistant" and message.model_name:
            who = f"assistant ({message.model_name})"
        lines += ["", f"## {who} · {message.created_at.strftime('%Y-%m-%d %H:%M:%S')} UTC"]
        if message.status != "complete":
            note = f"*[{message.status}]*" + (f" {message.error}" if message.error else "")
            lines.append(note)
        lines += ["", message.content]
    return "\n".join(lines) + "\n"
