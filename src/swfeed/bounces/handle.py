"""Acting on report mails: only a valid VERP token names whom a report is about.

- a hard bounce (5.1.x, 5.2.1) marks the address ``bounced``;
- a soft bounce (4.x.x, 5.2.2 full, other 5.x.x) is counted; the address is marked
  ``bounced`` once its copies of ``bounces.soft_limit`` issues in a row soft-bounced;
- a policy rejection (5.7.x) is counted and reported, nothing more: it says more about
  what we sent (a DKIM or DMARC mistake) than about the address;
- a complaint (ARF) unsubscribes the address for good: ``complained``, which no import
  brings back;
- a delay notice, an auto-reply, a test copy's bounce, and anything without a valid token
  change nothing (a forged bounce can unsubscribe nobody).

Status changes come first and are idempotent; then the mail is remembered with its
events in one transaction. A crash in between handles the mail again with the same result.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from swfeed.bounces.report import Report, ReportKind, read_report
from swfeed.delivery.verp import Kind, Token, Verp, address_id
from swfeed.store import Database
from swfeed.store.bounces import BounceEvent, BounceStore, EventKind
from swfeed.store.subscribers import Status, SubscriberStore


@dataclass(frozen=True, slots=True)
class Handled:
    """What one mail was and what was done about it."""

    name: str
    what: str
    period: str | None
    address: str | None
    action: str
    event: EventKind | None = None

    @property
    def line(self) -> str:
        """One line for the report: ``NAME: what (issue, address): action``."""
        about = ", ".join(part for part in (self.period, self.address) if part)
        return f"{self.name}: {self.what}{f' ({about})' if about else ''}: {self.action}"


class BounceHandler:
    """Handles report mails against one store; caches the address ids of each issue."""

    def __init__(self, db: Database, verp: Verp, soft_limit: int, now: datetime) -> None:
        self.db = db
        self.verp = verp
        self.soft_limit = soft_limit
        self.now = now
        self.bounces = BounceStore(db)
        self.subscribers = SubscriberStore(db)
        self._index: dict[str | None, dict[bytes, str]] = {}

    def handle(self, raw: bytes, name: str) -> Handled | None:
        """Act on one mail; None when this very mail was handled before (move it on)."""
        digest = hashlib.sha256(raw).hexdigest()
        if self.bounces.handled(digest):
            return None
        report = read_report(raw, self.verp)
        handled = self._act(report, name)
        events = []
        if handled.event is not None and handled.address is not None:
            status = report.failure.status if report.failure else None
            detail = report.failure.diagnostic if report.failure else report.subject
            events.append(
                BounceEvent(handled.period, handled.address, handled.event, status, detail)
            )
        self.bounces.record_mail(digest, name, handled.line, events, self.now)
        return handled

    def _act(self, report: Report, name: str) -> Handled:
        what = _describe(report)
        if report.kind in (ReportKind.AUTO_REPLY, ReportKind.UNRECOGNISED):
            return Handled(name, what, None, None, "nothing changed")
        token = report.token
        if token is None:
            return Handled(name, what, None, None, "ignored: no swfeed token in it")
        if token.kind is Kind.TEST:
            return Handled(name, what, token.period, None, "a test copy: nothing changed")
        address = self._resolve(token)
        if address is None:
            return Handled(name, what, token.period, None, "ignored: its token is not valid")
        event = report.event
        if event is None:
            return Handled(name, what, token.period, address, "nothing changed")
        action = self._apply(event, address, token.period, report)
        return Handled(name, what, token.period, address, action, event)

    def _apply(self, event: EventKind, address: str, period: str | None, report: Report) -> str:
        if event is EventKind.COMPLAINT:
            changed = self._set(address, Status.COMPLAINED, f"complaint about {period or 'a mail'}")
            return "unsubscribed for good (complained)" if changed else "already off the list"
        if event is EventKind.HARD:
            status = report.failure.status if report.failure else "5.0.0"
            changed = self._set(address, Status.BOUNCED, f"hard bounce {status} ({period})")
            return "marked bounced" if changed else "counted (already off the list)"
        if event is EventKind.SOFT and period is not None:
            streak = self.bounces.soft_streak(address, period, also=period)
            if streak >= self.soft_limit:
                note = f"soft bounces on {streak} issues in a row (last {period})"
                changed = self._set(address, Status.BOUNCED, note)
                return f"marked bounced after {streak} issues in a row" if changed else "counted"
            return f"counted ({streak} of {self.soft_limit} in a row)"
        if event is EventKind.POLICY:
            return "counted: a policy rejection says more about the mail than the address"
        return "nothing changed"

    def _set(self, address: str, status: Status, note: str) -> bool:
        """Take an address off the list (complaints over any status; bounces only of an
        active one); True if it changed."""
        current = self.subscribers.get(address)
        if current is None or current.status is status:
            return False
        if status is Status.BOUNCED and current.status is not Status.ACTIVE:
            return False
        return self.subscribers.set_status(address, status, self.now, note)

    def _resolve(self, token: Token) -> str | None:
        """The address a token names, if swfeed made it for one of the candidates."""
        index = self._index.get(token.period)
        if index is None:
            if token.kind is Kind.ISSUE and token.period is not None:
                candidates = self.bounces.recipients(token.period)
            else:
                candidates = [subscriber.address for subscriber in self.subscribers.all()]
            index = {
                address_id(secret, address): address
                for secret in self.verp.secrets
                for address in candidates
            }
            self._index[token.period] = index
        address = index.get(token.address_id)
        if address is None or not token.names(self.verp.secrets, address):
            return None
        return address


def _describe(report: Report) -> str:
    if report.kind is not ReportKind.BOUNCE:
        return report.kind.value
    failure = report.failure
    status = failure.status if failure and failure.status else "no status code"
    event = report.event
    if event is EventKind.DELAYED:
        return f"delay notice {status}"
    return f"{event.value if event else 'unclassified'} bounce {status}"
