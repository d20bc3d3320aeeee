"""What each `synergia` subcommand does. Output is plain text or stable JSON."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from synergia_tui.bootstrap import Container, build
from synergia_tui.cli.output import (
    error,
    neutralized_output,
    print_json,
    print_table,
    raw_stdout,
)
from synergia_tui.core import migrations
from synergia_tui.core.config import Settings, load_settings
from synergia_tui.core.db import require_writable
from synergia_tui.core.errors import ConfigError, NotFoundError, SynergiaError
from synergia_tui.core.logging import configure_logging
from synergia_tui.core.process import exit_now_if_threads_busy
from synergia_tui.core.safe_text import one_line
from synergia_tui.models import AIModelCreate, AIModelRead, AIModelUpdate, ChatRead

MODEL_COLUMNS = (
    "id",
    "name",
    "provider",
    "api_model",
    "base_url",
    "api_key_env",
    "price_per_million_tokens",
    "output_price_per_million_tokens",
    "context_window",
    "max_output_tokens",
    "is_enabled",
    "is_deleted",
    "created_at",
    "updated_at",
)
CHAT_COLUMNS = (
    "id",
    "user_id",
    "title",
    "model_id",
    "model_name",
    "system_prompt",
    "is_deleted",
    "created_at",
    "updated_at",
)

TRASH_COMMANDS = {"rename", "rm", "trash", "restore", "purge"}  # in cli/trash.py


def run(args: argparse.Namespace) -> int:
    """Run one subcommand; typed errors become a one-line message and their exit code."""
    with neutralized_output():
        code = _run(args)
    if args.command == "ask":
        # A save stuck on a database that went away must not hold the exit: the reply is in
        # the journal by now.
        exit_now_if_threads_busy(code)
    return code


def _run(args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
        try:
            configure_logging(settings.log_level, settings.secrets())
        except OSError as exc:
            raise ConfigError(f"cannot open the log file: {exc}") from None
        handler = HANDLERS[args.command]
        code = handler(args, settings)
        sys.stdout.flush()  # here, so a reader that went away is met by the handler below
        return code
    except SynergiaError as exc:
        error(exc.message)
        return exc.exit_code
    except KeyboardInterrupt:
        error("interrupted")
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _container(settings: Settings, *, check_schema: bool = True) -> Container:
    container = build(settings)
    if check_schema:
        container.ensure_schema()
    return container


# -- health --------------------------------------------------------------------------------


def cmd_health(args: argparse.Namespace, settings: Settings) -> int:
    container = _container(settings, check_schema=False)
    try:
        if settings.is_default_database:
            # The embedded database is Synergia's own: bring it to head as the app would.
            try:
                container.ensure_schema()
            except SynergiaError:
                pass  # reported below as unreachable or degraded
        report = container.health.check()
    finally:
        container.close()
    if args.json:
        print_json(asdict(report))
    else:
        db = report.database
        print(f"status:    {report.status}")
        print(f"version:   {report.version}")
        print(f"database:  {db.backend} {one_line(db.url)}")
        if db.reachable:
            print(f"reachable: yes ({db.latency_ms:.1f} ms)")
            print(f"schema:    {db.revision or '(empty)'} (code head {db.head})")
            if db.integrity is not None:
                print(f"integrity: {db.integrity}")
        else:
            print(f"reachable: no: {one_line(db.error or 'unknown reason')}")
        for problem in report.problems:
            print(f"problem:   {one_line(problem)}")
    return 0 if report.healthy else 1


# -- db ------------------------------------------------------------------------------------


TEAM_COMMANDS = {"add-user", "remove-user", "users"}


def _team(args: argparse.Namespace, container: Container) -> int:
    """``db add-user`` / ``remove-user`` / ``users``, run by whoever keeps the server."""
    from synergia_tui.services.team import TeamService

    team = TeamService(container.db)
    sub = args.db_command
    if sub == "users":
        users = team.users()
        if args.json:
            print_json([_role_row(user) for user in users])
        else:
            print_table(
                ["name", "admin", "login", "sees every chat"],
                [
                    [u.name, _yes(u.admin), _yes(u.can_login), _yes(u.sees_everything)]
                    for u in users
                ],
            )
        return 0
    if sub == "remove-user":
        role = team.remove_user(args.name)
        print(
            f"removed {one_line(role.name)}: may no longer open this database "
            "(the login role and its chats stay; `db add-user` gives them back)"
        )
        return 0
    change = team.add_user(args.name, admin=args.admin)
    user = change.user
    what = "admin" if user.admin else "member"
    if change.created:
        print(
            f"added {user.name} ({what}): a new login role; give it a password in psql with "
            f"\\password {user.name} (or let it log in by peer or certificate)"
        )
    elif change.was_member and (change.was_admin or not args.admin):
        print(f"{user.name} was already a user ({what})")
    else:
        print(f"added {user.name} ({what}): an existing login role")
    if user.sees_everything:
        print(
            f"warning: {user.name} is a superuser or bypasses row-level security: "
            "they see every user's chats",
            file=sys.stderr,
        )
    return 0


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _role_row(role: Any) -> dict[str, object]:
    return {
        "name": role.name,
        "admin": role.admin,
        "can_login": role.can_login,
        "sees_every_chat": role.sees_everything,
    }


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    url = settings.database_url
    if args.db_command in TEAM_COMMANDS:
        container = _container(settings)  # users of a database that is at the schema's head
        try:
            return _team(args, container)
        finally:
            container.close()
    container = _container(settings, check_schema=False)
    try:
        engine = container.db.engine
        sub = args.db_command
        if sub in ("upgrade", "downgrade", "reset"):
            require_writable(engine)  # one line, before anything tries to write
            state = migrations.schema_state(engine)
            if state.ahead:
                raise SynergiaError(migrations.ahead_message(state))
        if sub == "upgrade":
            migrations.upgrade(url, args.revision)
            print(f"database at {one_line(migrations.current_revision(engine) or '(empty)')}")
        elif sub == "downgrade":
            migrations.downgrade(url, args.revision)
            print(f"database at {one_line(migrations.current_revision(engine) or '(empty)')}")
        elif sub == "current":
            state = migrations.schema_state(engine)
            mark = " (head)" if state.up_to_date else f" (head is {state.head})"
            print(f"{one_line(state.current or '(empty)')}{mark}")
        elif sub == "history":
            from alembic.script import ScriptDirectory

            script = ScriptDirectory.from_config(migrations.alembic_config())
            for rev in script.walk_revisions():
                head = " (head)" if rev.is_head else ""
                print(f"{rev.revision}{head}  {rev.doc}")
        elif sub == "reset":
            if not args.yes:
                raise ConfigError("db reset deletes every chat and model; add --yes to confirm")
            migrations.downgrade(url, "base")
            migrations.upgrade(url)
            print(f"database reset to {one_line(migrations.current_revision(engine) or '(empty)')}")
    finally:
        container.close()
    return 0


# -- models --------------------------------------------------------------------------------


def _model_row(model: AIModelRead) -> dict[str, object]:
    return {column: getattr(model, column) for column in MODEL_COLUMNS}


def _model_fields(args: argparse.Namespace) -> dict[str, object]:
    fields: dict[str, object] = {}
    for option, field in (
        ("provider", "provider"),
        ("api_model", "api_model"),
        ("base_url", "base_url"),
        ("api_key_env", "api_key_env"),
        ("price", "price_per_million_tokens"),
        ("output_price", "output_price_per_million_tokens"),
        ("context_window", "context_window"),
        ("max_output_tokens", "max_output_tokens"),
    ):
        value = getattr(args, option, None)
        if value is not None:
            fields[field] = value
    return fields


def _checked_prices(fields: dict[str, object]) -> dict[str, object]:
    from synergia_tui.services.models import check_price

    for key, what in (
        ("price_per_million_tokens", "Price"),
        ("output_price_per_million_tokens", "Output price"),
    ):
        if key in fields:
            fields[key] = check_price(fields[key], what)
    return fields


def cmd_models(args: argparse.Namespace, settings: Settings) -> int:
    if args.models_command == "discover":
        from synergia_tui.cli.discover import cmd_discover

        return cmd_discover(args, settings)
    container = _container(settings)
    service = container.models
    try:
        sub = args.models_command
        if sub == "list":
            models = service.list_models()
            if args.json:
                print_json([_model_row(m) for m in models])
            else:
                print_table(
                    ("NAME", "PROVIDER", "MODEL", "IN $/M", "OUT $/M", "MAX OUT", "ENABLED"),
                    [
                        (
                            m.name,
                            m.provider,
                            m.api_model,
                            m.price_per_million_tokens,
                            m.output_price,
                            # "-": no cap of its own, the provider's default applies.
                            m.max_output_tokens if m.max_output_tokens is not None else "-",
                            "yes" if m.is_enabled else "no",
                        )
                        for m in models
                    ],
                )
        elif sub == "add":
            fields = _checked_prices(_model_fields(args))
            model = service.add_model(
                AIModelCreate(name=args.name, is_enabled=not args.disabled, **fields)  # type: ignore[arg-type]
            )
            print(f"added {one_line(model.name)} ({model.provider} {one_line(model.api_model)})")
        elif sub == "edit":
            fields = _checked_prices(_model_fields(args))
            if args.new_name is not None:
                fields["name"] = args.new_name
            if not fields:
                raise ConfigError("models edit: give at least one option to change")
            model = service.edit_model(args.name, AIModelUpdate(**fields))  # type: ignore[arg-type]
            print(f"updated {one_line(model.name)}")
        elif sub in ("enable", "disable"):
            model = service.set_enabled(args.name, sub == "enable")
            print(f"{sub}d {one_line(model.name)}")
        elif sub == "rm":
            service.delete_model(args.name)
            print(f"removed {one_line(args.name)}")
    finally:
        container.close()
    return 0


# -- chats ---------------------------------------------------------------------------------


def print_chats(chats: list[ChatRead], *, as_json: bool, when: str = "UPDATED") -> None:
    """Chats as `chats list` shows them; ``when`` heads the ``updated_at`` column."""
    if as_json:
        print_json([{c: getattr(chat, c) for c in CHAT_COLUMNS} for chat in chats])
    else:
        print_table(
            ("ID", when, "MODEL", "TITLE"),
            [
                (
                    chat.id,
                    chat.updated_at.strftime("%Y-%m-%d %H:%M"),
                    chat.model_name or "-",
                    chat.title,
                )
                for chat in chats
            ],
        )


def cmd_chats(args: argparse.Namespace, settings: Settings) -> int:
    trash = args.chats_command in TRASH_COMMANDS
    if trash:
        from synergia_tui.cli.trash import check_trash_args

        check_trash_args(args)  # before the database is opened: a refusal touches nothing
    container = _container(settings)
    try:
        if trash:
            from synergia_tui.cli.trash import cmd_trash

            return cmd_trash(args, container)
        if args.chats_command == "list":
            if args.limit < 1:
                raise ConfigError("--limit must be at least 1")
            page = container.chats.list_chats(limit=args.limit, query=args.query)
            print_chats(page.chats, as_json=args.json)
        elif args.chats_command == "system":
            from synergia_tui.cli.prompts import chat_system

            return chat_system(args, container)
        else:
            from synergia_tui.cli.export import export_json, export_markdown

            chat = container.chats.find_chat_by_prefix(args.chat_id)
            export = container.chats.export_chat(chat.id)
            if args.format == "json":
                # Valid JSON either way; without --raw no control character is left unescaped.
                text = export_json(export, escape_controls=not args.raw)
            else:
                text = export_markdown(export)
            (raw_stdout() if args.raw else sys.stdout).write(text)
    finally:
        container.close()
    return 0


def cmd_prompts(args: argparse.Namespace, settings: Settings) -> int:
    from synergia_tui.cli.prompts import cmd_prompts as prompts

    container = _container(settings)
    try:
        return prompts(args, container)
    finally:
        container.close()


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    try:
        from synergia_tui.cli.ask import cmd_ask as ask
    except ImportError:
        raise NotFoundError("`synergia ask` is not available in this build yet") from None
    return ask(args, settings)


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from synergia_tui.cli.search import cmd_search as search

    container = _container(settings)
    try:
        return search(args, container)
    finally:
        container.close()


def cmd_usage(args: argparse.Namespace, settings: Settings) -> int:
    from synergia_tui.cli.usage import cmd_usage as usage

    container = _container(settings)
    try:
        return usage(args, container)
    finally:
        container.close()


def cmd_transfer(args: argparse.Namespace, settings: Settings) -> int:
    from synergia_tui.cli.transfer import cmd_export, cmd_import

    container = _container(settings)
    try:
        return (cmd_export if args.command == "export" else cmd_import)(args, container)
    finally:
        container.close()


HANDLERS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "health": cmd_health,
    "db": cmd_db,
    "models": cmd_models,
    "chats": cmd_chats,
    "prompts": cmd_prompts,
    "search": cmd_search,
    "usage": cmd_usage,
    "ask": cmd_ask,
    "export": cmd_transfer,
    "import": cmd_transfer,
}
