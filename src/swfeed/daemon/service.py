"""``swfeed run``: the long-running service that publishes and mails unattended.

The main thread runs one task at a time from a queue; APScheduler (see ``scheduler``) and
the signal watcher only put task names on it, so fetches, rebuilds and reloads never
overlap and a signal never interrupts a transaction. The digest's sends run in a worker
thread of their own (``digestjob.SendWorker``, its own store connection, one send at a
time), so a send rate-limited over hours holds up none of them.

- ``fetch`` (every ``schedule.fetch_every``): load new articles; rebuild the feeds only when
  an article was added, changed or removed, a future-dated one became visible, the config
  or templates changed, or a published file went missing (the build's stamp tells), and
  then ping the WebSub hubs (a ping that failed is retried at a later fetch when it is
  due). Then ask the worker to carry on with any issue whose sending started and is not
  finished.
- ``digest`` (weekly cron): fetch first, then ask the worker for the digest check: build
  and send the current period's issue.
- ``bounces`` (every ``bounces.check_every``, when configured): read the bounce mailbox and
  act on what came back (``swfeed bounces``); it fetches nothing.
- at start-up and after a config reload: the same digest check, which catches up a digest
  missed while the daemon was down (within ``schedule.max_lateness``) or records it skipped.

The store decides what is left to do (issue status and delivery ledger), so every task is
safe to run twice. SIGTERM/SIGINT finish the message in flight and exit 0; SIGHUP reloads
the config, all or nothing: the old config and jobs stay when the new one has errors.
"""

from __future__ import annotations

import os
import queue
import signal
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler

from swfeed import pipeline, websub
from swfeed.config import Config, load_config
from swfeed.daemon.clock import Clock
from swfeed.daemon.lock import DaemonInfo, DaemonLock
from swfeed.daemon.logs import get_logger
from swfeed.daemon.scheduler import (
    BOUNCES_JOB,
    DIGEST_JOB,
    FETCH_JOB,
    build_scheduler,
    install_jobs,
    next_run_times,
    plan_jobs,
)
from swfeed.daemon.sendworker import SendWorker, guarded
from swfeed.digest.due import digest_enabled
from swfeed.errors import ConfigErrors, SwfeedError
from swfeed.fetchreport import SourceReport
from swfeed.store import Database
from swfeed.store.articles import ArticleStore
from swfeed.websub import HubReport

log = get_logger("swfeed.daemon")

STARTUP = "startup"
RELOAD = "reload"
STOP = "stop"
STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT})
WATCHED_SIGNALS = STOP_SIGNALS | {signal.SIGHUP}


