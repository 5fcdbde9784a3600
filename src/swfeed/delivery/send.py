"""The ledger run: every active subscriber gets a frozen issue once, even across crashes.

``send_issue`` is what the CLI and the scheduler call. It

1. takes the store's ``send`` lock (a second sender gets ``BusyError`` naming the issue in
   progress; a lock whose holder died is taken over, see ``swfeed.store.locks``);
2. with ``retry_unknown`` (the admin's decision), puts ``unknown`` rows back to ``pending``;
3. recovers rows a dead sender left in ``sending``: sent again if its data was incomplete,
   else ``unknown`` (at most one per crash, and only for a crash between the message's
   final dot and the relay's reply);
4. freezes the recipient list into ledger rows the first time the issue is sent, each
   row with the variant its subscriber gets (``variants``: one per distinct topic set,
   made once and stored with the rows; a set with nothing new gets no email);
5. builds each variant's message once, then for each due row: checks the subscriber is still active,
   claims the row just before DATA (an atomic ``UPDATE`` that succeeds only while the row is
   still to send and this run still holds the lock; a row someone else has is skipped),
   hands the message over and commits the outcome; deferred rows are retried with
   exponential backoff while the run's retry window lasts, and by later runs after it;
6. stops early, leaving the rest for the next run, on ``stop_event`` (after the message in
   flight), after ``max_consecutive_errors`` errors in a row, or on a ``DeliveryError``;
7. stops with ``BusyError``, sending nothing more, when it finds it lost the lock (its
   heartbeat or a claim fails): another sender took over while this one was stopped;
8. puts the issue on hold (status ``paused``) when its hard-bounce rate passes
   ``delivery.max_bounce_rate`` after ``delivery.bounce_rate_after`` messages: the list may
   be stale or bought, and sending on would hurt the sender's name. Only the admin resumes
   it (``resume=True``, ``digest send --resume``); the rate is then judged afresh on what
   that run sends;
9. after a ``421`` (the relay says slow down) waits before the next message, twice as long
   for each 421 in a row (``delivery.smtp.slow_down_delay``, at most ten minutes).

Each message's envelope sender is a VERP address naming issue and recipient when
``delivery.bounce_address`` is set (see ``verp``); every message goes out through
``outgoing.open_transport``, which signs it when ``delivery.dkim`` is set.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from swfeed.config import Config
from swfeed.delivery.message import MessageSettings, MessageTemplate, Recipient, build_template
from swfeed.delivery.outgoing import open_transport
from swfeed.delivery.settings import delivery_config, message_settings, verp_settings
from swfeed.delivery.transport import Attempt, Envelope, Transport
from swfeed.delivery.verp import Kind, Verp
from swfeed.errors import BusyError, DeliveryError
from swfeed.mailinglist.unsubqueue import apply_queued
from swfeed.models import DigestIssue
from swfeed.store import Database
from swfeed.store.bounces import BounceStore, Rates
from swfeed.store.deliveries import (
    CLAIMED,
    OPEN,
    Delivery,
    DeliveryStore,
    Fence,
    Outcome,
    State,
    Variant,
)
from swfeed.store.issues import IssueRecord, IssueStore
from swfeed.store.locks import LockHolder, LockStore, new_owner

SEND_LOCK = "send"
HEARTBEAT_SECONDS = 30.0
MAX_BACKOFF = timedelta(days=1)
MAX_SLOW_DOWN = 600.0
PAUSED = "paused"
RESUMED = "resumed by the admin after a pause"
#: Messages between two looks at the issue's hard-bounce rate.
RATE_CHECK_EVERY = 10
FREEZE_ATTEMPTS = 3

Clock = Callable[[], datetime]


class Variants(Protocol):
    """Makes what the subscribers with one topic set get (``topics`` as stored: sorted
    slugs, comma-separated, '' for all): a ``Variant`` (``topics`` '' for the whole
    issue), or None when nothing in the issue is on their topics."""

    def __call__(self, topics: str) -> Variant | None: ...


def whole_issue(topics: str) -> Variant | None:
    """Everyone gets the whole issue (no topic filtering)."""
    return Variant("")


@dataclass
class SendSummary:
    """What one run did (``run``) and where the whole issue stands (``totals``)."""

    period: str
    totals: dict[State, int]
    run: Counter[State] = field(default_factory=Counter)
    recovered: list[str] = field(default_factory=list)
    paused: str | None = None
    stopped: bool = False
    retried: int = 0
    on_hold: bool = False
    slowed: int = 0
    rates: Rates | None = None

    @property
    def done(self) -> bool:
        """True when no recipient is left to attempt."""
        return not any(self.totals[s] for s in (State.PENDING, State.DEFERRED, State.SENDING))

    @property
    def total(self) -> int:
        return sum(self.totals.values())


@dataclass(frozen=True, slots=True)
class Progress:
    """Reported after each message: how far the run is."""

    done: int
    total: int
    run: Counter[State]


ProgressCallback = Callable[[Progress], None]


def lock_stale_after(config: Config) -> timedelta:
    """How long without a heartbeat before a ``send`` lock counts as abandoned."""
    delivery = config.delivery
    data_timeout = delivery.smtp.data_timeout if delivery and delivery.smtp else 600.0
    return max(timedelta(minutes=15), timedelta(seconds=2 * data_timeout + HEARTBEAT_SECONDS))


def send_issue(
    config: Config,
    db: Database,
    issue: DigestIssue,
    now_fn: Clock,
    stop_event: threading.Event | None = None,
    progress: ProgressCallback | None = None,
    transport: Transport | None = None,
    *,
    retry_unknown: bool = False,
    resume: bool = False,
    variants: Variants | None = None,
) -> SendSummary:
    """Send ``issue`` to its recipients, resuming where an earlier run stopped.

    ``retry_unknown`` first puts rows with an unknown outcome back (under the lock, so a
    busy store changes nothing). An issue on hold (``paused``) is sent on only with
    ``resume``; without it the summary says so and nothing is sent. ``variants`` makes each
    topic set's version when the recipient list is frozen (default: everyone gets the
    whole issue).
    """
    settings = message_settings(config)
    verp = verp_settings(config)
    lock = SendLock.take(LockStore(db, lock_stale_after(config)), issue.period, now_fn)
    try:
        apply_queued(db, now_fn())  # unsubscribes a busy store made `swfeed serve` queue
        ledger = DeliveryStore(db)
        record = IssueStore(db).record(issue.period)
        held = record is not None and record.status == PAUSED
        if held and not resume:
            return SendSummary(
                issue.period,
                ledger.counts(issue.period),
                paused=_held(issue.period),
                on_hold=True,
                rates=BounceStore(db).rates(issue.period),
            )
        if held:
            IssueStore(db).set_status(issue.period, "sending", now_fn(), RESUMED)
            record = IssueStore(db).record(issue.period)
        watch = _BounceWatch(BounceStore(db), config, issue.period, _resumed_at(record))
        retried = ledger.retry_unknown(issue.period, now_fn()) if retry_unknown else 0
        recovered = ledger.recover_in_flight(issue.period, now_fn())
        freeze_recipients(ledger, issue.period, variants or whole_issue, now_fn)
        stop = stop_event or threading.Event()
        templates = Templates(issue, settings, ledger, now_fn())
        run = _Run(config, ledger, templates, now_fn, stop, lock, progress, verp, watch)
        active = transport or open_transport(config)
        try:
            run.run(active)
        finally:
            active.close()
        ledger.finish(issue.period, now_fn())
        if run.on_hold:
            IssueStore(db).set_status(issue.period, PAUSED, now_fn(), run.paused)
        totals = ledger.counts(issue.period)
    finally:
        lock.release()
    return SendSummary(
        issue.period,
        totals,
        run.counts,
        recovered,
        run.paused,
        run.stopped,
        retried,
        run.on_hold,
        run.slowed,
        BounceStore(db).rates(issue.period),
    )


def _resumed_at(record: IssueRecord | None) -> datetime | None:
    """When the admin resumed this issue after a pause (its rate is judged from then on)."""
    if record is None or record.note != RESUMED:
        return None
    return record.status_changed


def _held(period: str) -> str:
    return (
        f"issue {period} is paused: its hard-bounce rate passed delivery.max_bounce_rate; "
        f"see `swfeed status` and `swfeed bounces`, then resume with "
        f"`swfeed digest send --period {period} --resume`"
    )


class _BounceWatch:
    """Judges an issue's hard-bounce rate while it is sent.

    ``since`` None: over the whole issue (every run's messages and every hard bounce);
    after the admin resumed a paused issue: over the messages and bounces since then.
    """

    def __init__(
        self, bounces: BounceStore, config: Config, period: str, since: datetime | None
    ) -> None:
        delivery = delivery_config(config)
        self.bounces = bounces
        self.period = period
        self.since = since
        self.limit = delivery.max_bounce_rate
        self.after = delivery.bounce_rate_after

    def verdict(self, handed_this_run: int) -> str | None:
        """Why the issue must pause now, or None."""
        if self.since is None:
            rates = self.bounces.rates(self.period)
            handed, hard = rates.handed_over, rates.hard
        else:
            handed, hard = handed_this_run, self.bounces.hard_since(self.period, self.since)
        if handed < self.after or hard <= self.limit * handed:
            return None
        return (
            f"paused: {hard} hard bounces in {handed} messages ({hard / handed:.1%}) passed "
            f"delivery.max_bounce_rate {self.limit:.1%}"
        )


def freeze_recipients(
    ledger: DeliveryStore, period: str, variants: Variants, now_fn: Clock
) -> None:
    """Freeze the recipient list with each topic set's variant, once.

    The variants are made outside the transaction; if a subscriber meanwhile chose a
    topic set that was not made, they are made again.
    """
    for _attempt in range(FREEZE_ATTEMPTS):
        if ledger.is_frozen(period):
            return
        made = {topics: variants(topics) for topics in ledger.topic_sets(now_fn())}
        if ledger.freeze(period, now_fn(), made) is not None:
            return
    raise DeliveryError(
        f"could not freeze the recipients of {period}: subscribers kept changing topics",
        hint="Run the send again: it freezes the list as it then stands.",
    )


class Templates:
    """Each variant's message, built once (when its first recipient comes up)."""

    def __init__(
        self, issue: DigestIssue, settings: MessageSettings, ledger: DeliveryStore, date: datetime
    ) -> None:
        self.issue = issue
        self.settings = settings
        self.ledger = ledger
        self.date = date
        self.whole = build_template(issue, settings, date)
        self._made: dict[str, MessageTemplate] = {"": self.whole}

    def of(self, topics: str) -> MessageTemplate:
        """The message of the variant a ledger row names."""
        if topics not in self._made:
            variant = self.ledger.variant(self.issue.period, topics)
            if variant is None:
                raise DeliveryError(
                    f"issue {self.issue.period} has no variant for topics {topics!r}",
                    hint="The store is damaged: restore it from a backup.",
                )
            version = replace(
                self.issue,
                subject=variant.subject,
                html=variant.html,
                text=variant.text,
                article_ids=variant.article_ids,
            )
            self._made[topics] = build_template(version, self.settings, self.date)
        return self._made[topics]


@dataclass(frozen=True, slots=True)
class SendLock:
    """This run's hold on the store's ``send`` lock."""

    locks: LockStore
    owner: str
    period: str
    now: Clock

    @classmethod
    def take(cls, locks: LockStore, period: str, now_fn: Clock) -> SendLock:
        """Take the lock for ``period``, or raise ``BusyError`` naming the issue in progress."""
        owner = new_owner()
        holder = locks.acquire(SEND_LOCK, owner, period, now_fn())
        if holder is not None:
            raise _busy(holder, now_fn())
        return cls(locks, owner, period, now_fn)

    @property
    def fence(self) -> Fence:
        """Ledger writes so fenced happen only while this run holds the lock."""
        return (SEND_LOCK, self.owner)

    def beat(self) -> None:
        """Refresh the heartbeat; ``BusyError`` (stop: send nothing more) if the lock was lost."""
        if not self.locks.heartbeat(SEND_LOCK, self.owner, self.now()):
            raise _lost(self.period, self.locks.holder(SEND_LOCK))

    def release(self) -> None:
        self.locks.release(SEND_LOCK, self.owner)


def _busy(holder: LockHolder, now: datetime) -> BusyError:
    message = (
        f"issue {holder.detail} is already being sent by process {holder.pid} on "
        f"{holder.host} (since {holder.acquired:%Y-%m-%d %H:%M} UTC)"
    )
    if now - holder.heartbeat <= timedelta(seconds=4 * HEARTBEAT_SECONDS):
        return BusyError(message)
    return BusyError(
        f"{message}; no sign of life from it since {holder.heartbeat:%Y-%m-%d %H:%M} UTC",
        hint="If that process is stopped (Ctrl-Z) or hung, resume it (fg) or end it: "
        "its lock is freed as soon as it is gone.",
    )


def _lost(period: str, holder: LockHolder | None) -> BusyError:
    who = f"process {holder.pid} on {holder.host}" if holder else "another process"
    return BusyError(
        f"stopped sending issue {period}: {who} took over the send lock while this run was "
        "held up, so this run sent nothing more",
        hint="This sender was stopped, suspended or asleep for too long. The other sender "
        f"carries on; `swfeed digest send --period {period}` later finishes what is left.",
    )


class _Run:
    """The state of one pass over the ledger."""

    def __init__(
        self,
        config: Config,
        ledger: DeliveryStore,
        templates: Templates,
        now_fn: Clock,
        stop_event: threading.Event,
        lock: SendLock,
        progress: ProgressCallback | None,
        verp: Verp | None = None,
        watch: _BounceWatch | None = None,
    ) -> None:
        self.delivery = delivery_config(config)
        smtp = self.delivery.smtp
        self.slow_down_delay = smtp.slow_down_delay if smtp is not None else 5.0
        self.verp = verp
        self.watch = watch
        self.on_hold = False
        self.slowed = self.slow_downs_in_a_row = 0
        self.ledger = ledger
        self.templates = templates
        self.template = templates.whole
        self.now = now_fn
        self.stop_event = stop_event
        self.lock = lock
        self.counts: Counter[State] = Counter()
        self.errors_in_a_row = 0
        self.paused: str | None = None
        self.progress = progress
        self.total = 0
        self._last_start = self._last_beat = 0.0

    @property
    def stopped(self) -> bool:
        return self.stop_event.is_set()

    def run(self, transport: Transport) -> None:
        period = self.template.period
        counts = self.ledger.counts(period)
        self.total = counts[State.PENDING] + counts[State.DEFERRED]
        deadline = self.now() + self.delivery.retry_window
        while not self.stopped and self.paused is None:
            batch = self.ledger.due(period, self.now())
            if batch:
                self._batch(batch, transport)
            elif not self._wait_for_retry(deadline):
                return

    def _batch(self, batch: list[Delivery], transport: Transport) -> None:
        """Attempt rows read a moment ago; each is claimed afresh, so none can go out twice."""
        for row in batch:
            if self.stopped or self.paused is not None:
                return
            self._one(row, transport)
            if self.progress is not None:
                self.progress(Progress(sum(self.counts.values()), self.total, self.counts))

    def _wait_for_retry(self, deadline: datetime) -> bool:
        """Sleep until the next deferred row is due, if that is within the window."""
        wake = self.ledger.next_retry(self.template.period)
        if wake is None or wake > deadline:
            return False
        self.lock.beat()
        delay = max(0.0, (wake - self.now()).total_seconds())
        return not self.stop_event.wait(delay)

    def _one(self, row: Delivery, transport: Transport) -> None:
        if not self.ledger.subscriber_active(row.address):
            self._settle(row, Outcome(State.SKIPPED, "no longer subscribed when its turn came"))
            return
        self._pace(transport.min_interval)
        if self.stopped:
            return
        template = self.templates.of(row.topics)
        sender = template.settings.from_address
        if self.verp is not None:
            sender = self.verp.sender(Kind.ISSUE, row.address, template.period)
        envelope = Envelope(sender, row.address, template.id_for(row.address))
        recipient = Recipient(row.address, row.name, row.subscriber_id)
        message = template.render(recipient, transport.dot_stuffed)
        claim = _Claim(self.ledger, template.period, row.address, self.now, self.lock.fence)
        try:
            attempt = transport.send(envelope, message, claim, claim.before_end)
        except DeliveryError:
            if claim.claimed:
                self.ledger.record(
                    template.period,
                    row.address,
                    Outcome(State.PENDING),
                    self.now(),
                    only_from=CLAIMED,
                )
            raise
        if attempt is None:
            self.lock.beat()  # the claim failed: stop here if the lock was lost, else skip it
            return
        self._settle(row, self._outcome(row, attempt), claimed=claim.claimed)
        self._slow_down(attempt)

    def _slow_down(self, attempt: Attempt) -> None:
        """After a 421, wait (doubling for each one in a row); a message sent resets it."""
        if not attempt.slow_down:
            if attempt.state is State.SENT:
                self.slow_downs_in_a_row = 0
            return
        self.slowed += 1
        self.slow_downs_in_a_row += 1
        delay = slow_down_wait(self.slow_down_delay, self.slow_downs_in_a_row)
        self.stop_event.wait(delay)

    def _outcome(self, row: Delivery, attempt: Attempt) -> Outcome:
        if attempt.state is not State.DEFERRED:
            return Outcome(attempt.state, attempt.reply, bounced=attempt.bounced)
        attempts = row.attempts + 1
        if attempts >= self.delivery.max_attempts:
            return Outcome(State.FAILED, f"gave up after {attempts} attempts: {attempt.reply}")
        delay = min(self.delivery.retry_delay * 2 ** (attempts - 1), MAX_BACKOFF)
        return Outcome(State.DEFERRED, attempt.reply, next_attempt=self.now() + delay)

    def _settle(self, row: Delivery, outcome: Outcome, claimed: bool = False) -> None:
        """Commit an outcome: of a row this run claimed, or (fenced) of one still open."""
        fence = None if claimed else self.lock.fence
        only_from = CLAIMED if claimed else OPEN
        if not self.ledger.record(
            self.template.period, row.address, outcome, self.now(), only_from=only_from, fence=fence
        ):
            self.lock.beat()  # not recorded: stop here if the lock was lost, else skip the row
            return
        self._count(row, outcome)
        if time.monotonic() - self._last_beat >= HEARTBEAT_SECONDS:
            self._last_beat = time.monotonic()
            self.lock.beat()

    def _judge_bounces(self) -> None:
        """Every few messages, put the issue on hold if its hard-bounce rate is too high."""
        handed = sum(self.counts[s] for s in (State.SENT, State.FAILED, State.UNKNOWN))
        if self.watch is None or handed % RATE_CHECK_EVERY:
            return
        verdict = self.watch.verdict(handed)
        if verdict is not None:
            self.paused, self.on_hold = verdict, True

    def _count(self, row: Delivery, outcome: Outcome) -> None:
        self.counts[outcome.state] += 1
        if outcome.state is not State.DEFERRED:
            self._judge_bounces()
        if outcome.state in (State.SENT, State.SKIPPED):
            self.errors_in_a_row = 0
        else:
            self.errors_in_a_row += 1
        if self.errors_in_a_row >= self.delivery.max_consecutive_errors:
            self.paused = (
                f"paused after {self.errors_in_a_row} errors in a row; the last: "
                f"{row.address}: {outcome.reply}"
            )

    def _pace(self, interval: float) -> None:
        """Wait so that message starts are at least ``interval`` seconds apart."""
        if interval > 0:
            wait = self._last_start + interval - time.monotonic()
            if wait > 0:
                self.stop_event.wait(wait)
        self._last_start = time.monotonic()


def slow_down_wait(first: float, in_a_row: int) -> float:
    """Seconds to wait after the ``in_a_row``-th 421 in a row: first, 2×, 4×, … ≤ 10 min."""
    return min(first * 2.0 ** (in_a_row - 1), MAX_SLOW_DOWN)


@dataclass(slots=True)
class _Claim:
    """``before_data`` for one message: claims its ledger row (fenced by the lock)."""

    ledger: DeliveryStore
    period: str
    address: str
    now: Clock
    fence: Fence
    claimed: bool = False

    def __call__(self) -> bool:
        self.claimed = self.ledger.claim(self.period, self.address, self.now(), self.fence)
        return self.claimed

    def before_end(self) -> None:
        """The data is complete but for its end: from here a crash leaves it ``unknown``."""
        self.ledger.awaiting_reply(self.period, self.address, self.now())


def send_test(config: Config, issue: DigestIssue, address: str, now: datetime) -> Attempt:
    """Send ``issue`` to one address outside the ledger (a test send): no lock, no rows.

    The copy is marked as a test (``[TEST] `` subject, ``X-Swfeed-Test: yes``) and has a
    Message-ID of its own, so it is never mistaken for (or replaces) a subscriber's copy.
    """
    template = build_template(issue, message_settings(config), now, test=True)
    verp = verp_settings(config)
    sender = template.settings.from_address
    if verp is not None:
        sender = verp.sender(Kind.TEST, address, issue.period)
    envelope = Envelope(sender, address, template.id_for(address))
    transport = open_transport(config)
    message = template.render(Recipient(address), transport.dot_stuffed)
    try:
        attempt = transport.send(envelope, message, lambda: True)
    finally:
        transport.close()
    return attempt or Attempt(State.PENDING, "not handed over")


@dataclass(frozen=True, slots=True)
class Plan:
    """What ``send_issue`` would do now (a dry run): who gets the issue, and how."""

    period: str
    subject: str
    size: int
    method: str
    recipients: list[tuple[str, str]]
    totals: dict[State, int]
    frozen: bool


def plan(config: Config, db: Database, issue: DigestIssue, now: datetime) -> Plan:
    """The dry run: reads the ledger and the list, changes nothing."""
    template = build_template(issue, message_settings(config), now)
    ledger = DeliveryStore(db)
    frozen = ledger.is_frozen(issue.period)
    if frozen:
        waiting = ledger.pending_addresses(issue.period)
        recipients = [row for row in waiting if ledger.subscriber_active(row[0])]
    else:
        recipients = ledger.recipients(now)
    return Plan(
        period=issue.period,
        subject=template.subject,
        size=template.size,
        method=delivery_config(config).method,
        recipients=recipients,
        totals=ledger.counts(issue.period),
        frozen=frozen,
    )
