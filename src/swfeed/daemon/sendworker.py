"""The daemon's digest work: decide, build, send, resume; in a thread of its own.

``DigestJob`` is one pass over the store: the digest check for the latest scheduled digest
time (send, resume or skip its issue), then finishing every issue whose sending started.
``max_lateness`` only stops a stale issue from *starting*: once a message of an issue has
been handed over, the daemon keeps resuming it, however late, until its ledger has no row
left to attempt (deferred rows when they come due; a row that used up
``delivery.max_attempts`` is marked failed by the delivery code).

``SendWorker`` runs these passes in a thread with its own store connection, one at a time,
so a send rate-limited over hours never holds up fetching, feed rebuilds or a reload on
the daemon's main loop. Requests made while a pass runs are merged into the next pass.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from swfeed import pipeline
from swfeed.config import Config
from swfeed.daemon.clock import Clock
from swfeed.daemon.logs import get_logger
from swfeed.delivery.send import SendSummary
from swfeed.digest.due import Action, digest_enabled
from swfeed.errors import BusyError, SwfeedError
from swfeed.models import DigestIssue
from swfeed.store import Database
from swfeed.store.deliveries import DeliveryStore, State
from swfeed.store.issues import IssueStore

log = get_logger("swfeed.daemon")

#: How many of the newest issues are checked for a send a crash left unsettled (a row
#: still ``sending``); older unfinished issues are found through their pending rows.
RECENT_ISSUES = 10


def guarded(task: str, stop: threading.Event, step: Callable[[], None]) -> None:
    """Run one step unless stopping; log its failure, never let it end the daemon."""
    if stop.is_set():
        return
    try:
        step()
    except BusyError as exc:
        log.info("task_deferred", task=task, reason=exc.message)
    except SwfeedError as exc:
        log.error("task_failed", task=task, error=str(exc))
    except Exception:
        log.exception("task_crashed", task=task)


class DigestJob:
    """One pass of digest work with one config and one store connection."""

    def __init__(self, config: Config, db: Database, clock: Clock, stop: threading.Event) -> None:
        self.config = config
        self.db = db
        self.clock = clock
        self.stop = stop

    def run(self, check: bool) -> None:
        """The digest check (when ``check``), then finishing every issue that started."""
        if not digest_enabled(self.config):
            return
        handled: set[str] = set()
        if check:
            guarded("digest", self.stop, lambda: handled.update(self.check()))
        guarded("resume", self.stop, lambda: self.finish_started(self.clock.now(), handled))

    # -- the digest check --------------------------------------------------------------

    def check(self) -> set[str]:
        """Send, resume or skip the due issue (``pipeline.send_digest``, the same path as
        ``swfeed digest send``); the period sent or resumed (none, or one)."""
        run = pipeline.send_digest(
            self.config, self.db, self.clock.now, stop=self.stop, on_decision=log_decision
        )
        if run.due.decision.action is not Action.SEND:
            return set()
        if run.summary is None:
            log.info("digest_empty", period=run.due.period, reason="no new articles")
        else:
            log_summary(run.summary)
        return {run.due.period}

    # -- finishing what started --------------------------------------------------------

    def finish_started(self, now: datetime, handled: set[str]) -> None:
        """Resume every issue whose sending started and is not done, oldest first, however
        late; skip those in ``handled`` and those whose rows are all deferred to later."""
        issues = IssueStore(self.db)
        for period in self.started_periods():
            record = issues.record(period)
            if self.stop.is_set() or period in handled or record is None:
                continue
            if record.status == "sending" and has_work(DeliveryStore(self.db), period, now):
                log.info("digest_resumed", period=period, reason="sending started, not finished")
                self.deliver(record.issue)

    def started_periods(self) -> list[str]:
        """Periods with rows still to attempt, and recent issues left ``sending``."""
        periods = set(DeliveryStore(self.db).unfinished_periods())
        recent = IssueStore(self.db).list(RECENT_ISSUES)
        periods.update(record.issue.period for record in recent if record.status == "sending")
        return sorted(periods)

    def deliver(self, issue: DigestIssue) -> None:
        """Send (or resume) a frozen issue; log where it stands."""
        log_summary(pipeline.deliver_issue(self.config, self.db, issue, self.clock.now, self.stop))


def log_decision(due: pipeline.DueDigest) -> None:
    """One line for what the catch-up rule decided."""
    decision = due.decision
    if decision.action is Action.NOTHING:
        log.info("digest_checked", period=due.period, reason=decision.reason)
    elif decision.action is Action.SKIP:
        log.warning(
            "digest_skipped", period=due.period, due=due.due.isoformat(), reason=decision.reason
        )
    else:
        log.info("digest_due", period=due.period, due=due.due.isoformat(), reason=decision.reason)


def log_summary(summary: SendSummary) -> None:
    """Where a sent (or resumed) issue stands."""
    if summary.done:
        log.info("digest_sent", **summary_fields(summary))
    elif summary.on_hold:
        log.warning(
            "digest_paused",
            reason=summary.paused,
            resume=f"swfeed digest send --period {summary.period} --resume",
            **summary_fields(summary),
        )
    elif summary.paused:
        log.warning("digest_paused", reason=summary.paused, **summary_fields(summary))
    else:
        log.info("digest_unfinished", stopped=summary.stopped, **summary_fields(summary))


def has_work(ledger: DeliveryStore, period: str, now: datetime) -> bool:
    """Whether a send of ``period`` would do something now: rows pending, a row a crash
    left ``sending``, a deferred row come due, or nothing left but marking it sent."""
    counts = ledger.counts(period)
    if counts[State.PENDING] or counts[State.SENDING]:
        return True
    if counts[State.DEFERRED]:
        return bool(ledger.due(period, now, limit=1))
    return True


def summary_fields(summary: SendSummary) -> dict[str, object]:
    """Where the issue stands (per delivery state) and what this run did, as log fields."""
    fields: dict[str, object] = {"period": summary.period}
    for state in (State.SENT, State.DEFERRED, State.FAILED, State.UNKNOWN, State.PENDING):
        fields[state.value] = summary.totals.get(state, 0)
    fields["this_run"] = sum(summary.run.values())
    if summary.rates is not None:
        fields["hard_bounces"] = summary.rates.hard
        fields["complaints"] = summary.rates.complaints
    if summary.recovered:
        fields["marked_unknown"] = ",".join(summary.recovered)
    return fields


class SendWorker:
    """Digest passes in a thread with their own store connection, one at a time.

    ``request(check)`` asks for a pass (from any thread); requests made while a pass runs
    are merged into one more pass after it. ``stop`` (the daemon's stop event) ends a send
    after the message in flight; ``close`` then waits for the thread and closes the store.
    """

    def __init__(
        self,
        store: Path,
        config: Callable[[], Config],
        clock: Clock,
        stop: threading.Event,
    ) -> None:
        self.store = store
        self.config = config
        self.clock = clock
        self.stop = stop
        self.wanted = threading.Event()
        self.check_wanted = False
        self.lock = threading.Lock()
        self.db: Database | None = None
        # daemon=True only as a safety net: ``close`` always waits for it
        self.thread = threading.Thread(target=self._loop, name="sender", daemon=True)

    def start(self) -> None:
        """Open the worker's own connection (errors surface here) and start the thread."""
        self.db = Database(self.store)
        self.thread.start()

    def request(self, check: bool) -> None:
        """Ask for a pass; ``check``: include the digest check, not only finishing."""
        with self.lock:
            self.check_wanted = self.check_wanted or check
        self.wanted.set()

    def close(self) -> None:
        """Wait for the pass in progress (it stops after its message in flight) to end."""
        self.wanted.set()
        if self.thread.is_alive():
            self.thread.join()
        if self.db is not None:
            self.db.close()
            self.db = None

    def _loop(self) -> None:
        while not self.stop.is_set():
            if not self.wanted.wait(1.0) or self.stop.is_set():
                continue
            self.wanted.clear()
            with self.lock:
                check, self.check_wanted = self.check_wanted, False
            assert self.db is not None
            DigestJob(self.config(), self.db, self.clock, self.stop).run(check)
