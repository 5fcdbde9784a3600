"""The command line: parse, call the pipeline, print. Errors become a message and an exit code.

Each command group lives in its own module with a ``register(subparsers)`` function that adds
its commands; a command's handler takes the parsed ``argparse.Namespace`` and returns an exit
code. ``SwfeedError`` is printed without a traceback (unless ``--debug``); anything else is a
bug and always shows one.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence

from swfeed import __version__
from swfeed.errors import EXIT_RUNTIME, SwfeedError

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree."""
    from swfeed.cli import commands

    parser = argparse.ArgumentParser(
        prog="swfeed",
        description="Publish a news site as RSS, Atom and JSON feeds and a weekly digest email.",
    )
    parser.add_argument("--version", action="version", version=f"swfeed {__version__}")
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="the YAML config (default: $SWFEED_CONFIG, else config/swfeed.yaml)",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in commands.REGISTRY:
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``swfeed`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except SwfeedError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"swfeed: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("swfeed: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_RUNTIME
