"""ChatGPT's ``conversations.json``: its message trees become Synergia chats.

Choices, so that nothing is lost silently and a second import adds nothing:

- ids are uuid5 of the conversation's id (or, when it has none, its first node id) and each
  node's id, so the same file always gives the same chats and messages;
- a node with no message, a hidden one (``is_visually_hidden_from_conversation``) or an empty
  one is skipped, and its children hang from the nearest kept ancestor;
- system messages become the chat's system prompt (several are joined by a blank line);
- ``tool`` messages are kept as assistant messages that start with ``[tool: NAME]``;
- parts that are not text are kept as a note such as ``[image omitted: file-service://…]``;
- a message's ``model_slug`` is its model's name (see TransferService for how names resolve);
- timestamps are kept, except that a message is never earlier than its parent (Synergia orders a
  path by time), and one without a time takes its parent's or the conversation's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from synergia_tui.core.errors import ValidationError
from synergia_tui.models import DEFAULT_TITLE
from synergia_tui.services.archive import ArchivedChat, ArchivedMessage

NAMESPACE = uuid.UUID("5b1e7a52-39a4-4c1e-9d53-7f0c6c8e2a11")
"""Fixed forever: the ids of imported ChatGPT chats and messages derive from it."""
_TICK = timedelta(microseconds=1)


def is_chatgpt_export(data: object) -> bool:
    return isinstance(data, list) and all(isinstance(c, dict) and "mapping" in c for c in data)


@dataclass(frozen=True, slots=True)
class _Kept:
    role: str
    content: str
    created_at: datetime | None
    model_slug: str | None


def read_conversations(data: object) -> list[ArchivedChat]:
    """Every conversation of the export, or ValidationError naming the first problem."""
    if not isinstance(data, list):
        raise ValidationError("document: a ChatGPT export is a list of conversations")
    return [_conversation(c, n) for n, c in enumerate(data, start=1)]


def _epoch(value: object, where: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError(f"{where}: create_time is not a number")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise ValidationError(f"{where}: create_time {value} is out of range") from None


def _title(value: object) -> str:
    text = value if isinstance(value, str) else ""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return text[:500] or DEFAULT_TITLE


def _conversation(conv: object, number: int) -> ArchivedChat:
    where = f"conversation {number}"
    if not isinstance(conv, dict):
        raise ValidationError(f"{where}: expected an object")
    mapping = conv.get("mapping")
    if not isinstance(mapping, dict) or not mapping:
        raise ValidationError(f"{where}: missing mapping")
    key = conv.get("id") or conv.get("conversation_id") or min(str(k) for k in mapping)
    if not isinstance(key, str):
        raise ValidationError(f"{where}: id is not a string")
    chat_id = uuid.uuid5(NAMESPACE, f"chatgpt:{key}")
    created = _epoch(conv.get("create_time"), where)
    updated = _epoch(conv.get("update_time"), where)

    parents: dict[str, str | None] = {}
    kept: dict[str, _Kept] = {}
    system_parts: list[str] = []
    for node_id, node in mapping.items():
        at = f"{where}, node {node_id}"
        if not isinstance(node, dict):
            raise ValidationError(f"{at}: expected an object")
        parent = node.get("parent")
        if parent is not None and not isinstance(parent, str):
            raise ValidationError(f"{at}: parent is not a string")
        parents[str(node_id)] = parent if parent in mapping else None
        message = node.get("message")
        if message is None:
            continue
        item = _message(message, at)
        if item is None:
            continue
        if item.role == "system":
            system_parts.append(item.content)
        else:
            kept[str(node_id)] = item

    def kept_ancestor(node_id: str | None) -> str | None:
        seen: set[str] = set()
        while node_id is not None and node_id not in kept:
            if node_id in seen:
                raise ValidationError(f"{where}, node {node_id}: parent links form a cycle")
            seen.add(node_id)
            node_id = parents.get(node_id)
        return node_id

    current = conv.get("current_node")
    leaf = kept_ancestor(current) if isinstance(current, str) and current in mapping else None
    if leaf is None and kept:  # no usable current node: the newest message's branch
        leaf = max(kept, key=lambda n: kept[n].created_at or datetime.min.replace(tzinfo=UTC))
    path: set[str] = set()
    step: str | None = leaf
    while step is not None:
        path.add(step)
        step = kept_ancestor(parents.get(step))

    def message_id(node_id: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"chatgpt:{key}:{node_id}")

    times: dict[str, datetime] = {}

    def time_of(node_id: str) -> datetime:
        if node_id not in times:
            parent = kept_ancestor(parents.get(node_id))
            floor = time_of(parent) + _TICK if parent is not None else None
            own = kept[node_id].created_at or floor or created or datetime.now(UTC)
            times[node_id] = max(own, floor) if floor is not None else own
        return times[node_id]

    messages = []
    for node_id, item in kept.items():
        parent = kept_ancestor(parents.get(node_id))
        messages.append(
            ArchivedMessage(
                id=message_id(node_id),
                parent_id=message_id(parent) if parent is not None else None,
                on_path=node_id in path,
                role=item.role,
                content=item.content,
                created_at=time_of(node_id),
                model_name=item.model_slug,
            )
        )
    messages.sort(key=lambda m: (m.created_at, m.id))
    first = messages[0].created_at if messages else None
    last = max((m.created_at for m in messages), default=None)
    start = created or first or datetime.now(UTC)
    chat_model = next(
        (kept[n].model_slug for n in _path_order(path, times) if kept[n].model_slug), None
    )
    return ArchivedChat(
        id=chat_id,
        where=f"{where} ({key})",
        title=_title(conv.get("title")),
        created_at=start,
        updated_at=max(d for d in (updated, last, start) if d is not None),
        model_name=chat_model,
        system_prompt="\n\n".join(system_parts) or None,
        messages=messages,
    )


def _path_order(path: set[str], times: dict[str, datetime]) -> list[str]:
    """The path's nodes, newest first (the chat's model is the last one that answered)."""
    return sorted(path, key=lambda n: times[n], reverse=True)


def _message(message: object, at: str) -> _Kept | None:
    if not isinstance(message, dict):
        raise ValidationError(f"{at}: message is not an object")
    author = message.get("author")
    if not isinstance(author, dict) or not isinstance(author.get("role"), str):
        raise ValidationError(f"{at}: missing author")
    role = author["role"]
    if role not in ("system", "user", "assistant", "tool"):
        raise ValidationError(f"{at}: unknown role {role!r}")
    metadata = message.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise ValidationError(f"{at}: metadata is not an object")
    if metadata.get("is_visually_hidden_from_conversation"):
        return None
    content = message.get("content")
    if not isinstance(content, dict):
        raise ValidationError(f"{at}: missing content")
    text = _content_text(content, at).strip()
    if not text:
        return None
    if role == "tool":
        name = author.get("name")
        text = f"[tool: {name if isinstance(name, str) and name else 'unnamed'}]\n\n{text}"
        role = "assistant"
    slug = metadata.get("model_slug")
    return _Kept(
        role=role,
        content=text,
        created_at=_epoch(message.get("create_time"), at),
        model_slug=slug if isinstance(slug, str) and slug else None,
    )


def _content_text(content: dict[str, Any], at: str) -> str:
    """The readable text of a message; what is not text becomes a note saying what it was."""
    kind = content.get("content_type")
    if not isinstance(kind, str):
        raise ValidationError(f"{at}: missing content.content_type")
    pieces: list[str] = []
    parts = content.get("parts")
    if parts is not None:
        if not isinstance(parts, list):
            raise ValidationError(f"{at}: content.parts is not a list")
        pieces += [_part_text(part) for part in parts]
    if kind == "code" and isinstance(content.get("text"), str):
        language = content.get("language")
        fence = language if isinstance(language, str) and language != "unknown" else ""
        pieces.append(f"```{fence}\n{content['text']}\n```")
    elif kind == "tether_browsing_display":
        body = content.get("result") or content.get("summary") or ""
        pieces.append(f"[browsing result]\n{body}" if body else "[browsing result omitted]")
    elif kind == "tether_quote":
        source = " ".join(str(content.get(k) or "") for k in ("title", "url")).strip()
        pieces.append(f"[quote: {source}]\n{content.get('text') or ''}".rstrip())
    elif parts is None:
        body = content.get("text")
        if kind in ("text", "execution_output"):
            pieces.append(body if isinstance(body, str) else "")
        elif isinstance(body, str) and body:
            pieces.append(f"[{kind}]\n{body}")
        else:
            pieces.append(f"[{kind} omitted]")
    return "\n\n".join(p for p in pieces if p)


def _part_text(part: object) -> str:
    if isinstance(part, str):
        return part
    if isinstance(part, dict):
        kind = part.get("content_type") or "attachment"
        if kind == "image_asset_pointer":
            return f"[image omitted: {part.get('asset_pointer') or 'no reference'}]"
        if kind == "audio_transcription" and isinstance(part.get("text"), str):
            return f"[audio transcription] {part['text']}"
        name = part.get("name") or part.get("asset_pointer") or ""
        return f"[{kind} omitted{': ' + str(name) if name else ''}]"
    return f"[{type(part).__name__} part omitted]"