class Daemon:
    """The service: one store, one config (reloadable), a queue of tasks, a send worker."""

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
        self.problems: dict[str, set[str]] = {}
        self.started = clock.now()
        self.rejected: tuple[datetime, str] | None = None
        self.scheduler: BackgroundScheduler = build_scheduler(config, clock, self.wake)
        self.sender = SendWorker(config.store.path, lambda: self.config, clock, self.stop)

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
        try:
            self.sender.start()
            self.scheduler.start()
            self.log_start()
            self.wake(STARTUP)
            while not self.stop.is_set():
                self.run_next()
        finally:
            if self.scheduler.running:
                self.scheduler.shutdown(wait=False)
            self.close()
        log.info("stopped")
        return 0

    def log_start(self) -> None:
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

    def close(self) -> None:
        """Wait for the send worker (it stops after the message in flight), close the store."""
        self.stop.set()
        self.sender.close()
        self.db.close()

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
        """Every task fetches, then hands the digest work to the send worker (a fetch only
        finishes started issues; the others also run the digest check)."""
        if task == BOUNCES_JOB:
            self.guarded(task, lambda: self.read_bounces(self.clock.now()))
            return
        if task == RELOAD:
            self.guarded(task, self.reload)
        self.guarded(task, lambda: self.fetch(self.clock.now()))
        if not self.stop.is_set():
            self.sender.request(check=task != FETCH_JOB)
        self.guarded(task, self.publish_info)

    def guarded(self, task: str, step: Callable[[], None]) -> None:
        """Run one step unless stopping; log its failure, never let it end the daemon."""
        guarded(task, self.stop, step)

    def publish_info(self) -> None:
        times = next_run_times(self.scheduler, self.clock)
        self.lock.publish(
            DaemonInfo(
                pid=os.getpid(),
                started=self.started,
                config=str(self.config_path),
                next_fetch=times.get(FETCH_JOB),
                next_digest=times.get(DIGEST_JOB),
                rejected_at=self.rejected[0] if self.rejected else None,
                rejected=self.rejected[1] if self.rejected else None,
            )
        )

    # -- fetch -----------------------------------------------------------------------------

    def fetch(self, now: datetime) -> None:
        """Load every source; rebuild the feeds when what they are made from changed (the
        build itself finds out, cheaply: see ``feeds.stamp``); send the pings due."""
        reports = pipeline.fetch(self.config, self.db, now, stop=self.stop)
        articles = ArticleStore(self.db)
        for report in reports:
            seen = self.problems.get(report.name, set())
            self.problems[report.name] = log_source(report, articles, seen)
        written = pipeline.build(self.config, self.db, now)
        if not written.rendered:
            # pings still owed: failed ones, and the issues feed's after a digest
            due = websub.next_due(self.config, self.db)
            if due is not None and now >= due:
                self.notify_hubs(now)
            return
        log.info(
            "feeds_built",
            written=len(written.written),
            unchanged=len(written.unchanged),
            articles=ArticleStore(self.db).count(),
        )
        self.notify_hubs(now)

    def notify_hubs(self, now: datetime) -> None:
        """Send the WebSub pings due (those that fail are retried at a later fetch)."""
        for report in pipeline.notify_hubs(self.config, self.db, now, self.stop):
            log_hub(report)

    # -- bounces ---------------------------------------------------------------------------

    def read_bounces(self, now: datetime) -> None:
        """Handle the bounce mailbox's new mails; one line for each that changed something."""
        run = pipeline.read_bounces(self.config, self.db, now)
        for item in run.handled:
            if item.event is not None:
                log.info(
                    "bounce_handled",
                    kind=item.event.value,
                    period=item.period,
                    address=item.address,
                    action=item.action,
                )
        if run.handled:
            log.info("bounces_read", mails=len(run.handled), seen_before=run.again)

    # -- reload ----------------------------------------------------------------------------

    def reload(self) -> None:
        """Re-read the config file and apply it; keep the running one if it has errors."""
        try:
            config = load_config(self.config_path)
        except SwfeedError as exc:
            errors = exc.errors if isinstance(exc, ConfigErrors) else [exc]
            for error in errors:
                log.error("config_error", error=str(error))
            log.error("config_rejected", path=str(self.config_path), kept="previous config")
            first = str(errors[0]).splitlines()[0]
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            self.rejected = (self.clock.now(), first + more)
            return
        self.apply_config(config)

    def apply_config(self, config: Config) -> bool:
        """Switch to ``config`` and its jobs, all or nothing: the new jobs are made first,
        and if that fails the running config and jobs stay as they were."""
        if config.store.path != self.config.store.path:
            return self.reject("store.path changed; restart `swfeed run` to switch stores")
        try:
            triggers = plan_jobs(config, self.clock)
        except Exception as exc:  # any failure keeps the old config and jobs
            return self.reject(f"cannot schedule its jobs: {exc}")
        self.config = config
        install_jobs(self.scheduler, triggers, self.wake)
        log.info("config_reloaded", path=str(self.config_path))
        self.rejected = None
        return True

    def reject(self, error: str) -> bool:
        log.error(
            "config_rejected", path=str(self.config_path), error=error, kept="previous config"
        )
        self.rejected = (self.clock.now(), error)
        return False


def log_source(report: SourceReport, articles: ArticleStore, seen: set[str]) -> set[str]:
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
            merged=len(counts.merged),
        )
    if report.error is not None or report.skipped_until is not None:
        return seen
    current = {str(problem) for problem in report.problems}
    for text in sorted(current - seen):
        log.warning("article_problem", source=report.name, error=text)
    return current


def log_hub(report: HubReport) -> None:
    """One line per hub pinged: the feeds it took, or the error and the next attempt."""
    if report.error is None:
        log.info("websub_pinged", hub=report.hub, feeds=len(report.pinged), waiting=report.waiting)
        return
    log.warning(
        "websub_failed",
        hub=report.hub,
        error=report.error,
        waiting=report.waiting,
        next_attempt=report.retry_at.isoformat() if report.retry_at else None,
    )


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


def serve_until_stopped(config_path: Path, clock: Clock) -> int:
    """Load the config, take the store's daemon lock, serve until stopped."""
    config = load_config(config_path)
    lock = DaemonLock(config.store.path)
    lock.acquire()
    try:
        return Daemon(config_path, config, clock, lock).serve()
    finally:
        lock.release()
