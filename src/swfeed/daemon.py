"""``swfeed run``: the long-running service that publishes and mails unattended.

The main thread runs one task at a time from a queue; APScheduler (see ``scheduler``) and
the signal watcher only put task names on it. So the jobs never overlap, share one store
connection safely, and a signal never interrupts a transaction.

- ``fetch`` (every ``schedule.fetch_every``): load new articles; rebuild the feeds only when
  an article was added, changed or removed, or a future-dated one became visible. Then
  resume the current issue if it is half sent (deferred recipients, or a stop mid-send).
- ``digest`` (weekly cron): fetch first, then build and send the current period's issue.
- at start-up and after a config reload: the same digest check, which catches up a digest
  missed while the daemon was down (within ``schedule.max_lateness``) or records it skipped.

The store decides what is left to do (issue status and delivery ledger), so every task is
safe to run twice. SIGTERM/SIGINT finish the message in flight and exit 0; SIGHUP reloads
the config, keeping the old one when the new one has errors.
"""

from __future__ import annotations

import os
import queue
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler

from swfeed import pipeline
from swfeed.clock import Clock
from swfeed.config import Config, load_config
from swfeed.daemonlock import DaemonInfo, DaemonLock
from swfeed.delivery.send import SendSummary, send_issue
from swfeed.digest.build import ensure_issue
from swfeed.digest.periods import period_of
from swfeed.errors import BusyError, ConfigErrors, SwfeedError
from swfeed.logs import get_logger
from swfeed.models import DigestIssue
from swfeed.scheduler import (
    DIGEST_JOB,
    FETCH_JOB,
    add_jobs,
    build_scheduler,
    digest_enabled,
    latest_digest_time,
    next_run_times,
)
from swfeed.store import Database
from swfeed.store.articles import ArticleStore
from swfeed.store.deliveries import DeliveryStore, State
from swfeed.store.issues import IssueStore

log = get_logger("swfeed.daemon")

STARTUP = "startup"
RELOAD = "reload"
STOP = "stop"
PLACEHOLDER = "skipped by the daemon"
STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT})
WATCHED_SIGNALS = STOP_SIGNALS | {signal.SIGHUP}


class Action(Enum):
    """What the digest check decided for the current period."""

    NOTHING = "nothing"
    SEND = "send"
    SKIP = "skip"
    STALE = "stale"


@dataclass(frozen=True, slots=True)
class DigestDecision:
    action: Action
    reason: str


def decide_digest(
    *,
    period: str,
    due: datetime,
    now: datetime,
    max_lateness: timedelta,
    status: str | None,
    started_sending: bool,
    newest_period: str | None,
) -> DigestDecision:
    """The catch-up rule for the issue of the latest scheduled digest time ``due``."""
    if status in ("sent", "skipped"):
        return DigestDecision(Action.NOTHING, f"issue already {status}")
    if newest_period is not None and newest_period > period:
        return DigestDecision(Action.NOTHING, f"a newer issue ({newest_period}) exists")
    late = now - due
    if late <= max_lateness:
        verb = "resume" if started_sending else "send"
        return DigestDecision(Action.SEND, f"{verb}: {_span(late)} after the digest time")
    if started_sending:
        return DigestDecision(
            Action.STALE, f"half sent and {_span(late)} late (max_lateness exceeded)"
        )
    return DigestDecision(
        Action.SKIP, f"{_span(late)} late, more than max_lateness {_span(max_lateness)}"
    )


