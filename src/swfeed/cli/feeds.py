"""``swfeed check | fetch | build | publish | config``: the feed side of the CLI."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, TextIO

from swfeed.cli import Subparsers, add_command, load, utc_now
from swfeed.exitcodes import EXIT_OK, EXIT_RUNTIME
from swfeed.plaintext import plural

if TYPE_CHECKING:
    from pathlib import Path

    from swfeed.config import Config
    from swfeed.feeds import WriteReport
    from swfeed.fetchreport import SourceReport
    from swfeed.pipeline import DryRun
    from swfeed.store.articles import SourceStatus
    from swfeed.websub import HubReport


def register(subparsers: Subparsers) -> None:
    """Add the feed-side commands: check, fetch, build, publish, config."""
    check = add_command(
        subparsers,
        "check",
        "validate the config and load every source; store and write nothing",
        details="Exit 0 when everything is clean, 1 when a source has problems, "
        "2 for config errors.",
        examples=["swfeed check", "swfeed --config /etc/swfeed/swfeed.yaml check"],
    )
    check.set_defaults(handler=cmd_check)
    fetch = add_command(
        subparsers,
        "fetch",
        "load new and changed articles from the sources into the store",
        examples=[
            "swfeed fetch",
            "swfeed fetch --source site-news --force",
            "swfeed fetch --source site-news --dry-run",
        ],
    )
    fetch.add_argument(
        "--source", metavar="NAME", action="append", default=[], help="only this source"
    )
    fetch.add_argument(
        "--force",
        action="store_true",
        help="fetch everything again: ignore a failing source's backoff, the saved validators "
        "(no conditional GET) and the record of unchanged files",
    )
    fetch.add_argument(
        "--dry-run",
        action="store_true",
        help="fetch in full and print, per item, what each selector found (and what matched "
        "nothing); store nothing",
    )
    fetch.set_defaults(handler=cmd_fetch)
    build = add_command(
        subparsers,
        "build",
        "write the RSS, Atom and JSON feeds from the store",
        details="Nothing is rendered when nothing changed since the last build (articles, "
        "config, templates, swfeed itself) and its files are intact; unchanged files are "
        "not rewritten. (Making a digest issue is `swfeed digest freeze`.)",
        examples=["swfeed build", "swfeed build --force"],
    )
    build.add_argument(
        "--force", action="store_true", help="render every feed even if nothing changed"
    )
    build.set_defaults(handler=cmd_build)
    publish = add_command(
        subparsers,
        "publish",
        "fetch, then build: the one-shot job",
        examples=["swfeed publish"],
    )
    publish.set_defaults(handler=cmd_publish)
    config = add_command(
        subparsers,
        "config",
        "about the config file: its JSON Schema and every key's help",
        examples=["swfeed config schema > swfeed.schema.json", "swfeed config reference"],
    )
    config_commands = config.add_subparsers(dest="config_command", metavar="COMMAND", required=True)
    schema = add_command(config_commands, "schema", "print the config's JSON Schema")
    schema.set_defaults(handler=cmd_config_schema)
    reference = add_command(
        config_commands, "reference", "print every config key with its help text (Markdown)"
    )
    reference.set_defaults(handler=cmd_config_reference)


def cmd_check(args: argparse.Namespace) -> int:
    from swfeed import pipeline
    from swfeed.configcheck import host_warnings

    config = load(args, cached=False)  # the admin's own check: always validated for real
    print(f"{config.source_file}: config OK ({plural(len(config.sources), 'source')})")
    for warning in host_warnings(config):
        print(_indent(f"warning: {warning}", "  "))
    now = utc_now()
    statuses = stored_statuses(config)
    failed = False
    for run in pipeline.dry_run(config, now):
        if run.name in statuses:
            print_backoff(statuses[run.name], now)
        failed = not print_check(run, config) or failed
    return EXIT_RUNTIME if failed else EXIT_OK


def stored_statuses(config: Config) -> dict[str, SourceStatus]:
    """What the store (if any) records of each source; nothing is created or written."""
    from contextlib import nullcontext

    from swfeed.store import Database
    from swfeed.store.articles import ArticleStore

    with Database.read_only(config.store.path) or nullcontext() as db:
        if db is None:
            return {}
        return {s.name: ArticleStore(db).source_status(s.name) for s in config.sources}


def print_check(run: DryRun, config: Config) -> bool:
    """One source's line in ``check``, its problems and files without ids. True when clean."""
    from swfeed.config import ContentSourceConfig
    from swfeed.sources.content import files_without_id

    if run.result is None:
        print(f"  {run.name}: FAILED: {run.error}")
        return False
    result = run.result
    counts = f"{plural(len(result.articles), 'article')}, {plural(len(result.errors), 'problem')}"
    print(f"  {run.name}: {counts}")
    for problem in result.errors:
        print(_indent(str(problem), "    "))
    source_config = next(s for s in config.sources if s.name == run.name)
    if isinstance(source_config, ContentSourceConfig):
        print_missing_ids(files_without_id(result.state), source_config.path)
    return not result.errors


