"""`synergia usage`: what the user's messages cost, by day, model or chat."""

from __future__ import annotations

import argparse

from synergia_tui.bootstrap import Container
from synergia_tui.cli.output import print_json, print_table
from synergia_tui.services.usage import UsageRow, UsageService

FIELDS = ("key", "prompt_tokens", "completion_tokens", "reasoning_tokens", "cost")


def _json(row: UsageRow) -> dict[str, object]:
    return {
        "key": row.key,
        "prompt_tokens": row.prompt_tokens,
        "completion_tokens": row.completion_tokens,
        "reasoning_tokens": row.reasoning_tokens,
        "cost": format(row.cost.normalize(), "f") if row.cost else "0",
    }


def cmd_usage(args: argparse.Namespace, container: Container) -> int:
    service = UsageService(container.db, container.chats.user_id)
    report = service.report(by=args.by, since=args.since, until=args.until)
    if args.json:
        print_json({"rows": [_json(r) for r in report.rows], "total": _json(report.total)})
        return 0
    by_chat = args.by == "chat"
    headers = ("CHAT", "TITLE") if by_chat else (args.by.upper(),)
    rows = [
        (
            *((r.key[:8], r.title or "") if by_chat else (r.key,)),
            f"{r.prompt_tokens:,}",
            f"{r.completion_tokens:,}",
            f"{r.reasoning_tokens:,}",
            _json(r)["cost"],
        )
        for r in [*report.rows, report.total]
    ]
    if by_chat:
        rows[-1] = ("total", "", *rows[-1][2:])
    print_table((*headers, "PROMPT", "COMPLETION", "REASONING", "COST $"), rows)
    return 0
