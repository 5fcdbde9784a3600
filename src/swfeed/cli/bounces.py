"""``swfeed bounces``: read the bounce mailbox once and act on what came back."""

from __future__ import annotations

import argparse

from swfeed.cli import Subparsers, add_command, load, utc_now
from swfeed.exitcodes import EXIT_OK

DETAILS = """\
Reads the new mails of bounces.maildir (or bounces.imap) once: delivery status
notifications, the common non-standard bounces, ARF complaint reports and auto-replies.
A hard bounce (5.1.x, 5.2.1) marks the address bounced; soft bounces count until
bounces.soft_limit issues in a row; a policy rejection (5.7.x) is counted and reported; a
complaint unsubscribes for good. Only mails with a valid VERP token (delivery.bounce_address)
change anything. Each mail is then moved out of the inbox (Maildir new/ to cur/, IMAP to
bounces.imap.done_folder) and never read twice. `swfeed run` does this every
bounces.check_every."""


def register(subparsers: Subparsers) -> None:
    """Add ``bounces``."""
    bounces = add_command(
        subparsers,
        "bounces",
        "read the bounce mailbox: mark hard bounces, count soft ones, act on complaints",
        details=DETAILS,
        examples=["swfeed bounces"],
    )
    bounces.set_defaults(handler=cmd_bounces)


def cmd_bounces(args: argparse.Namespace) -> int:
    from swfeed import pipeline
    from swfeed.store import Database

    config = load(args)
    with Database(config.store.path) as db:
        run = pipeline.read_bounces(config, db, utc_now())
    for item in run.handled:
        print(item.line)
    again = f"; {run.again} seen before, filed away again" if run.again else ""
    print(
        f"{len(run.handled)} new mail(s): {run.count('marked bounced')} marked bounced, "
        f"{run.count('unsubscribed')} unsubscribed after a complaint, "
        f"{run.count('counted')} counted, {run.count('nothing') + run.count('ignored')} "
        f"changed nothing{again}"
    )
    return EXIT_OK
