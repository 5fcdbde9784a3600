"""``swfeed subscribers …``: the mailing list, managed by the admin."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from swfeed.cli import Subparsers, add_command, load, path_arg, utc_now
from swfeed.exitcodes import EXIT_OK, EXIT_RUNTIME
from swfeed.plaintext import plural

if TYPE_CHECKING:
    from swfeed.config import Config
    from swfeed.mailinglist.suppression import Suppression
    from swfeed.store.subscribers import Status, Subscriber

KEPT_OUT_HINT = "only a new opt-in of their own (the sign-up form) brings them back"
EXPORT_COLUMNS = (
    "email", "name", "status", "topics", "joined_via", "joined", "consent_page", "confirmed",
    "ip", "paused_until", "created", "changed", "note",
)  # fmt: skip


def register(subparsers: Subparsers) -> None:
    """Add the ``subscribers`` group."""
    group = add_command(
        subparsers,
        "subscribers",
        "manage the mailing list: import, add, remove, list, show, export, erase",
        examples=[
            "swfeed subscribers import config/subscribers.csv",
            "swfeed subscribers add ann@example.org --name 'Ann Smith' --topics policy,rwanda",
            "swfeed subscribers show ann@example.org",
        ],
    )
    commands = group.add_subparsers(dest="subscribers_command", metavar="COMMAND", required=True)
    _register_changes(commands)
    _register_reports(commands)


def _register_changes(commands: Subparsers) -> None:
    add_import = add_command(
        commands,
        "import",
        "add the addresses of a CSV file (columns: email, name, topics); all or nothing",
        details="UTF-8, header row optional. Addresses that unsubscribed, bounced, "
        "complained or were erased are kept out and listed: " + KEPT_OUT_HINT + ".",
        examples=["swfeed subscribers import config/subscribers.csv"],
    )
    add_import.add_argument("file", metavar="FILE", type=path_arg, help="the CSV file")
    add_import.set_defaults(handler=cmd_import)
    add = add_command(
        commands,
        "add",
        "subscribe one address (never one that left or was erased)",
        details="An address that unsubscribed, bounced, complained or was erased is kept "
        "out: " + KEPT_OUT_HINT + ".",
        examples=["swfeed subscribers add ann@example.org --name 'Ann Smith' --topics policy"],
    )
    add.add_argument("address", metavar="ADDRESS", help="the email address")
    add.add_argument("--name", metavar="NAME", default="", help="display name in the To header")
    add.add_argument(
        "--topics", metavar="TOPICS", default=None, help="category slugs, e.g. policy,rwanda"
    )
    add.set_defaults(handler=cmd_add)
    remove = add_command(
        commands,
        "remove",
        "unsubscribe one address (it is kept out of later imports)",
        examples=[
            "swfeed subscribers remove ann@example.org",
            "swfeed subscribers remove never@example.org --suppress",
        ],
    )
    remove.add_argument("address", metavar="ADDRESS", help="the email address")
    remove.add_argument(
        "--suppress",
        action="store_true",
        help="also for an address that is not on the list: keep it out of later imports",
    )
    remove.set_defaults(handler=cmd_remove)
    erase = add_command(
        commands,
        "erase",
        "delete everything held on one person; only a keyed hash stays, to keep them out",
        examples=["swfeed subscribers erase ann@example.org"],
    )
    erase.add_argument("address", metavar="ADDRESS", help="the email address")
    erase.set_defaults(handler=cmd_erase)


def _register_reports(commands: Subparsers) -> None:
    listing = add_command(
        commands,
        "list",
        "print every address with its status",
        examples=["swfeed subscribers list", "swfeed subscribers list --status bounced"],
    )
    listing.add_argument("--status", metavar="STATUS", type=_status, help="only these")
    listing.set_defaults(handler=cmd_list)
    show = add_command(
        commands,
        "show",
        "print everything held on one person (status, topics, consent, confirmation)",
        examples=["swfeed subscribers show ann@example.org"],
    )
    show.add_argument("address", metavar="ADDRESS", help="the email address")
    show.set_defaults(handler=cmd_show)
    export = add_command(
        commands,
        "export",
        "write everything held on every subscriber to a CSV file",
        examples=["swfeed subscribers export subscribers-export.csv"],
    )
    export.add_argument("file", metavar="FILE", type=path_arg, help="the CSV file to write")
    export.set_defaults(handler=cmd_export)


def _status(text: str) -> Status:
    """``--status``'s value (the store module is loaded only when the option is given)."""
    from swfeed.store.subscribers import Status

    try:
        return Status(text)
    except ValueError:
        names = ", ".join(status.value for status in Status)
        raise argparse.ArgumentTypeError(f"{text!r} is not a status: use {names}") from None


def _suppression(config: Config) -> Suppression:
    from swfeed.delivery.settings import link_keys
    from swfeed.mailinglist.suppression import Suppression

    return Suppression(link_keys(config))


def cmd_import(args: argparse.Namespace) -> int:
    from swfeed.mailinglist.csvfile import read_csv
    from swfeed.store import Database
    from swfeed.store.subscribers import NewEntry, SubscriberStore

    config = load(args)
    entries = [NewEntry(e.address, e.name, e.topics) for e in read_csv(args.file)]
    with Database(config.store.path) as db:
        counts = SubscriberStore(db).import_all(entries, utc_now(), _suppression(config).hashes)
    print(
        f"{args.file}: {counts.added} added, {counts.updated} updated, "
        f"{counts.unchanged} already subscribed, {len(counts.kept_out)} kept out"
    )
    for address, why in counts.kept_out:
        print(f"  kept out ({why}; {KEPT_OUT_HINT}): {address}")
    return EXIT_OK


