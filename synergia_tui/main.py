"""Entry point of the `synergia` command: the TUI without arguments, the CLI with them."""

# No ``from __future__ import annotations``: one module fewer for ``--version`` to load.
import sys


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if arguments in (["--version"], ["-V"]):
        # Answered before argparse is even imported: as fast as a bare interpreter.
        from synergia_tui import __version__

        print(f"synergia {__version__}")
        return 0
    from synergia_tui.core.crash import EXIT_CODE, install_excepthooks, report_crash

    if argv is None:
        # Run as the program: whatever escapes, on any thread, is reported in one line too.
        install_excepthooks()
    try:
        return _run(arguments)
    except Exception as exc:  # noqa: BLE001 - the last resort: logged in full, one line shown
        print(report_crash(exc), file=sys.stderr)
        return EXIT_CODE


def _run(arguments: list[str]) -> int:
    # Heavy modules are imported only once we know which command runs, so argument errors
    # answer at the speed of a bare interpreter too.
    from synergia_tui.cli.parser import UsageError, parse

    try:
        args = parse(arguments)
    except UsageError as exc:
        from synergia_tui.core.safe_text import one_line  # the message quotes the arguments

        print(f"synergia: {one_line(str(exc))}", file=sys.stderr)
        return 2
    if args.command is None:
        from synergia_tui.ui.launch import run_tui

        return run_tui(chat=args.open_chat, message=args.open_message)
    from synergia_tui.cli.commands import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
