"""`synergia ask`: one prompt, the reply streamed to stdout, both kept in the database.

The prompt is the arguments, then (when stdin is piped) the piped text after a blank line. The
reply is written durably as it streams (see ``services.streaming``): a database that fails
mid-reply does not stop the output, and what could not be stored when ``ask`` ends is kept in
the journal for the next start. SIGINT, SIGTERM and SIGHUP stop the reply and keep what arrived,
as ``cancelled``.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import uuid
from collections.abc import Callable
from typing import TextIO

from synergia_tui.bootstrap import Container, build
from synergia_tui.cli.output import raw_stdout
from synergia_tui.core.config import Settings
from synergia_tui.core.errors import (
    ConfigError,
    NotFoundError,
    StorageError,
    SynergiaError,
    ValidationError,
)
from synergia_tui.core.safe_text import neutralize, one_line
from synergia_tui.models import AIModelRead
from synergia_tui.services.replies import ReplyPlan
from synergia_tui.services.streaming import ReplyStreamer, StorageChanged
from synergia_tui.services.validation import scrub_reply

MAX_STDIN_BYTES = 2_000_000
FINAL_SAVE_S = 10.0
"""How long ``ask`` waits for a database that is away before leaving the reply to the journal."""
SIGNAL_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGHUP: 129}


def read_prompt(words: list[str], stdin: TextIO | None = None) -> str:
    """The arguments, then the piped text (when stdin is not a terminal)."""
    stream = sys.stdin if stdin is None else stdin
    parts = [" ".join(words)] if words else []
    if stream is not None and not stream.isatty():
        data = stream.read(MAX_STDIN_BYTES + 1)
        if len(data) > MAX_STDIN_BYTES:
            raise ValidationError(f"ask: the text on stdin is over {MAX_STDIN_BYTES:,} characters")
        if data.strip():
            parts.append(data)
    if not parts:
        raise ConfigError("ask: give a PROMPT or pipe one on stdin")
    return "\n\n".join(parts)


def pick_model(
    models: list[AIModelRead],
    name: str | None,
    chat_model: uuid.UUID | None,
    last_used: uuid.UUID | None,
) -> tuple[AIModelRead, str]:
    """The model to ask, and why it was chosen: named, the chat's, the last used, the only."""
    if name:
        for model in models:
            if model.name == name:
                return model, "named"
        raise NotFoundError(f"Model '{name}' not available (see `synergia models list`)")
    for wanted, why in ((chat_model, "the chat's model"), (last_used, "the last model used")):
        for model in models:
            if wanted is not None and model.id == wanted:
                return model, why
    if len(models) == 1:
        return models[0], "the only enabled model"
    if not models:
        raise NotFoundError("No enabled model: add one with `synergia models add`")
    raise ConfigError("ask: several models are enabled; choose one with --model NAME")


def _last_used_model(container: Container) -> uuid.UUID | None:
    page = container.chats.list_chats(limit=1)
    return page.chats[0].model_id if page.chats else None


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    prompt = read_prompt(args.prompt)
    raw = bool(getattr(args, "raw", False))
    container = build(settings)
    try:
        container.ensure_schema()
        container.recover()
        chat_id = None
        chat_model = None
        if args.chat:
            chat = container.chats.find_chat_by_prefix(args.chat)
            chat_id, chat_model = chat.id, chat.model_id
        model, why = pick_model(
            container.models.list_models(enabled_only=True),
            args.model,
            chat_model,
            _last_used_model(container) if chat_model is None and not args.model else None,
        )
        system = _system_prompt(args, container, new_chat=chat_id is None)
        if why != "named":
            print(f"synergia: asking {one_line(model.name)} ({why})", file=sys.stderr)
        sent = container.conversation.send(
            prompt, chat_id=chat_id, model_id=model.id, system_prompt=system
        )
        return asyncio.run(_stream(container, sent.plan, _writer(raw)))
    finally:
        container.close()


def _system_prompt(args: argparse.Namespace, container: Container, *, new_chat: bool) -> str | None:
    """What the chat's system prompt becomes (None: as it is): ``--system``, ``--preset``, or for
    a new chat the default preset (SYNERGIA_DEFAULT_PRESET). With ``--chat`` the flags replace
    that chat's prompt, as `synergia chats system` would, so its next replies get it too."""
    system: str | None = getattr(args, "system", None)
    preset: str | None = getattr(args, "preset", None)
    if system is not None:
        return system
    if preset is not None:
        return container.presets.get_preset(preset).text
    if new_chat:
        default = container.presets.default_preset()
        return default.text if default is not None else None
    return None


def _writer(raw: bool) -> Callable[[str], None]:
    # --raw bypasses the CLI's neutralizing stdout (see cli.output); otherwise the text is made
    # inert here too, so the reply is safe even when this runs outside `commands.run`.
    out = raw_stdout() if raw else sys.stdout

    def write(text: str) -> None:
        # A lone surrogate cannot be encoded: it is shown as U+FFFD, as it is stored.
        text = scrub_reply(text)
        out.write(text if raw else neutralize(text))
        out.flush()

    return write


async def _stream(container: Container, plan: ReplyPlan, write: Callable[[str], None]) -> int:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    caught: list[signal.Signals] = []

    def stop(signum: signal.Signals) -> None:
        caught.append(signum)
        if task is not None:
            task.cancel()

    for signum in SIGNAL_EXIT:
        loop.add_signal_handler(signum, stop, signum)

    def storage(change: StorageChanged) -> None:
        if change.paused:
            print(f"\nsynergia: saving paused, retrying: {change.reason}", file=sys.stderr)
        else:
            print("\nsynergia: saving resumed", file=sys.stderr)

    store = container.reply_store(on_change=storage)
    streamer = ReplyStreamer(store)
    writer = None
    try:
        writer = await streamer.stream(plan, write)
    except asyncio.CancelledError:
        if not caught:
            raise
    finally:
        for signum in SIGNAL_EXIT:
            loop.remove_signal_handler(signum)
    stored_all = await store.drain(FINAL_SAVE_S)
    final = writer.in_memory() if writer is not None else None
    text = final.content if final is not None else ""
    if (text and not text.endswith("\n")) or caught:
        sys.stdout.write("\n")
    if caught:
        print("synergia: stopped; the partial reply is kept", file=sys.stderr)
        if not stored_all:
            print(_journalled_line(), file=sys.stderr)
        return SIGNAL_EXIT[caught[0]]
    if not stored_all:
        raise StorageError(_journalled_line())
    assert final is not None
    if final.status == "cut":
        print("synergia: the reply stopped at the token limit", file=sys.stderr)
        return 0
    if final.status != "complete":
        raise SynergiaError(final.error or f"the reply ended as {final.status}")
    return 0


def _journalled_line() -> str:
    return (
        "synergia: the database is unreachable; the reply is kept in the journal and "
        "will be stored by the next synergia start"
    )