def _span(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m"


class Daemon:
    """The service: one store, one config (reloadable), a queue of tasks."""

    def __init__(self, config_path: Path, config: Config, clock: Clock, lock: DaemonLock) -> None:
        self.config_path = config_path
        self.config = config
        self.clock = clock
        self.lock = lock
        self.db = Database(config.store.path)
        self.stop = threading.Event()
        self.tasks: queue.Queue[str] = queue.Queue()
        self.queued: set[str] = set()
        self.queued_lock = threading.Lock()
        self.fingerprint: str | None = None
        self.problems: dict[str, set[str]] = {}
        self.started = clock.now()
        self.scheduler: BackgroundScheduler = build_scheduler(config, clock, self.wake)

    def wake(self, task: str) -> None:
        """Ask the main loop to run ``task`` (from any thread); a task already queued and
        not yet started is not queued twice, so a slow fetch never piles up wake-ups."""
        with self.queued_lock:
            if task in self.queued:
                return
            self.queued.add(task)
        self.tasks.put(task)

    def serve(self) -> int:
        """Run until SIGTERM/SIGINT; the exit code."""
        watch_signals(self.on_signal)
        self.scheduler.start()
        log.info(
            "started",
            config=str(self.config_path),
            store=str(self.config.store.path),
            zone=self.config.site.timezone,
            fetch_every=self.config.schedule.model_dump(mode="json")["fetch_every"],
            digest=self.config.schedule.digest if digest_enabled(self.config) else "off",
            test_clock=not self.clock.is_real,
            now=self.clock.now().isoformat(),
        )
        self.wake(STARTUP)
        try:
            while not self.stop.is_set():
                self.run_next()
        finally:
            self.scheduler.shutdown(wait=False)
            self.db.close()
        log.info("stopped")
        return 0

    def on_signal(self, signum: int) -> None:
        if signum in STOP_SIGNALS:
            log.info("stopping", signal=signal.Signals(signum).name)
            self.stop.set()
            self.wake(STOP)
        else:
            self.wake(RELOAD)

    def run_next(self) -> None:
        """Run the next queued task (waits up to a second for one)."""
        try:
            task = self.tasks.get(timeout=1.0)
        except queue.Empty:
            return
        with self.queued_lock:
            self.queued.discard(task)
        if task != STOP:
            self.run_task(task)

    def run_task(self, task: str) -> None:
        """Every task fetches, then checks the digest; each step fails on its own."""
        if task == RELOAD:
            self.guarded(task, self.reload)
        self.guarded(task, lambda: self.fetch(self.clock.now()))
        if task == FETCH_JOB:
            self.guarded(task, lambda: self.resume_digest(self.clock.now()))
        else:
            self.guarded(task, lambda: self.check_digest(self.clock.now()))
        self.guarded(task, self.publish_info)

    def guarded(self, task: str, step: Callable[[], None]) -> None:
        """Run one step unless stopping; log its failure, never let it end the daemon."""
        if self.stop.is_set():
            return
        try:
            step()
        except BusyError as exc:
            log.info("task_deferred", task=task, reason=exc.message)
        except SwfeedError as exc:
            log.error("task_failed", task=task, error=str(exc))
        except Exception:
            log.exception("task_crashed", task=task)

    def publish_info(self) -> None:
        times = next_run_times(self.scheduler, self.clock)
        self.lock.publish(
            DaemonInfo(
                pid=os.getpid(),
                started=self.started,
                config=str(self.config_path),
                next_fetch=times.get(FETCH_JOB),
                next_digest=times.get(DIGEST_JOB),
            )
        )

    # -- fetch -----------------------------------------------------------------------------

    def fetch(self, now: datetime) -> None:
        """Load every source; rebuild the feeds when what they show changed."""
        reports = pipeline.fetch(self.config, self.db, now)
        articles = ArticleStore(self.db)
        for report in reports:
            seen = self.problems.get(report.name, set())
            self.problems[report.name] = log_source(report, articles, seen)
        fingerprint = articles.newest_change(now)
        changed = any(report.counts.changed for report in reports)
        if not changed and fingerprint == self.fingerprint:
            return
        written = pipeline.build(self.config, self.db, now)
        self.fingerprint = fingerprint
        log.info(
            "feeds_built",
            written=len(written.written),
            unchanged=len(written.unchanged),
            articles=ArticleStore(self.db).count(),
        )

    # -- digest ----------------------------------------------------------------------------

    def check_digest(self, now: datetime) -> None:
        """Send, resume or skip the issue of the latest scheduled digest time."""
        if not digest_enabled(self.config):
            return
        period, due = self.current_period(now)
        decision = self.decide(period, due, now)
        if decision.action is Action.NOTHING:
            log.info("digest_checked", period=period, reason=decision.reason)
        elif decision.action is Action.SEND:
            log.info("digest_due", period=period, due=due.isoformat(), reason=decision.reason)
            self.send(period, now)
        elif decision.action is Action.SKIP:
            self.skip(period, due, now, decision.reason)
        else:
            log.warning("digest_stale", period=period, reason=decision.reason)

    def resume_digest(self, now: datetime) -> None:
        """Between digest times: carry on with the current issue if it is half sent."""
        if not digest_enabled(self.config):
            return
        period, due = self.current_period(now)
        record = IssueStore(self.db).record(period)
        if record is None or record.status != "sending":
            return
        ledger = DeliveryStore(self.db)
        waiting = ledger.due(period, now, limit=1) or ledger.counts(period)[State.SENDING]
        if waiting and self.decide(period, due, now).action is Action.SEND:
            self.send(period, now)

    def current_period(self, now: datetime) -> tuple[str, datetime]:
        zone = self.config.site.zone
        due = latest_digest_time(self.config.schedule, zone, now)
        return period_of(due, zone), due

    def decide(self, period: str, due: datetime, now: datetime) -> DigestDecision:
        issues = IssueStore(self.db)
        record = issues.record(period)
        newest = issues.latest()
        return decide_digest(
            period=period,
            due=due,
            now=now,
            max_lateness=self.config.schedule.max_lateness,
            status=record.status if record else None,
            started_sending=DeliveryStore(self.db).is_frozen(period),
            newest_period=newest.period if newest else None,
        )

    def send(self, period: str, now: datetime) -> None:
        """Build (once) and send (or resume) the issue of ``period``."""
        existing = IssueStore(self.db).get(period)
        if existing is not None and is_placeholder(existing):
            IssueStore(self.db).set_status(period, "skipped", now, "placeholder: never sent")
            return
        issue = ensure_issue(self.config, self.db, now, period)
        if issue is None:
            log.info("digest_empty", period=period, reason="no new articles")
            return
        summary = send_issue(self.config, self.db, issue, self.clock.now, self.stop)
        if summary.done:
            log.info("digest_sent", **summary_fields(summary))
        elif summary.paused:
            log.warning("digest_paused", reason=summary.paused, **summary_fields(summary))
        else:
            log.info("digest_unfinished", stopped=summary.stopped, **summary_fields(summary))

    def skip(self, period: str, due: datetime, now: datetime, reason: str) -> None:
        issues = IssueStore(self.db)
        if issues.record(period) is None:
            issues.create(skipped_issue(period, due, now))
        issues.set_status(period, "skipped", now, f"not sent: {reason}")
        log.warning("digest_skipped", period=period, due=due.isoformat(), reason=reason)

    # -- reload ----------------------------------------------------------------------------

    def reload(self) -> None:
        """Re-read the config file; keep the running one if the new one has errors."""
        try:
            config = load_config(self.config_path)
        except SwfeedError as exc:
            for error in exc.errors if isinstance(exc, ConfigErrors) else [exc]:
                log.error("config_error", error=str(error))
            log.error("config_rejected", path=str(self.config_path), kept="previous config")
            return
        if config.store.path != self.config.store.path:
            log.error(
                "config_rejected",
                path=str(self.config_path),
                error="store.path changed; restart `swfeed run` to switch stores",
                kept="previous config",
            )
            return
        self.config = config
        self.fingerprint = None
        add_jobs(self.scheduler, config, self.clock, self.wake)
        log.info("config_reloaded", path=str(self.config_path))


def skipped_issue(period: str, due: datetime, now: datetime) -> DigestIssue:
    """An empty placeholder row that records a period as skipped (it holds no articles)."""
    return DigestIssue(
        period=period,
        cutoff=due,
        subject="",
        html="",
        text="",
        article_ids=(),
        created=now,
        extra={"placeholder": PLACEHOLDER},
    )


def is_placeholder(issue: DigestIssue) -> bool:
    """Whether ``issue`` is a row that only records a skipped period."""
    return issue.extra.get("placeholder") == PLACEHOLDER


def summary_fields(summary: SendSummary) -> dict[str, object]:
    """Where the issue stands (per delivery state) and what this run did, as log fields."""
    fields: dict[str, object] = {"period": summary.period}
    for state in (State.SENT, State.DEFERRED, State.FAILED, State.UNKNOWN, State.PENDING):
        fields[state.value] = summary.totals.get(state, 0)
    fields["this_run"] = sum(summary.run.values())
    if summary.recovered:
        fields["marked_unknown"] = ",".join(summary.recovered)
    return fields


def log_source(report: pipeline.SourceReport, articles: ArticleStore, seen: set[str]) -> set[str]:
    """One line per source that failed, backed off or changed, and one per problem not in
    ``seen`` (a broken file is reported once, not at every fetch); the problems now known."""
    if report.error is not None:
        status = articles.source_status(report.name)
        retry = status.next_attempt.isoformat() if status.next_attempt else None
        log.warning(
            "source_failed",
            source=report.name,
            error=report.error.message,
            failures=status.failures,
            next_attempt=retry,
        )
    elif report.skipped_until is not None:
        log.info("source_backoff", source=report.name, until=report.skipped_until.isoformat())
    elif report.counts.changed:
        counts = report.counts
        log.info(
            "source_changed",
            source=report.name,
            new=counts.new,
            updated=counts.updated,
            removed=counts.removed,
        )
    if report.error is not None or report.skipped_until is not None:
        return seen
    current = {str(problem) for problem in report.problems}
    for text in sorted(current - seen):
        log.warning("article_problem", source=report.name, error=text)
    return current


def watch_signals(handler: Callable[[int], None]) -> threading.Thread:
    """Deliver SIGTERM, SIGINT and SIGHUP to ``handler`` in a thread of their own.

    The signals are blocked in every thread and collected with ``sigwait``, so the handler
    runs outside the main thread's work: never inside a transaction or a lock it holds.
    Call this before starting any other thread (they inherit the mask).
    """
    signal.pthread_sigmask(signal.SIG_BLOCK, WATCHED_SIGNALS)

    def watch() -> None:
        while True:
            handler(signal.sigwait(WATCHED_SIGNALS))

    thread = threading.Thread(target=watch, name="signals", daemon=True)
    thread.start()
    return thread


def run_daemon(config_path: Path, clock: Clock) -> int:
    """Load the config, take the store's daemon lock, serve until stopped."""
    config = load_config(config_path)
    lock = DaemonLock(config.store.path)
    lock.acquire()
    try:
        return Daemon(config_path, config, clock, lock).serve()
    finally:
        lock.release()
