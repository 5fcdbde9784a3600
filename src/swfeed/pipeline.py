"""What the CLI and the daemon both call: fetch, build, publish, send the digest.

Each step takes the loaded ``Config``, an open ``Database`` and ``now`` (or a clock); each is
idempotent and safe to run twice, after a crash, or by hand while the daemon runs.
``send_digest`` is the one digest path: ``swfeed digest send`` and the daemon's weekly job
both decide with ``digest.due.decide_digest`` and act the same way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from swfeed.config import Config, ContentSourceConfig, SourceConfig
from swfeed.errors import SourceError, SwfeedError
from swfeed.fetchreport import FetchShortcut, FolderFacts, SourceReport
from swfeed.plaintext import plural
from swfeed.sources import UNLIMITED, FetchResult, WorkBudget, build_source
from swfeed.store import Database
from swfeed.store.articles import ArticleStore
from swfeed.store.polls import Poll, record_polls
from swfeed.stories import Merging

if TYPE_CHECKING:
    from swfeed.bounces.run import BounceRun
    from swfeed.delivery.send import ProgressCallback, SendSummary
    from swfeed.digest.due import DigestDecision
    from swfeed.feeds import WriteReport
    from swfeed.models import DigestIssue
    from swfeed.sources.http import FetchSession
    from swfeed.websub import HubReport

# Each step imports the parts it uses when it runs (HTTP, feeds, digest), so a command
# loads only what it needs: `swfeed fetch` of a content folder never loads the HTTP client
# or the feed writers.


@dataclass
class PublishReport:
    sources: list[SourceReport]
    build: WriteReport | None
    hubs: list[HubReport] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(report.counts.changed for report in self.sources)


#: How long a content folder may take to load (a remote source: see ``work_seconds``).
CONTENT_WORK_SECONDS = 60.0


def work_seconds(source_config: SourceConfig) -> float:
    """One source's deadline for all its work: a content folder's fixed one; a remote
    source's requests (each within ``http.total_timeout``, retries included) plus as long
    again to parse and sanitize what came."""
    if isinstance(source_config, ContentSourceConfig):
        return CONTENT_WORK_SECONDS
    return source_config.http.total_timeout * (source_config.http.retries + 2)


def fetch(
    config: Config,
    db: Database,
    now: datetime,
    only: Sequence[str] = (),
    force: bool = False,
    stop: threading.Event | None = None,
) -> list[SourceReport]:
    """Load new and changed articles from every source (or those named in ``only``).

    ``stop`` (the daemon's SIGTERM) ends the work early: a source under way stops at its
    next article, keeping what it loaded, and the sources after it wait for the next fetch.
    """
    articles = ArticleStore(db)
    session = _fetch_session(config)
    reports: list[SourceReport] = []
    for source in config.sources:
        if stop is not None and stop.is_set():
            break
        if not only or source.name in only:
            budget = WorkBudget(work_seconds(source), stop)
            reports.append(fetch_source(source, config, articles, now, force, session, budget))
    polled = {r.name: Poll(now, r.outcome) for r in reports if r.skipped_until is None}
    record_polls(config.store.path, polled)
    return reports


def _fetch_session(config: Config) -> FetchSession | None:
    """The HTTP session the remote sources of one run share (None without any)."""
    if all(isinstance(source, ContentSourceConfig) for source in config.sources):
        return None
    from swfeed.sources.http import FetchSession

    return FetchSession.for_config(config)


def fetch_shortcut(config: Config) -> FetchShortcut | None:
    """What ``swfeed fetch`` needs to tell, without ``config``, that it has nothing to do
    (see ``fetchreport``); None when a source is not a content folder."""
    from swfeed.sources.folderstate import settings_of

    folders = []
    for source in config.sources:
        if not isinstance(source, ContentSourceConfig):
            return None
        settings = settings_of(source, config)
        folders.append(FolderFacts(source.name, source.path, settings))
    return FetchShortcut(config.store.path, tuple(folders))


def fetch_source(
    source_config: SourceConfig,
    config: Config,
    articles: ArticleStore,
    now: datetime,
    force: bool = False,
    session: FetchSession | None = None,
    budget: WorkBudget = UNLIMITED,
) -> SourceReport:
    """Fetch one source; a failure is recorded and reported, never raised."""
    report = SourceReport(source_config.name)
    status = articles.source_status(source_config.name)
    if not force and status.next_attempt is not None and status.next_attempt > now:
        report.skipped_until = status.next_attempt
        return report
    try:
        source = build_source(source_config, config, session, budget)
        result = source.fetch(status.state, now, force=force)
    except Exception as exc:  # one source's failure never stops the others
        report.error = _record_failure(source_config.name, exc, status.failures, articles, now)
        return report
    summary = f"{plural(len(result.articles), 'article')}, {plural(len(result.errors), 'problem')}"
    merging = Merging(tuple(source.name for source in config.sources), config.site.zone)
    report.counts = articles.apply_fetch(
        source_config.name,
        result.articles,
        result.removed_ids,
        result.state,
        now,
        summary,
        merging,
        previous=status,
    )
    report.problems = list(result.errors) + [
        SourceError(
            source_config.name,
            f"article id {article_id!r} is already published by source {owner!r}; "
            "this copy was not stored",
            hint="Ids must be unique across sources: map or filter this entry out, "
            "or give it its own id.",
        )
        for article_id, owner in report.counts.refused
    ]
    report.not_modified = result.not_modified
    return report


def source_error(name: str, exc: Exception) -> SwfeedError:
    """A whole source's failure as the error to report."""
    if isinstance(exc, SwfeedError):
        return exc
    if isinstance(exc, OSError):
        return SourceError(name, str(exc))
    error = SourceError(
        name,
        f"unexpected {type(exc).__name__}: {exc}",
        hint="This is a bug in swfeed; run with --debug and report the traceback.",
    )
    error.__cause__ = exc
    return error


@dataclass
class DryRun:
    """What one source gave when loaded in full without storing anything."""

    name: str
    result: FetchResult | None = None
    error: SwfeedError | None = None


def dry_run(config: Config, now: datetime, only: Sequence[str] = ()) -> list[DryRun]:
    """Load every source (or those named in ``only``) in full, as ``fetch --force`` would,
    and store nothing: for ``check`` and ``fetch --dry-run``. The store, if there is one,
    is only read (for the ids it remembers)."""
    session = _fetch_session(config)
    db = Database.read_only(config.store.path)
    runs: list[DryRun] = []
    try:
        for source_config in config.sources:
            if only and source_config.name not in only:
                continue
            state = ArticleStore(db).source_status(source_config.name).state if db else {}
            try:
                source = build_source(source_config, config, session)
                runs.append(DryRun(source_config.name, source.fetch(state, now, force=True)))
            except Exception as exc:  # one source's failure never stops the others
                runs.append(DryRun(source_config.name, error=source_error(source_config.name, exc)))
    finally:
        if db is not None:
            db.close()
    return runs


def _record_failure(
    name: str, exc: Exception, failures: int, articles: ArticleStore, now: datetime
) -> SwfeedError:
    """Record a whole source's failure with its backoff; the error to report."""
    from swfeed.sources.http import FetchError, backoff_delay

    error = source_error(name, exc)
    delay = backoff_delay(failures + 1)
    if isinstance(exc, FetchError) and exc.retry_after:
        delay = max(delay, timedelta(seconds=exc.retry_after))  # capped by the client
    articles.record_failure(name, now, str(error), now + delay)
    return error


def build(config: Config, db: Database, now: datetime, *, force: bool = False) -> WriteReport:
    """Write every feed, the pages about them (index, OPML, stylesheet) and the content
    folders' images from what the store holds; owe the WebSub hubs a ping for each feed
    that changed (``notify_hubs`` sends them).

    Nothing is rendered when nothing they are made from changed since the last build of the
    same output folder and its files are intact (see ``feeds.stamp``), unless ``force``.
    """
    from swfeed.buildstamp import check_build, file_stats
    from swfeed.feeds import WriteReport
    from swfeed.feeds.stamp import build_facts
    from swfeed.store.builds import BuildRecord, BuildStore

    articles, builds = ArticleStore(db), BuildStore(db)
    facts = build_facts(config)
    # stamped before the articles are read: a write in between makes the next stamp differ
    stamp, current = check_build(facts, db, now)
    if current is not None and not force:
        return WriteReport(unchanged=[Path(name) for name in current], rendered=False)
    report = _render(config, db, articles, now)
    files = file_stats([*report.written, *report.unchanged])
    builds.save(BuildRecord(str(facts.output), stamp, articles.next_visible(now), files, now))
    return report


def _render(config: Config, db: Database, store: ArticleStore, now: datetime) -> WriteReport:
    """Render and write everything ``build`` makes; queue the pings for changed feeds."""
    from swfeed.feeds import feed_times, load_feed_articles, write_feeds
    from swfeed.feeds.build import changed_feed_urls
    from swfeed.feeds.directory import write_directory

    main, categories = load_feed_articles(store, config, now)
    shown = [*main, *(article for category in categories for article in category.articles)]
    times = feed_times(store, now, shown)
    report = write_feeds(config, main, categories, now=now, times=times)
    write_directory(config, [(c.slug, c.name) for c in categories], report)
    copy_media(config, report)
    if config.feeds.websub.hubs:
        from swfeed import websub

        websub.queue(config, db, changed_feed_urls(config, report), now)
    return report


def notify_hubs(
    config: Config, db: Database, now: datetime, stop: threading.Event | None = None
) -> list[HubReport]:
    """Send the WebSub pings that are due (after ``build``); never raises for a hub. With
    ``stop`` set no further ping starts (the rest stay owed)."""
    if not config.feeds.websub.hubs:
        return []
    from swfeed import websub

    return websub.notify_hubs(config, db, now, stop=stop)


def copy_media(config: Config, report: WriteReport) -> None:
    """Publish the images of content folders under ``<output>/media/<source>/`` (a folder
    that has gone is skipped: fetching it reports that)."""
    from swfeed.atomicfile import atomic_write
    from swfeed.sources.content import media_files

    for source in config.sources:
        if not isinstance(source, ContentSourceConfig) or not source.path.is_dir():
            continue
        for path, relative in media_files(source):
            target = config.output.path / relative
            changed = atomic_write(target, path.read_bytes())
            (report.written if changed else report.unchanged).append(target)


def publish(config: Config, db: Database, now: datetime) -> PublishReport:
    """Fetch, then build the feeds and tell the WebSub hubs: the main one-shot job."""
    sources = fetch(config, db, now)
    report = build(config, db, now)
    return PublishReport(sources, report, notify_hubs(config, db, now))


@dataclass(frozen=True, slots=True)
class DueDigest:
    """The issue a digest send is about, and what the catch-up rule decided for it."""

    period: str
    due: datetime
    decision: DigestDecision


@dataclass(frozen=True, slots=True)
class DigestRun:
    """What ``send_digest`` did: ``issue`` is None when it sent nothing (decided so, or
    nothing new with ``digest.skip_when_empty``); ``summary`` says how the send went."""

    due: DueDigest
    issue: DigestIssue | None = None
    summary: SendSummary | None = None


def decide_due(config: Config, db: Database, now: datetime, period: str | None = None) -> DueDigest:
    """The issue to act on (``period``, else the one due at ``now``) and the rule's verdict.

    A ``period`` the admin names is wanted whatever its lateness; the rest of the rule holds.
    """
    from swfeed.digest.due import decide_digest, digest_time_of, due_period
    from swfeed.digest.periods import parse_period
    from swfeed.store.deliveries import DeliveryStore
    from swfeed.store.issues import IssueStore

    if period is None:
        chosen, due = due_period(config, now)
    else:
        parse_period(period)
        chosen, due = period, digest_time_of(config, period)
    issues = IssueStore(db)
    decision = decide_digest(
        period=chosen,
        due=due,
        now=now,
        max_lateness=config.schedule.max_lateness,
        status=issues.status_of(chosen),
        started_sending=DeliveryStore(db).is_frozen(chosen),
        newest_period=issues.newest_period(),
        named=period is not None,
    )
    return DueDigest(chosen, due, decision)


def send_digest(
    config: Config,
    db: Database,
    clock: Callable[[], datetime],
    period: str | None = None,
    *,
    stop: threading.Event | None = None,
    progress: ProgressCallback | None = None,
    retry_unknown: bool = False,
    resume: bool = False,
    on_decision: Callable[[DueDigest], None] | None = None,
) -> DigestRun:
    """Decide about the due issue (or ``period``'s) and act: send or resume it, record it
    skipped, or do nothing. ``on_decision`` hears the verdict before anything is done.
    ``resume``: the admin carries on with an issue paused for its bounce rate."""
    from swfeed.digest.due import Action
    from swfeed.digest.freeze import ensure_issue
    from swfeed.store.issues import IssueStore

    now = clock()
    due = decide_due(config, db, now, period)
    if on_decision is not None:
        on_decision(due)
    if due.decision.action is Action.SKIP:
        IssueStore(db).skip(due.period, due.due, now, due.decision.reason)
    if due.decision.action is not Action.SEND:
        return DigestRun(due)
    issue = ensure_issue(config, db, now, due.period)
    if issue is None:
        return DigestRun(due)
    summary = deliver_issue(
        config, db, issue, clock, stop, progress, retry_unknown=retry_unknown, resume=resume
    )
    return DigestRun(due, issue, summary)


def deliver_issue(
    config: Config,
    db: Database,
    issue: DigestIssue,
    clock: Callable[[], datetime],
    stop: threading.Event | None = None,
    progress: ProgressCallback | None = None,
    *,
    retry_unknown: bool = False,
    resume: bool = False,
) -> SendSummary:
    """Send (or resume) a frozen issue: each subscriber gets their topics' variant."""
    from swfeed.delivery.send import send_issue
    from swfeed.digest.variants import TopicVariants

    variants = TopicVariants(config, db, issue)
    stop = stop or threading.Event()
    return send_issue(
        config,
        db,
        issue,
        clock,
        stop,
        progress,
        retry_unknown=retry_unknown,
        resume=resume,
        variants=variants,
    )


def read_bounces(config: Config, db: Database, now: datetime) -> BounceRun:
    """Handle the bounce mailbox's new mails (``swfeed bounces`` and the daemon)."""
    from swfeed.bounces.run import read_bounces as read

    return read(config, db, now)
