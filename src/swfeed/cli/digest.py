"""``swfeed digest preview | build`` (and ``send``, added by the delivery CLI)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from swfeed.cli.site import load, utc_now
from swfeed.config import Config
from swfeed.digest.archive import archive_folder
from swfeed.digest.freeze import ensure_issue, preview_issue
from swfeed.digest.preview import write_preview
from swfeed.digest.render import sent_size
from swfeed.digest.settings import digest_settings
from swfeed.errors import EXIT_OK
from swfeed.models import DigestIssue
from swfeed.store import Database
from swfeed.store.issues import IssueStore

PERIOD_HELP = "the ISO week of the issue, e.g. 2026-W48 (default: the current week)"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``digest`` group."""
    group = subparsers.add_parser("digest", help="the weekly digest email: preview, build, send")
    commands = group.add_subparsers(dest="digest_command", metavar="COMMAND", required=True)
    preview = commands.add_parser(
        "preview",
        help="write digest.html, digest.txt and digest.eml to look at; freezes and sends nothing",
    )
    preview.add_argument("--period", help=PERIOD_HELP)
    preview.add_argument(
        "--out", type=Path, default=Path("digest-preview"), help="folder (default: digest-preview)"
    )
    preview.set_defaults(handler=cmd_preview)
    build = commands.add_parser(
        "build", help="freeze the week's issue and write its web archive page"
    )
    build.add_argument("--period", help=PERIOD_HELP)
    build.set_defaults(handler=cmd_build)
    from swfeed.cli import delivery

    delivery.register_send(commands)


def describe(issue: DigestIssue) -> list[str]:
    """The lines both commands print about an issue."""
    left_out = int(issue.extra.get("left_out", 0))
    more = f" ({left_out} more left out: over max_articles or the size budget)" if left_out else ""
    return [
        f"issue:    {issue.period} (articles visible up to {issue.cutoff:%Y-%m-%d %H:%M} UTC)",
        f"subject:  {issue.subject}",
        f"articles: {len(issue.article_ids)}{more}",
        f"html:     {len(issue.html.encode('utf-8')):,} bytes "
        f"({sent_size(issue.html):,} with room for per-recipient values)",
    ]


@contextmanager
def session(args: argparse.Namespace) -> Iterator[tuple[Config, Database, datetime]]:
    """The config (with a digest section), the open store, and now."""
    config = load(args)
    digest_settings(config)
    with Database(config.store.path) as db:
        yield config, db, utc_now()


def cmd_preview(args: argparse.Namespace) -> int:
    with session(args) as (config, db, now):
        issue = preview_issue(config, db, now, args.period)
        frozen = IssueStore(db).get(issue.period) is not None
    files = write_preview(config, issue, args.out, now)
    print("\n".join(describe(issue)))
    if frozen:
        print(f"note:     {issue.period} is frozen: this is exactly what recipients get")
    elif not issue.article_ids and config.digest and config.digest.skip_when_empty:
        print("note:     nothing new, so no issue would be sent (digest.skip_when_empty)")
    print(f"note:     {files.note}")
    for path in (files.html, files.text, files.eml):
        print(f"wrote     {path}")
    return EXIT_OK


def cmd_build(args: argparse.Namespace) -> int:
    with session(args) as (config, db, now):
        issue = ensure_issue(config, db, now, args.period)
    if issue is None:
        print("nothing new since the last issue: no issue made (digest.skip_when_empty)")
        return EXIT_OK
    print("\n".join(describe(issue)))
    print(f"frozen:   {issue.created:%Y-%m-%d %H:%M} UTC")
    print(f"archive:  {archive_folder(config) / (issue.period + '.html')}")
    print(f"online:   {issue.archive_url}")
    return EXIT_OK