def print_missing_ids(missing: Sequence[tuple[str, str]], folder: Path) -> None:
    """The article files without an ``id:`` line, each with the line that keeps its id."""
    if not missing:
        return
    count = f"{len(missing)} article file{'' if len(missing) == 1 else 's'}"
    print(f"    {count} without an id: line (the store remembers their ids; a copied folder")
    print("    or a lost store would not). Add this line to each file's front matter:")
    for rel, article_id in missing:
        print(f"    {folder / rel}: id: {article_id}")


def print_backoff(status: SourceStatus, now: datetime) -> None:
    """Tell the admin a source has been failing, from the store's record."""
    if status.failures == 0:
        return
    waiting = ""
    if status.next_attempt is not None and status.next_attempt > now:
        waiting = f"; backing off until {status.next_attempt:%Y-%m-%d %H:%M} UTC"
    failed = plural(status.failures, "fetch", "fetches")
    print(f"  {status.source}: failed {failed} in a row{waiting}")
    print(f"    last error: {status.last_result}")


def cmd_fetch(args: argparse.Namespace) -> int:
    if nothing_to_fetch(args):
        return EXIT_OK
    from swfeed import pipeline
    from swfeed.store import Database

    config = load(args)
    config.check_source_names(args.source)
    if args.dry_run:
        from swfeed.cli.dryrun import print_dry_run

        runs = pipeline.dry_run(config, utc_now(), args.source)
        print_dry_run(runs, sys.stdout)
        return EXIT_RUNTIME if any(run.error for run in runs) else EXIT_OK
    with Database(config.store.path) as db:
        reports = pipeline.fetch(config, db, utc_now(), args.source, args.force)
    print_fetch(reports, sys.stdout)
    return EXIT_RUNTIME if any(report.error for report in reports) else EXIT_OK


def cmd_build(args: argparse.Namespace) -> int:
    if not args.force and nothing_to_build(args):
        return EXIT_OK
    from swfeed import pipeline
    from swfeed.store import Database

    config = load(args)
    with Database(config.store.path) as db:
        now = utc_now()
        report = pipeline.build(config, db, now, force=args.force)
        hubs = pipeline.notify_hubs(config, db, now)
    print_build(config, report, sys.stdout)
    print_hubs(hubs, sys.stdout)
    return EXIT_OK


def cmd_publish(args: argparse.Namespace) -> int:
    from swfeed import pipeline
    from swfeed.store import Database

    config = load(args)
    with Database(config.store.path) as db:
        result = pipeline.publish(config, db, utc_now())
    print_fetch(result.sources, sys.stdout)
    if result.build is not None:
        print_build(config, result.build, sys.stdout)
    print_hubs(result.hubs, sys.stdout)
    return EXIT_RUNTIME if any(report.error for report in result.sources) else EXIT_OK


def cmd_config_schema(args: argparse.Namespace) -> int:
    import json

    from swfeed.config import json_schema

    print(json.dumps(json_schema(), indent=2, sort_keys=True))
    return EXIT_OK


def cmd_config_reference(args: argparse.Namespace) -> int:
    from swfeed import configdoc

    print(configdoc.reference(), end="")
    return EXIT_OK


