"""The command line: parse, call the pipeline, print. Errors become a message and an exit code.

Each command group lives in its own module with a ``register(subparsers)`` function that adds
its commands (through ``add_command``, so every ``--help`` starts with a one-line summary
and shows examples); a command's handler takes the parsed ``argparse.Namespace`` and returns
an exit code. ``SwfeedError`` is printed without a traceback (unless ``--debug``); anything
else is a bug and always shows one.

To add a command: a ``cmd_*`` handler and an ``add_command`` call in the group's
``register`` (or a new module listed in ``commands.REGISTRY``).
"""

from __future__ import annotations

import argparse
import gc
import sys
import textwrap
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeAlias

from swfeed import __version__
from swfeed.exitcodes import EXIT_RUNTIME

if TYPE_CHECKING:
    from pathlib import Path

    from swfeed.config import Config

Handler = Callable[[argparse.Namespace], int]
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

PERIOD_HELP = "the ISO week of the issue, e.g. 2026-W48"


def add_command(
    subparsers: Subparsers,
    name: str,
    summary: str,
    *,
    details: str = "",
    examples: Sequence[str] = (),
) -> argparse.ArgumentParser:
    """A subcommand whose ``--help`` starts with ``summary``, then ``details`` and examples."""
    paragraphs = [summary[0].upper() + summary[1:] + "."]
    paragraphs += [textwrap.fill(" ".join(part.split()), 88) for part in details.split("\n\n")]
    description = "\n\n".join(part for part in paragraphs if part)
    epilog = "examples:\n" + "\n".join(f"  {line}" for line in examples) if examples else None
    return subparsers.add_parser(
        name,
        help=summary,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def load(args: argparse.Namespace, *, cached: bool = True) -> Config:
    """The config named by ``--config`` / ``$SWFEED_CONFIG`` / the default path: from the
    validated-config cache when it holds it (unless not ``cached``), else validated (and
    kept there; see ``configcache``).

    In the swfeed program itself (not when a test calls ``main``), what start-up made (the
    modules, the config models, the config) is frozen for the garbage collector: it lives
    until the process ends, so no collection, nor the one at exit, walks it again.
    """
    from swfeed.configcache import load_config
    from swfeed.configpath import config_path
    from swfeed.shortcuts import shortcuts_of

    config = load_config(config_path(args.config), cached=cached, derive=shortcuts_of)
    if args.program:
        gc.freeze()
    return config


def path_arg(text: str) -> Path:
    """The ``type`` of an argument naming a file or folder: a ``Path``, made when the
    arguments are parsed (so ``--help`` need not load pathlib)."""
    from pathlib import Path

    return Path(text)


def utc_now() -> datetime:
    """The one place the CLI reads the clock."""
    return datetime.now(UTC)


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree."""
    from swfeed.cli import commands

    parser = argparse.ArgumentParser(
        prog="swfeed",
        description="Publish a news site as RSS, Atom and JSON feeds and a weekly digest email.",
        epilog="`swfeed COMMAND --help` tells more about each command.",
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
    args.program = argv is None
    handler: Handler = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("swfeed: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_RUNTIME
    except Exception as exc:
        # Imported here, not at the top (``--help`` needs no error class): whatever raised
        # a SwfeedError has loaded the module already.
        from swfeed.errors import SwfeedError

        if not isinstance(exc, SwfeedError):
            raise
        if args.debug:
            import traceback

            traceback.print_exc()
        print(f"swfeed: error: {exc}", file=sys.stderr)
        return exc.exit_code
