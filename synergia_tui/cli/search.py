"""`synergia search QUERY`: the user's messages and chat titles that match, best first."""

from __future__ import annotations

import argparse

from synergia_tui.bootstrap import Container
from synergia_tui.cli.output import print_json, print_table
from synergia_tui.models.search import MARK_END, MARK_START, SearchHit

FIELDS = ("chat_id", "message_id", "role", "created_at", "chat_title", "snippet")


def marked(snippet: str) -> str:
    """The snippet with each match between « and » (its markers are control characters)."""
    return snippet.replace(MARK_START, "«").replace(MARK_END, "»")


def _row(hit: SearchHit) -> dict[str, object]:
    return {**{f: getattr(hit, f) for f in FIELDS}, "snippet": marked(hit.snippet)}


def cmd_search(args: argparse.Namespace, container: Container) -> int:
    chat_id = container.chats.find_chat_by_prefix(args.chat).id if args.chat else None
    hits = container.search.search(" ".join(args.query), chat_id=chat_id, limit=args.limit)
    if args.json:
        print_json([_row(hit) for hit in hits])
        return 0
    print_table(
        ("CHAT", "MESSAGE", "ROLE", "TIME", "SNIPPET"),
        [
            (
                str(hit.chat_id)[:8],
                str(hit.message_id)[:8] if hit.message_id else "-",
                hit.role or "title",
                hit.created_at.strftime("%Y-%m-%d %H:%M"),
                marked(hit.snippet),
            )
            for hit in hits
        ],
    )
    return 0
