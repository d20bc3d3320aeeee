"""Argument parsing; imports nothing heavy so `synergia --version` stays instant."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import NoReturn

from synergia_tui import __version__


class UsageError(Exception):
    """Bad command-line arguments (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _model_options(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument("--provider", required=required, help="openai, anthropic or ollama")
    parser.add_argument(
        "--model", dest="api_model", required=required, help="the provider's model id"
    )
    parser.add_argument("--base-url", help="server URL for OpenAI-compatible servers")
    parser.add_argument("--api-key-env", help="NAME of the environment variable with the API key")
    parser.add_argument("--price", help="input price per million tokens")
    parser.add_argument("--output-price", help="output price per million tokens (default: --price)")
    parser.add_argument("--context-window", type=int, help="context window in tokens")
    parser.add_argument(
        "--max-output-tokens",
        type=int,
        metavar="N",
        help="longest answer, in tokens (default: the provider's; 16384 for anthropic)",
    )


def _trash_commands(chats_cmd: argparse._SubParsersAction[_Parser]) -> None:
    chat_id = "the chat's id, or a unique prefix of it"
    rename = chats_cmd.add_parser("rename", help="give a chat a new title")
    rename.add_argument("chat_id", help=chat_id)
    rename.add_argument("title")
    chats_cmd.add_parser("rm", help="move a chat to the trash").add_argument(
        "chat_id", help=chat_id
    )
    trash = chats_cmd.add_parser("trash", help="list deleted chats, most recently deleted first")
    trash.add_argument("--json", action="store_true")
    trash.add_argument("--limit", type=int, default=50)
    chats_cmd.add_parser("restore", help="take a chat out of the trash").add_argument(
        "chat_id", help=chat_id
    )
    purge = chats_cmd.add_parser(
        "purge", help="delete chats in the trash for good (without ID or --older-than: all)"
    )
    which = purge.add_mutually_exclusive_group()
    which.add_argument("chat_id", nargs="?", help=f"only this chat in the trash: {chat_id}")
    which.add_argument(
        "--older-than", type=int, metavar="DAYS", help="only chats deleted more than DAYS ago"
    )
    purge.add_argument("--yes", action="store_true", help="confirm that they are deleted for good")


def _transfer_commands(commands: argparse._SubParsersAction[_Parser]) -> None:
    export = commands.add_parser("export", help="write chats (default: all of yours) to one file")
    export.add_argument(
        "--chat", action="append", metavar="ID", help="only this chat (id or unique prefix; repeat)"
    )
    export.add_argument("--format", choices=("json", "md"), default="json")
    export.add_argument("-o", "--output", metavar="PATH", help="write here (default: stdout)")
    imp = commands.add_parser("import", help="add the chats of an export file (- reads stdin)")
    imp.add_argument("path", metavar="PATH")
    imp.add_argument(
        "--format", choices=("synergia", "chatgpt"), help="the file's kind (default: detected)"
    )


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="synergia", description="Chat with AI models from the terminal.")
    parser.add_argument("--version", action="version", version=f"synergia {__version__}")
    parser.add_argument(
        "--chat",
        dest="open_chat",
        metavar="ID",
        help="open the TUI on this chat (its id, or a unique prefix of it)",
    )
    parser.add_argument(
        "--message",
        dest="open_message",
        metavar="ID",
        help="with --chat: open it at this message (id or unique prefix; default: the newest)",
    )
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)

    health = commands.add_parser("health", help="check the database; exit 0 healthy, 1 not")
    health.add_argument("--json", action="store_true", help="machine-readable output")

    db = commands.add_parser("db", help="database migrations and users")
    db_cmd = db.add_subparsers(dest="db_command", required=True, parser_class=_Parser)
    db_cmd.add_parser("upgrade", help="migrate to the newest schema").add_argument(
        "revision", nargs="?", default="head"
    )
    db_cmd.add_parser("downgrade", help="migrate down to REV").add_argument("revision")
    db_cmd.add_parser("current", help="show the schema revision")
    db_cmd.add_parser("history", help="list the migrations")
    reset = db_cmd.add_parser("reset", help="drop everything and migrate from scratch")
    reset.add_argument("--yes", action="store_true", help="confirm that all data is deleted")
    add_user = db_cmd.add_parser(
        "add-user", help="PostgreSQL: make a login role a user of this database"
    )
    add_user.add_argument("name", help="the role (created when the server has none)")
    add_user.add_argument(
        "--admin", action="store_true", help="may also change the model catalogue"
    )
    db_cmd.add_parser(
        "remove-user", help="PostgreSQL: a user no longer opens this database"
    ).add_argument("name")
    users = db_cmd.add_parser("users", help="PostgreSQL: list the users of this database")
    users.add_argument("--json", action="store_true", help="machine-readable output")

    models = commands.add_parser("models", help="the model catalogue")
    models_cmd = models.add_subparsers(dest="models_command", required=True, parser_class=_Parser)
    listing = models_cmd.add_parser("list", help="list models")
    listing.add_argument("--json", action="store_true")
    add = models_cmd.add_parser("add", help="add a model")
    add.add_argument("name")
    _model_options(add, required=True)
    add.add_argument("--disabled", action="store_true", help="add it disabled")
    edit = models_cmd.add_parser("edit", help="change a model")
    edit.add_argument("name")
    edit.add_argument("--name", dest="new_name", help="rename the model")
    _model_options(edit, required=False)
    for verb in ("enable", "disable", "rm"):
        models_cmd.add_parser(verb, help=f"{verb} a model").add_argument("name")
    discover = models_cmd.add_parser("discover", help="list the models a server offers")
    discover.add_argument("--provider", required=True)
    discover.add_argument("--base-url")
    discover.add_argument("--api-key-env")
    discover.add_argument("--add", nargs="*", metavar="MODEL", help="add these discovered models")
    discover.add_argument("--json", action="store_true")

    chats = commands.add_parser("chats", help="your chats")
    chats_cmd = chats.add_subparsers(dest="chats_command", required=True, parser_class=_Parser)
    chats_list = chats_cmd.add_parser("list", help="list chats, most recent first")
    chats_list.add_argument("--json", action="store_true")
    chats_list.add_argument("--limit", type=int, default=50)
    chats_list.add_argument("--query", help="only chats whose title contains this")
    export = chats_cmd.add_parser("export", help="write a chat with all its messages")
    export.add_argument("chat_id", help="the chat's id, or a unique prefix of it")
    export.add_argument("--format", choices=("md", "json"), default="md")
    export.add_argument(
        "--raw",
        action="store_true",
        help="write the stored text as it is, control characters included (for piping code)",
    )

    system = chats_cmd.add_parser(
        "system", help="show a chat's system prompt, or set it (TEXT, --preset) or --clear it"
    )
    system.add_argument("chat_id", help="the chat's id, or a unique prefix of it")
    system_how = system.add_mutually_exclusive_group()
    system_how.add_argument(
        "text", nargs="?", metavar="TEXT", help="the new system prompt; - reads it from stdin"
    )
    system_how.add_argument("--preset", metavar="NAME", help="take the text of this preset")
    system_how.add_argument("--clear", action="store_true", help="remove the system prompt")

    _trash_commands(chats_cmd)
    _transfer_commands(commands)

    prompts = commands.add_parser(
        "prompts", help="system-prompt presets (without a command: list them)"
    )
    prompts.add_argument("--json", action="store_true", help="machine-readable output")
    prompts_cmd = prompts.add_subparsers(dest="prompts_command", parser_class=_Parser)
    prompts_cmd.add_parser("list", help="list the presets").add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS
    )
    prompts_cmd.add_parser("show", help="print a preset's text").add_argument("name")
    preset_set = prompts_cmd.add_parser("set", help="add a preset, or replace its text")
    preset_set.add_argument("name")
    preset_set.add_argument(
        "text", nargs="?", default="-", help="the preset's text (default, or -: read stdin)"
    )
    prompts_cmd.add_parser("rm", help="remove a preset").add_argument("name")

    search = commands.add_parser(
        "search", help='find messages and chat titles: words ANDed, "a phrase", prefix*'
    )
    search.add_argument("query", nargs="+", metavar="QUERY")
    search.add_argument("--json", action="store_true", help="machine-readable output")
    search.add_argument("--limit", type=int, default=20, help="at most this many hits (1-200)")
    search.add_argument("--chat", help="only in this chat (its id, or a unique prefix of it)")

    usage = commands.add_parser("usage", help="what your messages cost, by day, model or chat")
    usage.add_argument("--by", choices=("day", "model", "chat"), default="day")
    usage.add_argument("--since", type=_iso_date, metavar="DATE", help="from this UTC day on")
    usage.add_argument("--until", type=_iso_date, metavar="DATE", help="up to this day, included")
    usage.add_argument("--json", action="store_true", help="machine-readable output")

    ask = commands.add_parser("ask", help="stream a reply to stdout")
    ask.add_argument(
        "--model", help="model name (default: the chat's, the last used, or the only enabled one)"
    )
    ask.add_argument("--chat", help="continue this chat (its id, or a unique prefix of it)")
    ask_system = ask.add_mutually_exclusive_group()
    ask_system.add_argument(
        "--system",
        metavar="TEXT",
        help="system prompt: of the new chat, or (with --chat) the chat's from now on",
    )
    ask_system.add_argument(
        "--preset", metavar="NAME", help="as --system, with the text of this preset"
    )
    ask.add_argument(
        "--raw", action="store_true", help="pass the model's bytes through (for piping code)"
    )
    ask.add_argument("prompt", nargs="*", help="the prompt (piped stdin is added after it)")
    return parser


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "ask" and args.system == "-":
        parser.error("ask: --system - would read stdin, which is the prompt's; give the text")
    if args.open_message is not None and args.open_chat is None:
        parser.error("--message needs --chat: the chat it is in")
    if args.open_chat is not None:
        if args.command is not None:
            parser.error("--chat and --message open the TUI; give them without a command")
        from synergia_tui.core.errors import ValidationError
        from synergia_tui.core.ids import id_prefix

        try:  # a malformed id is refused before the TUI takes the terminal
            id_prefix(args.open_chat, "chat")
            if args.open_message is not None:
                id_prefix(args.open_message, "message")
        except ValidationError as err:
            parser.error(str(err))
    return args
