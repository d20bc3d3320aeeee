"""`synergia ask`: one prompt, the reply streamed to stdout, both kept in the database."""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid

from synergia_tui.bootstrap import build
from synergia_tui.core.config import Settings
from synergia_tui.core.errors import ConfigError, NotFoundError, SynergiaError, ValidationError
from synergia_tui.core.safe_text import neutralize
from synergia_tui.models import AIModelRead
from synergia_tui.services.replies import ReplyStreamer

MAX_STDIN_BYTES = 2_000_000


def _read_prompt(args: argparse.Namespace) -> str:
    if args.prompt:
        return " ".join(args.prompt)
    if sys.stdin is None or sys.stdin.isatty():
        raise ConfigError("ask: give a PROMPT or pipe one on stdin")
    data = sys.stdin.read(MAX_STDIN_BYTES + 1)
    if len(data) > MAX_STDIN_BYTES:
        raise ValidationError(f"ask: the prompt on stdin is over {MAX_STDIN_BYTES:,} characters")
    return data


def _pick_model(
    models: list[AIModelRead], name: str | None, chat_model: uuid.UUID | None
) -> AIModelRead:
    if name:
        for model in models:
            if model.name == name:
                return model
        raise NotFoundError(f"Model '{name}' not available (see `synergia models list`)")
    if chat_model is not None:
        for model in models:
            if model.id == chat_model:
                return model
    if len(models) == 1:
        return models[0]
    if not models:
        raise NotFoundError("No enabled model: add one with `synergia models add`")
    raise ConfigError("ask: several models are enabled; choose one with --model NAME")


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    prompt = _read_prompt(args)
    container = build(settings)
    try:
        container.ensure_schema()
        container.replies.recover_interrupted()
        chat_id = None
        chat_model = None
        if args.chat:
            try:
                chat_id = uuid.UUID(args.chat.strip())
            except ValueError:
                raise ValidationError(f"{args.chat!r} is not a chat id") from None
            chat_model = container.chats.get_chat(chat_id).model_id
        model = _pick_model(container.models.list_models(enabled_only=True), args.model, chat_model)
        if not prompt.strip():
            raise ValidationError("Empty prompt: type something to send")
        if chat_id is None:
            chat_id = container.chats.create_chat(model_id=model.id).id
        container.messages.add_user_message(chat_id, prompt, model_id=model.id)
        plan = container.replies.prepare(chat_id, model_id=model.id)
        services = container.async_services()
        tty = sys.stdout.isatty()

        def write(text: str) -> None:
            sys.stdout.write(neutralize(text) if tty else text)
            sys.stdout.flush()

        try:
            final = asyncio.run(ReplyStreamer(services).stream(plan, write))
        except KeyboardInterrupt:
            # asyncio.run cancelled the stream, which stored what arrived as `cancelled`.
            sys.stdout.write("\n")
            print("synergia: cancelled; the partial reply is kept", file=sys.stderr)
            return 130
        finally:
            services.shutdown()
        if final.content and not final.content.endswith("\n"):
            sys.stdout.write("\n")
        if final.status != "complete":
            raise SynergiaError(final.error or f"the reply ended as {final.status}")
        return 0
    finally:
        container.close()
