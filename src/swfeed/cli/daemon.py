"""``swfeed run`` (the unattended service) and ``swfeed status`` (what it did, what is next)."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from swfeed.cli import Subparsers, add_command
from swfeed.daemon import LOG_FORMATS
from swfeed.exitcodes import EXIT_CONFIG, EXIT_OK

if TYPE_CHECKING:
    from pathlib import Path

    from swfeed.daemon.clock import Clock
    from swfeed.errors import ConfigError, ConfigErrors


def register(subparsers: Subparsers) -> None:
    """Add ``run`` and ``status``."""
    run = add_command(
        subparsers,
        "run",
        "run unattended: fetch on a schedule, rebuild feeds, send the weekly digest",
        details="One daemon per store. SIGTERM or SIGINT finish the message in flight and "
        "stop; SIGHUP reloads the config (a config with errors is refused, the running one "
        "stays).",
        examples=["swfeed run", "swfeed run --log-format json"],
    )
    run.add_argument(
        "--log-format",
        metavar="FORMAT",
        choices=LOG_FORMATS,
        default="text",
        help="text: key=value lines (default); json: one JSON object per line",
    )
    run.set_defaults(handler=cmd_run)
    status = add_command(
        subparsers,
        "status",
        "what the service did last and does next: sources, articles, issues, daemon",
        examples=["swfeed status", "swfeed status --json"],
    )
    status.add_argument("--json", action="store_true", help="print JSON instead of text")
    status.set_defaults(handler=cmd_status)


def process_clock() -> Clock:
    """The clock of this process: real, unless the test-only SWFEED_TEST_CLOCK is set."""
    from swfeed.daemon.clock import clock_from_env

    return clock_from_env(os.environ, datetime.now(UTC))


def cmd_run(args: argparse.Namespace) -> int:
    from swfeed.configpath import config_path
    from swfeed.daemon import run_daemon
    from swfeed.daemon.logs import configure_logging

    clock = process_clock()
    configure_logging(args.log_format)
    return run_daemon(config_path(args.config), clock)


def cmd_status(args: argparse.Namespace) -> int:
    import json

    from swfeed.configcache import load_config
    from swfeed.configpath import config_path
    from swfeed.errors import ConfigError, ConfigErrors
    from swfeed.status import gather_status, render_text, to_json
    from swfeed.store import Database

    path = config_path(args.config)
    now = process_clock().now()
    try:
        config = load_config(path)
    except (ConfigError, ConfigErrors) as exc:
        return status_without_config(path, exc, now, as_json=args.json)
    if not config.store.path.exists():
        print(f"no store yet at {config.store.path}: run `swfeed publish` or `swfeed run`")
        return EXIT_OK
    with Database(config.store.path) as db:
        status = gather_status(config, db, now)
    print(json.dumps(to_json(status), indent=2) if args.json else render_text(status))
    return EXIT_OK


def status_without_config(
    path: Path, exc: ConfigError | ConfigErrors, now: datetime, *, as_json: bool
) -> int:
    """The store's state and the config's errors, when the config does not load (exit 2)."""
    import json

    from swfeed.config import store_path_of
    from swfeed.errors import ConfigErrors
    from swfeed.status import gather_store_status, render_text, to_json
    from swfeed.store import Database

    errors = [str(error) for error in (exc.errors if isinstance(exc, ConfigErrors) else [exc])]
    store = store_path_of(path)
    db = Database.read_only(store)
    if db is None:
        print("\n".join(errors), file=sys.stderr)
        print(f"no store to read at {store}", file=sys.stderr)
        return EXIT_CONFIG
    with db:
        status = gather_store_status(db, store, now, errors)
    print(json.dumps(to_json(status), indent=2) if as_json else render_text(status))
    return EXIT_CONFIG
