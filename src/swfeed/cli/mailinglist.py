"""``swfeed subscribers …``: the mailing list, managed by the admin."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from swfeed.cli import Subparsers, add_command, load, utc_now
from swfeed.errors import EXIT_OK
from swfeed.mailinglist.addresses import clean_name, normalize_address
from swfeed.mailinglist.csvfile import read_csv
from swfeed.store import Database
from swfeed.store.subscribers import Status, SubscriberStore


def register(subparsers: Subparsers) -> None:
    """Add the ``subscribers`` group."""
    group = add_command(
        subparsers,
        "subscribers",
        "manage the mailing list: import, add, remove, list",
        examples=[
            "swfeed subscribers import config/subscribers.csv",
            "swfeed subscribers add ann@example.org --name 'Ann Smith'",
            "swfeed subscribers list --status active",
        ],
    )
    commands = group.add_subparsers(dest="subscribers_command", metavar="COMMAND", required=True)
    add_import = add_command(
        commands,
        "import",
        "add the addresses of a CSV file (columns: email, name); all or nothing",
        details="UTF-8, header row optional. Addresses that unsubscribed or bounced are "
        "kept out and listed.",
        examples=["swfeed subscribers import config/subscribers.csv"],
    )
    add_import.add_argument("file", metavar="FILE", type=Path, help="the CSV file")
    add_import.set_defaults(handler=cmd_import)
    add = add_command(
        commands,
        "add",
        "subscribe one address (re-subscribes a leaver)",
        examples=["swfeed subscribers add ann@example.org --name 'Ann Smith'"],
    )
    add.add_argument("address", metavar="ADDRESS", help="the email address")
    add.add_argument("--name", metavar="NAME", default="", help="display name in the To header")
    add.set_defaults(handler=cmd_add)
    remove = add_command(
        commands,
        "remove",
        "unsubscribe one address (it is kept out of later imports)",
        examples=["swfeed subscribers remove ann@example.org"],
    )
    remove.add_argument("address", metavar="ADDRESS", help="the email address")
    remove.set_defaults(handler=cmd_remove)
    listing = add_command(
        commands,
        "list",
        "print every address with its status",
        examples=["swfeed subscribers list", "swfeed subscribers list --status bounced"],
    )
    listing.add_argument(
        "--status", metavar="STATUS", choices=[s.value for s in Status], help="only these"
    )
    listing.set_defaults(handler=cmd_list)


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
