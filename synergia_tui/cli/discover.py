"""`synergia models discover`: the models a server offers, and adding the chosen ones."""

from __future__ import annotations

import argparse
import asyncio

from synergia_tui.bootstrap import build
from synergia_tui.cli.output import print_json, print_table
from synergia_tui.core.config import Settings
from synergia_tui.core.errors import ConflictError, ValidationError
from synergia_tui.core.safe_text import one_line
from synergia_tui.models import PROVIDER_NAMES, AIModelCreate
from synergia_tui.providers.base import DiscoveredModel, ProviderTarget, create_provider


async def discover(target: ProviderTarget) -> list[DiscoveredModel]:
    provider = create_provider(target, timeout=10.0)
    try:
        return await provider.list_models()
    finally:
        await provider.aclose()


def cmd_discover(args: argparse.Namespace, settings: Settings) -> int:
    provider = args.provider.strip().lower()
    if provider not in PROVIDER_NAMES:
        raise ValidationError(
            f"Unknown provider {args.provider!r} (use {', '.join(PROVIDER_NAMES)})"
        )
    target = ProviderTarget(provider, "", args.base_url, args.api_key_env)
    found = asyncio.run(discover(target))
    if args.add is None:
        if args.json:
            print_json(
                [
                    {"api_model": m.api_model, "provider": m.provider, "base_url": m.base_url}
                    for m in found
                ]
            )
        else:
            print_table(("MODEL", "PROVIDER"), [(m.api_model, m.provider) for m in found])
        return 0
    wanted = set(args.add) or {m.api_model for m in found}
    offered = {m.api_model for m in found}
    missing = wanted - offered
    if missing:
        raise ValidationError(f"Not offered by the server: {', '.join(sorted(missing))}")
    container = build(settings)
    try:
        container.ensure_schema()
        for model in found:
            if model.api_model not in wanted:
                continue
            try:
                container.models.add_model(
                    AIModelCreate(
                        name=model.api_model,
                        provider=provider,
                        api_model=model.api_model,
                        base_url=args.base_url,
                        api_key_env=args.api_key_env,
                    )
                )
                print(f"added {one_line(model.api_model)}")
            except ConflictError as exc:
                print(f"skipped {one_line(model.api_model)}: {exc}")
    finally:
        container.close()
    return 0
