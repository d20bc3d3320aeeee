"""`synergia chats rename|rm|trash|restore|purge`: a chat's title, and the trash."""

from __future__ import annotations

import argparse
from datetime import timedelta

from synergia_tui.bootstrap import Container
from synergia_tui.cli.commands import print_chats
from synergia_tui.core.errors import ConfigError
from synergia_tui.core.safe_text import one_line


def check_trash_args(args: argparse.Namespace) -> None:
    """Refuse what needs no database to refuse (ConfigError: exit 2)."""
    sub = args.chats_command
    if sub == "purge" and not args.yes:
        raise ConfigError("chats purge deletes chats for good; add --yes to confirm")
    if sub == "purge" and args.older_than is not None and args.older_than < 0:
        raise ConfigError("--older-than must be 0 or more days")
    if sub == "trash" and args.limit < 1:
        raise ConfigError("--limit must be at least 1")


def cmd_trash(args: argparse.Namespace, container: Container) -> int:
    """Run one of them; the caller closes ``container``."""
    sub = args.chats_command
    chats = container.chats
    if sub == "rename":
        chat = chats.rename_chat(chats.find_chat_by_prefix(args.chat_id).id, args.title)
        print(f"renamed {chat.id} to {one_line(chat.title)}")
    elif sub == "rm":
        chat = chats.find_chat_by_prefix(args.chat_id)
        chats.delete_chat(chat.id)
        print(f"moved {chat.id} to the trash ({one_line(chat.title)})")
    elif sub == "trash":
        print_chats(chats.list_trash(limit=args.limit).chats, as_json=args.json, when="DELETED")
    elif sub == "restore":
        chat = chats.restore_chat(chats.find_in_trash_by_prefix(args.chat_id).id)
        print(f"restored {chat.id} ({one_line(chat.title)})")
    elif args.chat_id is not None:
        chat = chats.find_in_trash_by_prefix(args.chat_id)
        chats.purge_chat(chat.id)
        print(f"purged {chat.id} ({one_line(chat.title)})")
    else:
        older = timedelta(days=args.older_than) if args.older_than is not None else None
        count = chats.empty_trash(older_than=older)
        print(f"purged {count} chat{'' if count == 1 else 's'}")
    return 0
