"""``swfeed digest preview | freeze | send``: the weekly digest on the command line."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

from swfeed.cli import PERIOD_HELP, Subparsers, add_command, load, path_arg, utc_now
from swfeed.exitcodes import EXIT_OK, EXIT_RUNTIME

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from swfeed.config import Config
    from swfeed.digest.freeze import LeftOutLine, Plan
    from swfeed.models import DigestIssue
    from swfeed.pipeline import DigestRun
    from swfeed.store import Database

SEND_DETAILS = """\
Without --period it sends the issue due now: the one of the latest scheduled digest time
(schedule.digest). It is sent when that time is at most schedule.max_lateness ago, or
resumed if its sending started; later than that, the week is recorded as skipped and its
stories go into the next issue. An issue is never sent twice. Naming a period with
--period sends it however late. The daemon (`swfeed run`) follows the same rule."""


def register(subparsers: Subparsers) -> None:
    """Add the ``digest`` group: preview, freeze, send."""
    group = add_command(
        subparsers,
        "digest",
        "the weekly digest email: preview, freeze, send",
        examples=[
            "swfeed digest preview --out digest-preview",
            "swfeed digest send --dry-run",
            "swfeed digest send",
        ],
    )
    commands = group.add_subparsers(dest="digest_command", metavar="COMMAND", required=True)
    _register_preview(commands)
    _register_freeze(commands)
    _register_send(commands)


def _register_preview(commands: Subparsers) -> None:
    preview = add_command(
        commands,
        "preview",
        "write digest.html, digest.txt and digest.eml to look at; freezes and sends nothing",
        examples=["swfeed digest preview", "swfeed digest preview --period 2026-W48 --out /tmp/d"],
    )
    preview.add_argument("--period", metavar="PERIOD", help=PERIOD_HELP + " (default: this week)")
    preview.add_argument(
        "--out",
        metavar="DIR",
        type=path_arg,
        default="digest-preview",
        help="folder to write into (default: digest-preview)",
    )
    preview.set_defaults(handler=cmd_preview)


def _register_freeze(commands: Subparsers) -> None:
    details = (
        "An issue is frozen once: later runs, and the send, use exactly what was frozen. "
        "`digest send` freezes the issue itself when needed."
    )
    help_lines = {"help": "freeze the week's issue and write its web archive page"}
    for name, shown in (("freeze", True), ("build", False)):  # `build`: the old name, hidden
        freeze = (
            add_command(
                commands,
                name,
                help_lines["help"],
                details=details,
                examples=["swfeed digest freeze", "swfeed digest freeze --period 2026-W48"],
            )
            if shown
            else commands.add_parser(name)
        )
        freeze.add_argument(
            "--period", metavar="PERIOD", help=PERIOD_HELP + " (default: this week)"
        )
        freeze.set_defaults(handler=cmd_freeze)


def _register_send(commands: Subparsers) -> None:
    send = add_command(
        commands,
        "send",
        "send the due issue to every subscriber (resumes an interrupted run)",
        details=SEND_DETAILS,
        examples=[
            "swfeed digest send --dry-run",
            "swfeed digest send --to me@example.org",
            "swfeed digest send",
            "swfeed digest send --period 2026-W48",
        ],
    )
    send.add_argument("--period", metavar="PERIOD", help=PERIOD_HELP + " (default: the due one)")
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
        "--resume",
        action="store_true",
        help="carry on with an issue paused for its hard-bounce rate (delivery.max_bounce_rate)",
    )
    send.add_argument(
        "--retry-unknown",
        action="store_true",
        help="send again to recipients whose earlier attempt had no reply (may duplicate)",
    )
    send.set_defaults(handler=cmd_send)


def describe(issue: DigestIssue, plan: Plan | None = None) -> list[str]:
    """The lines preview and freeze print about an issue (``plan``: how it was chosen)."""
    from swfeed.digest.periods import date_range
    from swfeed.digest.render import sent_size

    left_out = issue.left_out
    more = f" ({left_out} more left out: over max_articles or the size budget)" if left_out else ""
    window = f"articles visible up to {issue.cutoff:%Y-%m-%d %H:%M} UTC"
    if plan is not None and plan.backfill:
        window = f"a backfill: the articles published {date_range(issue.period)}"
    elif plan is not None and plan.coming:
        window = f"a coming week, as things stand at {issue.cutoff:%Y-%m-%d %H:%M} UTC"
    return [
        f"issue:    {issue.period} ({window})",
        f"subject:  {issue.subject}",
        f"articles: {len(issue.article_ids)}{more}",
        f"html:     {len(issue.html.encode('utf-8')):,} bytes "
        f"({sent_size(issue.html):,} with room for per-recipient values)",
    ]


@contextmanager
def session(args: argparse.Namespace) -> Iterator[tuple[Config, Database, datetime]]:
    """The config (with a digest section), the open store, and now."""
    from swfeed.digest.settings import digest_settings
    from swfeed.store import Database

    config = load(args)
    digest_settings(config)
    with Database(config.store.path) as db:
        yield config, db, utc_now()


def cmd_preview(args: argparse.Namespace) -> int:
    from swfeed.digest.freeze import preview_issue
    from swfeed.digest.preview import write_preview

    with session(args) as (config, db, now):
        shown = preview_issue(config, db, now, args.period)
    issue = shown.issue
    files = write_preview(config, issue, args.out, now)
    print("\n".join(describe(issue, shown.plan)))
    print("\n".join(left_out_lines(shown.left_out, config.site.zone)))
    if shown.frozen:
        print(f"note:     {issue.period} is frozen: this is exactly what recipients get")
    elif shown.refusal:
        print(
            f"note:     `digest freeze --period {issue.period}` would freeze nothing now: "
            f"{shown.refusal}"
        )
    else:
        print(f"note:     `digest freeze --period {issue.period}` would freeze this now")
    print(f"note:     {files.note}")
    for path in (files.html, files.text, files.eml):
        print(f"wrote     {path}")
    return EXIT_OK


def left_out_lines(left_out: Sequence[LeftOutLine], zone: ZoneInfo) -> list[str]:
    """The articles an issue takes up without showing them, each with the reason."""
    from swfeed.digest.select import LEFT_OUT

    if not left_out:
        return []
    lines = [f"left out: {len(left_out)} (never offered to a later issue):"]
    for line in left_out:
        day = f"{line.published.astimezone(zone):%Y-%m-%d}" if line.published else "????-??-??"
        lines.append(f"  {day}  {line.title}  [{line.reason}: {LEFT_OUT[line.reason]}]")
    return lines


def cmd_freeze(args: argparse.Namespace) -> int:
    from swfeed import pipeline
    from swfeed.cli.feeds import print_hubs
    from swfeed.digest.archive import archive_folder
    from swfeed.digest.freeze import ensure_issue

    with session(args) as (config, db, now):
        issue = ensure_issue(config, db, now, args.period)
        hubs = pipeline.notify_hubs(config, db, now)
    print_hubs(hubs, sys.stdout)
    if issue is None:
        print("nothing new since the last issue: no issue made (digest.skip_when_empty)")
        return EXIT_OK
    print("\n".join(describe(issue)))
    print(f"frozen:   {issue.created:%Y-%m-%d %H:%M} UTC")
    print(f"archive:  {archive_folder(config) / (issue.period + '.html')}")
    print(f"online:   {issue.archive_url}")
    return EXIT_OK


def cmd_send(args: argparse.Namespace) -> int:
    from swfeed import pipeline
    from swfeed.cli.feeds import print_hubs
    from swfeed.cli.sendreport import print_run
    from swfeed.mailinglist.addresses import normalize_address

    with session(args) as (config, db, now):
        if args.to:
            return _test_send(config, db, now, args.period, normalize_address(args.to))
        if args.dry_run:
            return _dry_run(config, db, now, args.period)
        run = _send_with_signals(config, db, args.period, args.retry_unknown, args.resume)
        hubs = pipeline.notify_hubs(config, db, utc_now())
    print_run(run, sys.stdout)
    print_hubs(hubs, sys.stdout)
    return EXIT_OK if run.summary is None or run.summary.done else EXIT_RUNTIME


def _test_send(
    config: Config, db: Database, now: datetime, period: str | None, address: str
) -> int:
    """One marked copy of the issue (frozen first if needed) to ``address``."""
    from swfeed import pipeline
    from swfeed.delivery.send import send_test
    from swfeed.digest.freeze import ensure_issue
    from swfeed.store.deliveries import State

    chosen = period or pipeline.decide_due(config, db, now).period
    issue = ensure_issue(config, db, now, chosen)
    if issue is None:
        print("no issue to send: nothing new since the last one")
        return EXIT_OK
    attempt = send_test(config, issue, address, now)
    print(f"test send of {issue.period} to {address}: {attempt.state.value} ({attempt.reply})")
    return EXIT_OK if attempt.state is State.SENT else EXIT_RUNTIME


def _dry_run(config: Config, db: Database, now: datetime, period: str | None) -> int:
    """What a send would decide and whom it would mail; changes nothing."""
    from swfeed import pipeline
    from swfeed.cli.sendreport import print_plan
    from swfeed.delivery.send import plan
    from swfeed.digest.due import Action
    from swfeed.digest.freeze import preview_issue
    from swfeed.store.issues import IssueStore

    due = pipeline.decide_due(config, db, now, period)
    if due.decision.action is not Action.SEND:
        verb = "record it skipped" if due.decision.action is Action.SKIP else "do nothing"
        print(f"issue {due.period}: a send would {verb}: {due.decision.reason}")
        return EXIT_OK
    issue = preview_issue(config, db, now, due.period).issue
    print_plan(plan(config, db, issue, now), sys.stdout)
    if IssueStore(db).get(issue.period) is None:
        print("  (not frozen yet: `swfeed digest send` freezes it first; it may differ")
        print("   if articles arrive meanwhile, or not be sent when nothing is new)")
    return EXIT_OK


def _send_with_signals(
    config: Config, db: Database, period: str | None, retry_unknown: bool, resume: bool
) -> DigestRun:
    """``send_digest`` with SIGTERM/SIGINT finishing the message in flight, then stopping."""
    from swfeed import pipeline
    from swfeed.cli.sendreport import ProgressBar

    stop = threading.Event()
    bar = ProgressBar(sys.stderr) if sys.stderr.isatty() else None

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        return pipeline.send_digest(
            config,
            db,
            utc_now,
            period,
            stop=stop,
            progress=bar,
            retry_unknown=retry_unknown,
            resume=resume,
        )
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if bar is not None:
            bar.finish()
