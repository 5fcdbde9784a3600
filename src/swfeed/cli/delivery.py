"""``swfeed subscribers …``, ``swfeed serve`` and ``swfeed digest send``: the mailing-list CLI."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import TextIO, TypeAlias

from swfeed.cli.site import load, utc_now
from swfeed.config import Config
from swfeed.delivery.send import Plan, Progress, SendSummary, plan, send_issue, send_test
from swfeed.errors import EXIT_OK, EXIT_RUNTIME
from swfeed.mailinglist.addresses import clean_name, normalize_address
from swfeed.mailinglist.csvfile import read_csv
from swfeed.models import DigestIssue
from swfeed.store import Database
from swfeed.store.deliveries import State
from swfeed.store.issues import IssueStore
from swfeed.store.subscribers import Status, SubscriberStore

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def register(subparsers: Subparsers) -> None:
    """Add ``subscribers`` and ``serve``."""
    group = subparsers.add_parser("subscribers", help="manage the mailing list")
    commands = group.add_subparsers(dest="subscribers_command", required=True)
    add_import = commands.add_parser(
        "import", help="add the addresses of a CSV file (columns: email, name); all or nothing"
    )
    add_import.add_argument("file", type=Path, help="CSV file, UTF-8, header row optional")
    add_import.set_defaults(handler=cmd_import)
    add = commands.add_parser("add", help="subscribe one address (re-subscribes a leaver)")
    add.add_argument("address")
    add.add_argument("--name", default="", help="display name used in the To header")
    add.set_defaults(handler=cmd_add)
    remove = commands.add_parser("remove", help="unsubscribe one address (it is kept out)")
    remove.add_argument("address")
    remove.set_defaults(handler=cmd_remove)
    listing = commands.add_parser("list", help="every address with its status")
    listing.add_argument("--status", choices=[s.value for s in Status], help="only these")
    listing.set_defaults(handler=cmd_list)
    serve = subparsers.add_parser(
        "serve", help="serve the output folder and the unsubscribe endpoint over HTTP"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on")
    serve.set_defaults(handler=cmd_serve)


def register_send(digest_subparsers: Subparsers) -> None:
    """Add ``digest send`` to the ``digest`` group."""
    send = digest_subparsers.add_parser(
        "send", help="send the week's issue to every subscriber (resumes an interrupted run)"
    )
    send.add_argument("--period", help="the issue, e.g. 2026-W48 (default: the current week)")
    send.add_argument(
        "--dry-run", action="store_true", help="show who would get what; send and change nothing"
    )
    send.add_argument(
        "--to",
        metavar="ADDRESS",
        help="test send to one address, outside the list and the ledger; the copy is marked "
        "(subject starts with [TEST], header X-Swfeed-Test: yes) and has a Message-ID of its own",
    )
    send.add_argument(
        "--retry-unknown",
        action="store_true",
        help="send again to recipients whose earlier attempt had no reply (may duplicate)",
    )
    send.set_defaults(handler=cmd_send)


def cmd_import(args: argparse.Namespace) -> int:
    config = load(args)
    entries = read_csv(args.file)
    with Database(config.store.path) as db:
        counts = SubscriberStore(db).import_all([(e.address, e.name) for e in entries], utc_now())
    print(
        f"{args.file}: {counts.added} added, {counts.renamed} renamed, "
        f"{counts.unchanged} already subscribed, {len(counts.kept_out)} kept out"
    )
    for address in counts.kept_out:
        print(f"  kept out (unsubscribed or bounced; `subscribers add` re-subscribes): {address}")
    return EXIT_OK


def cmd_add(args: argparse.Namespace) -> int:
    config = load(args)
    address, name = normalize_address(args.address), clean_name(args.name)
    with Database(config.store.path) as db:
        changed = SubscriberStore(db).add(address, name, utc_now())
    print(f"{address}: {'subscribed' if changed else 'already subscribed'}")
    return EXIT_OK


def cmd_remove(args: argparse.Namespace) -> int:
    config = load(args)
    address = normalize_address(args.address)
    with Database(config.store.path) as db:
        store = SubscriberStore(db)
        known = store.get(address) is not None
        store.set_status(address, Status.UNSUBSCRIBED, utc_now(), "removed by the admin")
    print(f"{address}: unsubscribed" + ("" if known else " (was not on the list; kept out)"))
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    config = load(args)
    with Database(config.store.path) as db:
        status = Status(args.status) if args.status else None
        subscribers = SubscriberStore(db).all(status)
    for subscriber in subscribers:
        name = f"  {subscriber.name}" if subscriber.name else ""
        print(f"{subscriber.status.value:<13}{subscriber.address}{name}")
    print(f"{len(subscribers)} address(es)", file=sys.stderr)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from swfeed.web import serve

    config = load(args)
    serve(config, args.host, args.port)
    return EXIT_OK


def cmd_send(args: argparse.Namespace) -> int:
    config = load(args)
    now = utc_now()
    with Database(config.store.path) as db:
        issue = find_issue(config, db, args.period, now, build=not args.dry_run)
        if issue is None:
            print("no issue to send: nothing new since the last one")
            return EXIT_OK
        if args.to:
            attempt = send_test(config, issue, normalize_address(args.to), now)
            print(
                f"test send of {issue.period} to {args.to}: {attempt.state.value} ({attempt.reply})"
            )
            return EXIT_OK if attempt.state is State.SENT else EXIT_RUNTIME
        if args.dry_run:
            print_plan(plan(config, db, issue, now), sys.stdout)
            if IssueStore(db).get(issue.period) is None:
                print("  (not frozen yet: `swfeed digest send` builds it first; it may differ")
                print("   if articles arrive meanwhile, or not be sent when nothing is new)")
            return EXIT_OK
        summary = _send_with_signals(config, db, issue, args.retry_unknown)
    print_summary(summary, sys.stdout)
    return EXIT_OK if summary.done else EXIT_RUNTIME


def find_issue(
    config: Config, db: Database, period: str | None, now: datetime, build: bool
) -> DigestIssue | None:
    """The issue to send: frozen (built first if missing), or for a dry run only previewed."""
    from swfeed.digest.freeze import ensure_issue, preview_issue

    if build:
        return ensure_issue(config, db, now, period)
    return preview_issue(config, db, now, period)


def _send_with_signals(
    config: Config, db: Database, issue: DigestIssue, retry_unknown: bool
) -> SendSummary:
    """``send_issue`` with SIGTERM/SIGINT finishing the message in flight, then stopping."""
    stop = threading.Event()
    bar = ProgressBar(sys.stderr) if sys.stderr.isatty() else None

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        return send_issue(config, db, issue, utc_now, stop, bar, retry_unknown=retry_unknown)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if bar is not None:
            bar.finish()


class ProgressBar:
    """A one-line progress bar on a terminal, redrawn at most ten times a second."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self._drawn = 0.0

    def __call__(self, progress: Progress) -> None:
        now = time.monotonic()
        if now - self._drawn < 0.1 and progress.done < progress.total:
            return
        self._drawn = now
        self.stream.write("\r" + render_bar(progress, self.width))
        self.stream.flush()

    def finish(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()


def render_bar(progress: Progress, width: int) -> str:
    """``[#####-----]  50/100  sent 48 deferred 1 failed 1 unknown 0``."""
    total = max(progress.total, 1)
    filled = min(width, width * progress.done // total)
    run = progress.run
    return (
        f"[{'#' * filled}{'-' * (width - filled)}] {progress.done}/{progress.total}  "
        f"sent {run[State.SENT]} deferred {run[State.DEFERRED]} "
        f"failed {run[State.FAILED]} unknown {run[State.UNKNOWN]}"
    )


def print_summary(summary: SendSummary, out: TextIO) -> None:
    """The end-of-run report: this run's outcomes, the issue's totals, what needs a human."""
    run, totals = summary.run, summary.totals
    print(
        f"issue {summary.period}: this run sent {run[State.SENT]}, deferred "
        f"{run[State.DEFERRED]}, failed {run[State.FAILED]}, unknown {run[State.UNKNOWN]}",
        file=out,
    )
    states = ", ".join(f"{state.value} {totals[state]}" for state in State if totals[state])
    print(f"  all {summary.total} recipients: {states or 'none'}", file=out)
    if summary.retried:
        print(
            f"  {summary.retried} recipient(s) with an unknown outcome were attempted again "
            "(--retry-unknown)",
            file=out,
        )
    for address in summary.recovered:
        print(f"  unknown (in flight when a sender stopped): {address}", file=out)
    if totals[State.UNKNOWN]:
        print(
            "  unknown outcomes are not retried; `swfeed digest send --period "
            f"{summary.period} --retry-unknown` sends them again (they may get two copies)",
            file=out,
        )
    if summary.paused:
        print(f"  {summary.paused}; run the command again to carry on", file=out)
    elif summary.stopped:
        print("  stopped on request; run the command again to carry on", file=out)
    elif totals[State.DEFERRED]:
        print("  deferred messages are retried by the next run", file=out)


def print_plan(found: Plan, out: TextIO) -> None:
    """The dry run's report."""
    print(f"issue {found.period}: {found.subject!r} ({found.size:,} bytes before the", file=out)
    print(f"  per-recipient parts), via {found.method}", file=out)
    if found.frozen:
        done = ", ".join(f"{s.value} {n}" for s, n in found.totals.items() if n)
        print(f"  sending already started: {done}", file=out)
    print(f"  would send to {len(found.recipients)} recipient(s):", file=out)
    for address, name in found.recipients:
        print(f"    {address}" + (f"  ({name})" if name else ""), file=out)
