"""``python -m benchmarks``: run the performance cases and print a table plus a JSON file."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import traceback
from pathlib import Path

from benchmarks.runner import FAIL, NOT_AVAILABLE, Options, Row, format_table, write_json

# name → module; the order is the order of the report.
CASES = {
    "startup": "benchmarks.case_startup",  # 1
    "open-chat": "benchmarks.case_open_chat",  # 2
    "history": "benchmarks.case_history",  # 3
    "streaming": "benchmarks.case_streaming",  # 4
    "memory": "benchmarks.case_memory",  # 5
    "db": "benchmarks.case_db",  # 6
    "first-token": "benchmarks.case_first_token",  # 7
    "chat-list": "benchmarks.case_chat_list",  # 8
    "reading-back": "benchmarks.case_reading",  # 9
    "message-cursor": "benchmarks.case_cursor",  # 10
    "search": "benchmarks.case_search",  # 11
    "live-sync": "benchmarks.case_sync",  # 12
}
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "latest.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Synergia's performance harness: every figure is a ratio against a baseline "
        "measured in the same run.",
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        default=os.environ.get("SYNERGIA_BENCH_POSTGRES_URL"),
        help="PostgreSQL server for the PostgreSQL cases (a throwaway database is created and "
        "dropped); default $SYNERGIA_BENCH_POSTGRES_URL; without it those cases are skipped",
    )
    parser.add_argument(
        "--only", nargs="+", choices=sorted(CASES), metavar="CASE", help="run only these cases"
    )
    parser.add_argument(
        "--quick", action="store_true", help="small data and few runs (for the smoke test)"
    )
    parser.add_argument("--repeat", type=int, help="measured runs per case (default 5, quick 2)")
    parser.add_argument("--warmup", type=int, default=1, help="discarded runs first (default 1)")
    parser.add_argument(
        "--json",
        type=Path,
        default=DEFAULT_JSON,
        help=f"where to write the results ({DEFAULT_JSON})",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a budget is not met (default: report)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    options = Options(
        quick=args.quick,
        repeat=args.repeat or (2 if args.quick else 5),
        warmup=args.warmup,
        postgres_url=args.postgres,
    )
    started = time.perf_counter()
    rows: list[Row] = []
    crashed = False
    for name in args.only or list(CASES):
        case_start = time.perf_counter()
        print(f"… {name}", file=sys.stderr, flush=True)
        try:
            module = importlib.import_module(CASES[name])
            rows.extend(module.run(options))
        except Exception as exc:
            crashed = True
            traceback.print_exc()
            rows.append(
                Row(
                    case=name, name="(crashed)", unit="", unavailable=f"{type(exc).__name__}: {exc}"
                )
            )
        print(f"  {name}: {time.perf_counter() - case_start:.1f} s", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - started
    print(format_table(rows))
    failed = [r for r in rows if r.status == FAIL]
    missing = [r for r in rows if r.status == NOT_AVAILABLE]
    print(
        f"\n{len(rows)} measures in {seconds:.0f} s: {len(failed)} over budget, "
        f"{len(missing)} not available. JSON: {args.json}"
    )
    write_json(rows, args.json, options=options, seconds=seconds)
    if crashed:
        return 1
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    sys.exit(main())