def cmd_add(args: argparse.Namespace) -> int:
    from swfeed.mailinglist.addresses import clean_name, normalize_address
    from swfeed.mailinglist.csvfile import parse_topics
    from swfeed.store import Database
    from swfeed.store.subscribers import NewEntry, SubscriberStore

    config = load(args)
    address, name = normalize_address(args.address), clean_name(args.name)
    topics = None if args.topics is None else parse_topics(args.topics)
    with Database(config.store.path) as db:
        outcome = SubscriberStore(db).add(
            NewEntry(address, name, topics), utc_now(), _suppression(config).hashes(address)
        )
    if outcome in ("added", "updated", "unchanged"):
        words = {"added": "subscribed", "updated": "updated", "unchanged": "already subscribed"}
        print(f"{address}: {words[outcome]}")
        return EXIT_OK
    print(f"{address}: kept out ({outcome}); {KEPT_OUT_HINT}", file=sys.stderr)
    return EXIT_RUNTIME


def cmd_remove(args: argparse.Namespace) -> int:
    from swfeed.mailinglist.addresses import SubscriberError, normalize_address
    from swfeed.store import Database
    from swfeed.store.subscribers import Status, SubscriberStore

    config = load(args)
    address = normalize_address(args.address)
    with Database(config.store.path) as db:
        store = SubscriberStore(db)
        known = store.get(address) is not None
        if not known and not args.suppress:
            raise SubscriberError(
                f"{address} is not on the list; nothing was changed",
                hint="Check the spelling (`swfeed subscribers list`). To keep an address "
                "that never subscribed out of later imports, add --suppress.",
            )
        store.set_status(address, Status.UNSUBSCRIBED, utc_now(), "removed by the admin")
    print(f"{address}: unsubscribed" + ("" if known else " (was not on the list; kept out)"))
    return EXIT_OK


def cmd_erase(args: argparse.Namespace) -> int:
    from swfeed.delivery.settings import link_keys
    from swfeed.mailinglist.addresses import SubscriberError, normalize_address
    from swfeed.signup.service import erase
    from swfeed.store import Database

    config = load(args)
    address = normalize_address(args.address)
    keys = link_keys(config)
    if not keys:
        raise SubscriberError(
            "erasing needs delivery.unsubscribe_secret: the keyed hash that keeps the "
            "address out is made with it",
            hint="Set delivery.unsubscribe_secret: ${SWFEED_UNSUBSCRIBE_SECRET} in the config.",
        )
    with Database(config.store.path) as db:
        known = erase(keys, db, address, utc_now(), "erased by the admin")
    note = "" if known else " (was not on the list)"
    print(f"{address}: erased{note}; only a keyed hash is kept, so no import adds it back")
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    from swfeed.store import Database
    from swfeed.store.subscribers import SubscriberStore

    config = load(args)
    with Database(config.store.path) as db:
        status: Status | None = args.status
        subscribers = SubscriberStore(db).all(status)
    for subscriber in subscribers:
        name = f"  {subscriber.name}" if subscriber.name else ""
        print(f"{subscriber.status.value:<13}{subscriber.address}{name}")
    print(plural(len(subscribers), "address", "addresses"), file=sys.stderr)
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    from swfeed.mailinglist.addresses import normalize_address
    from swfeed.store import Database
    from swfeed.store.subscribers import SubscriberStore

    config = load(args)
    address = normalize_address(args.address)
    with Database(config.store.path) as db:
        store = SubscriberStore(db)
        found = store.get(address)
        erased = found is None and store.is_suppressed(_suppression(config).hashes(address))
    if found is None:
        what = "erased: nothing is held but a keyed hash" if erased else "not on the list"
        print(f"{address}: {what}")
        return EXIT_OK if erased else EXIT_RUNTIME
    for label, value in zip(EXPORT_COLUMNS, export_row(found), strict=True):
        print(f"{label.replace('_', ' ') + ':':<14}{value or '-'}")
    return EXIT_OK


def export_row(subscriber: Subscriber) -> list[str]:
    """One subscriber's CSV row (the columns of ``EXPORT_COLUMNS``)."""
    times = (subscriber.joined, subscriber.confirmed)
    joined, confirmed = (t.isoformat() if t else "" for t in times)
    pause = subscriber.paused_until.isoformat() if subscriber.paused_until else ""
    return [
        subscriber.address,
        subscriber.name,
        subscriber.status.value,
        ",".join(subscriber.topics),
        subscriber.joined_via.value,
        joined,
        subscriber.consent_page or "",
        confirmed,
        subscriber.ip or "",
        pause,
        subscriber.created.isoformat(),
        subscriber.changed.isoformat(),
        subscriber.note or "",
    ]


def cmd_export(args: argparse.Namespace) -> int:
    import csv
    import io

    from swfeed.atomicfile import atomic_write
    from swfeed.store import Database
    from swfeed.store.subscribers import SubscriberStore

    config = load(args)
    with Database(config.store.path) as db:
        subscribers = SubscriberStore(db).all()
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(export_row(subscriber) for subscriber in subscribers)
    atomic_write(args.file, out.getvalue().encode("utf-8"))
    print(f"{args.file}: {len(subscribers)} subscriber(s) written")
    return EXIT_OK
