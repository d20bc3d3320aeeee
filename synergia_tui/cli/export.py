"""Chat transcripts: JSON with every column, or readable Markdown."""

from __future__ import annotations

import json

from synergia_tui.cli.output import to_jsonable
from synergia_tui.services import ChatExport


def export_json(export: ChatExport) -> str:
    data = {
        "chat": export.chat.model_dump(),
        "messages": [m.model_dump() for m in export.messages],
    }
    return json.dumps(to_jsonable(data), indent=2, ensure_ascii=False) + "\n"


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
