"""Run one app headless in this process and print its peak RSS in KiB (used by case 5).

``python -m benchmarks.memory_probe baseline`` — the baseline app;
``python -m benchmarks.memory_probe open URL CHAT_ID`` — SynergiaApp with that chat open;
``python -m benchmarks.memory_probe stream URL CHAT_ID BASE_URL`` — then a 4,000-token reply.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path


def peak_rss_kib() -> int:
    """VmHWM: the process's peak resident set. Not ``getrusage``'s ru_maxrss, which a child
    inherits from a large parent across fork + exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


async def baseline() -> None:
    from benchmarks.baseline_app import BaselineApp
    from benchmarks.ui_driver import SIZE, after_refresh

    app = BaselineApp()
    async with app.run_test(size=SIZE):
        await after_refresh(app)


async def synergia(url: str, chat_id: str, stream_url: str | None) -> None:
    from benchmarks.databases import BENCH_USER
    from benchmarks.ui_driver import SIZE, make_app, open_chat, services_loaded
    from synergia_tui.bootstrap import build
    from synergia_tui.core.config import Settings

    container = build(Settings(synergia_database_url=url, synergia_user=BENCH_USER))
    services = container.async_services()
    try:
        chat = container.chats.get_chat(uuid.UUID(chat_id))
        newest = container.messages.list_messages(chat.id, limit=1).messages[-1].id
        app = make_app(services)
        async with app.run_test(size=SIZE) as pilot:
            await services_loaded(app)
            await open_chat(app, chat, newest)
            if stream_url:
                from benchmarks.case_streaming import LAST_TOKEN, REPLY_CAP_S, _reply_text
                from benchmarks.ui_driver import finish_or_stop_reply

                app.main_screen.prompt.focus()
                await pilot.press(*"stream please", "enter")
                done = await finish_or_stop_reply(
                    app, pilot, lambda: LAST_TOKEN in _reply_text(app), REPLY_CAP_S
                )
                if not done:
                    print(f"incomplete: reply stopped after {REPLY_CAP_S:.0f} s", file=sys.stderr)
    finally:
        services.shutdown()
        container.close()


def main(argv: list[str]) -> int:
    from benchmarks.ui_driver import UINotAvailable

    try:
        if argv[0] == "baseline":
            asyncio.run(baseline())
        else:
            asyncio.run(synergia(argv[1], argv[2], argv[3] if argv[0] == "stream" else None))
    except UINotAvailable as exc:
        print(f"not available: {exc}")
        return 3
    print(peak_rss_kib())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
