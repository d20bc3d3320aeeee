"""`synergia export` and `synergia import`: many chats to one file and back."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from synergia_tui.bootstrap import Container
from synergia_tui.cli.export import escape_json_controls, export_markdown
from synergia_tui.cli.output import to_jsonable
from synergia_tui.core.errors import NotFoundError, ValidationError
from synergia_tui.services.archive import ArchivedChat
from synergia_tui.services.chatgpt_format import is_chatgpt_export, read_conversations
from synergia_tui.services.synergia_format import (
    document_data,
    is_synergia_document,
    read_document,
)
from synergia_tui.services.transfer import TransferService

PROGRESS_EVERY = 100
"""A progress line on stderr every this many chats, when stderr is a terminal."""


def _service(container: Container) -> TransferService:
    return TransferService(container.db, container.chats.user_id)


def cmd_export(args: argparse.Namespace, container: Container) -> int:
    ids = [container.chats.find_chat_by_prefix(ref).id for ref in args.chat] if args.chat else None
    archives = _service(container).export_chats(ids)
    if args.format == "json":
        text = json.dumps(to_jsonable(document_data(archives)), indent=2, ensure_ascii=False)
        text = escape_json_controls(text + "\n")
    else:
        text = "\n".join(export_markdown(a.export) for a in archives)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    path = Path(args.output)
    try:
        # A new file is private (chats are); an existing one keeps its mode.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
    except OSError as exc:
        raise ValidationError(f"cannot write {path}: {exc.strerror}") from None
    count = len(archives)
    print(f"exported {count} chat{'' if count == 1 else 's'} to {path}", file=sys.stderr)
    return 0


def _load(path: str) -> object:
    try:
        raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"{path}: no such file") from None
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{path}: not UTF-8 at byte {exc.start}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except RecursionError:
        raise ValidationError(f"{path}: not valid JSON: nested too deeply") from None


def _chats(data: object, fmt: str | None, path: str) -> list[ArchivedChat]:
    if fmt is None:
        if is_synergia_document(data):
            fmt = "synergia"
        elif is_chatgpt_export(data):
            fmt = "chatgpt"
        else:
            raise ValidationError(
                f"{path}: neither a Synergia export nor a ChatGPT conversations.json"
                " (give --format)"
            )
    try:
        return read_document(data) if fmt == "synergia" else read_conversations(data)
    except ValidationError as exc:
        raise ValidationError(f"{path}: {exc.message}") from None


def cmd_import(args: argparse.Namespace, container: Container) -> int:
    chats = _chats(_load(args.path), args.format, args.path)
    tty = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if tty and (done % PROGRESS_EVERY == 0 or done == total):
            print(f"imported {done}/{total} chats", file=sys.stderr, flush=True)

    report = _service(container).import_chats(chats, progress=progress)
    print(
        f"chats: {report.chats_added} added, {report.chats_present} already there; "
        f"messages: {report.messages_added} added, {report.messages_present} already there"
    )
    if report.models_added:
        names = ", ".join(report.models_added)
        print(f"models added as placeholders (disabled; see `synergia models edit`): {names}")
    return 0