def print_fetch(reports: Sequence[SourceReport], out: TextIO) -> None:
    """One line per source: new / updated / unchanged / removed / merged / failed, then each
    merge (the same story as another source's) and each problem."""
    for report in reports:
        if report.skipped_until is not None:
            print(
                f"{report.name}: skipped, backing off until {report.skipped_until:%Y-%m-%d %H:%M} "
                "UTC (use --force to try now)",
                file=out,
            )
            continue
        if report.error is not None:
            print(f"{report.name}: FAILED", file=out)
            print(_indent(str(report.error), "  "), file=out)
            continue
        counts = report.counts
        note = " (not modified)" if report.not_modified else ""
        merged = f"{len(counts.merged)} merged, " if counts.merged else ""
        print(
            f"{report.name}: {counts.new} new, {counts.updated} updated, "
            f"{counts.unchanged} unchanged, {counts.removed} removed, {merged}"
            f"{report.failed} failed{note}",
            file=out,
        )
        for merge in counts.merged:
            print(f"  merged: {merge}", file=out)
        for problem in report.problems:
            print(_indent(str(problem), "  "), file=out)


def nothing_to_fetch(args: argparse.Namespace) -> bool:
    """A fetch with nothing to do, found (and reported) from what the validated-config
    cache keeps of the config, without loading it. False: the fetch must load it."""
    from swfeed.configpath import config_path
    from swfeed.fetchreport import unchanged_reports
    from swfeed.shortcuts import cached_shortcuts
    from swfeed.store import Database
    from swfeed.store.polls import Poll, record_polls

    if args.source or args.force or args.dry_run:
        return False
    shortcuts = cached_shortcuts(config_path(args.config))
    shortcut = shortcuts.fetch if shortcuts is not None else None
    if shortcut is None:
        return False
    now = utc_now()
    with Database(shortcut.store) as db:
        reports = unchanged_reports(shortcut, db, now)
    if reports is None:
        return False
    record_polls(shortcut.store, {report.name: Poll(now, report.outcome) for report in reports})
    print_fetch(reports, sys.stdout)
    return True


def nothing_to_build(args: argparse.Namespace) -> bool:
    """A build with nothing to do, found (and reported) from what the validated-config
    cache keeps of the config, without loading it. False: the build must load it."""
    from swfeed.buildstamp import check_build
    from swfeed.configpath import config_path
    from swfeed.shortcuts import cached_shortcuts
    from swfeed.store import Database

    shortcuts = cached_shortcuts(config_path(args.config))
    shortcut = shortcuts.build if shortcuts is not None else None
    if shortcut is None or shortcut.websub:
        return False
    with Database(shortcut.store) as db:
        _stamp, files = check_build(shortcut.facts, db, utc_now())
    if files is None:
        return False
    links = (shortcut.index_url, shortcut.autodiscovery_tags)
    print_build_lines((0, len(files)), shortcut.facts.output, links, sys.stdout)
    return True


def print_build(config: Config, report: WriteReport, out: TextIO) -> None:
    """What was written, and the autodiscovery tags for the site's <head>."""
    from swfeed.feeds import autodiscovery_tags
    from swfeed.feeds.directory import index_url

    counts = (len(report.written), len(report.unchanged))
    links = (index_url(config), autodiscovery_tags(config))
    print_build_lines(counts, config.output.path, links, out)


def print_build_lines(
    counts: tuple[int, int], output: Path, links: tuple[str, str], out: TextIO
) -> None:
    """The lines of ``print_build``: files (written, unchanged) in ``output``, the feeds
    page and the autodiscovery tags (``links``); also said from what the cache keeps."""
    written, unchanged = counts
    index, tags = links
    print(f"feeds: {written} written, {unchanged} unchanged in {output}", file=out)
    print(f"every feed, and how to subscribe: {index}", file=out)
    print("Add these to the <head> of the site's pages:", file=out)
    print(tags, file=out)


def print_hubs(reports: Sequence[HubReport], out: TextIO) -> None:
    """One line per WebSub hub pinged: how many feeds it took, or why not and when next."""
    for report in reports:
        if report.error is None:
            print(f"websub: {report.hub}: told of {_feeds(len(report.pinged))}", file=out)
            continue
        retry = f"{report.retry_at:%Y-%m-%d %H:%M} UTC" if report.retry_at else "later"
        print(
            f"websub: {report.hub}: FAILED, {_feeds(report.waiting)} waiting "
            f"(retried from {retry}): {report.error}",
            file=out,
        )


def _feeds(count: int) -> str:
    return "1 changed feed" if count == 1 else f"{count} changed feeds"


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())
