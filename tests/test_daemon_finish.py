"""An issue whose sending started is finished however late it is: everyone gets it once.

``max_lateness`` only stops the daemon from *starting* a stale issue. These tests run the
daemon's digest pass in-process against a real SMTP server, with a half-sent issue in a
real store and the test clock set days after the digest time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from swfeed.config import load_config
from swfeed.daemon.clock import Clock
from swfeed.daemon.sendworker import DigestJob
from swfeed.store import Database
from swfeed.store.deliveries import DeliveryStore, Outcome, State
from swfeed.store.issues import IssueStore
from tests.daemonsite import Site, issue_status, make_site
from tests.smtpfixture import ScriptedHandler, SmtpServer, make_issue

DUE = datetime(2026, 3, 23, 9, tzinfo=UTC)
PERIOD = "2026-W13"


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    with SmtpServer(ScriptedHandler()) as running:
        yield running


@pytest.fixture
def site(tmp_path: Path, server: SmtpServer) -> Site:
    made = make_site(tmp_path / "site")
    made.write_config(smtp_port=server.port)
    return made


def half_send(site: Site, deferred_until: datetime) -> list[str]:
    """Freeze W13 for three readers: the first sent, the second deferred, the third pending."""
    first, second, third = site.add_subscribers(3)
    db = Database(site.store)
    try:
        IssueStore(db).create(make_issue(PERIOD))
        ledger = DeliveryStore(db)
        ledger.freeze(PERIOD, DUE)
        ledger.record(PERIOD, first, Outcome(State.SENT, "250 ok"), DUE)
        deferred = Outcome(State.DEFERRED, "451 later", next_attempt=deferred_until)
        ledger.record(PERIOD, second, deferred, DUE)
    finally:
        db.close()
    return [first, second, third]


def digest_pass(site: Site, now: datetime, check: bool = False) -> dict[State, int]:
    """One pass of the daemon's digest work at clock time ``now``; the ledger's counts."""
    db = Database(site.store)
    try:
        clock = Clock(start=now, real_start=datetime.now(UTC))
        DigestJob(load_config(site.config), db, clock, threading.Event()).run(check)
        return DeliveryStore(db).counts(PERIOD)
    finally:
        db.close()


def test_half_sent_issue_past_max_lateness_is_finished(site: Site, server: SmtpServer) -> None:
    """Two days after the digest time (max_lateness 12h) the rest of the list gets it."""
    _first, second, third = half_send(site, deferred_until=DUE + timedelta(days=1))
    counts = digest_pass(site, DUE + timedelta(days=2))
    assert counts[State.SENT] == 3
    assert server.handler.received == {second: 1, third: 1}
    assert issue_status(site, PERIOD) == "sent"


def test_digest_check_past_max_lateness_resumes_instead_of_leaving_it(
    site: Site, server: SmtpServer
) -> None:
    """The digest check (start-up, cron) resumes a late half-sent issue, never skips it."""
    half_send(site, deferred_until=DUE + timedelta(days=1))
    counts = digest_pass(site, DUE + timedelta(days=2), check=True)
    assert counts[State.SENT] == 3
    assert issue_status(site, PERIOD) == "sent"


def test_half_sent_issue_of_an_earlier_week_is_finished(site: Site, server: SmtpServer) -> None:
    """A week later, with the next period current, last week's issue is still finished."""
    _first, second, third = half_send(site, deferred_until=DUE + timedelta(days=1))
    digest_pass(site, datetime(2026, 4, 1, 12, tzinfo=UTC))
    assert server.handler.received == {second: 1, third: 1}
    assert issue_status(site, PERIOD) == "sent"


def test_deferred_row_waits_until_it_is_due(site: Site, server: SmtpServer) -> None:
    """A deferred recipient is not retried before its time; the issue stays sending."""
    _first, second, third = half_send(site, deferred_until=DUE + timedelta(days=3))
    digest_pass(site, DUE + timedelta(days=2))
    assert server.handler.received == {third: 1}
    assert issue_status(site, PERIOD) == "sending"
    digest_pass(site, DUE + timedelta(days=3, minutes=1))
    assert server.handler.received == {second: 1, third: 1}
    assert issue_status(site, PERIOD) == "sent"


def test_message_in_flight_at_a_crash_is_settled_later(site: Site, server: SmtpServer) -> None:
    """A row a crash left awaiting the relay's reply is marked unknown, not resent, and the
    issue ends."""
    _first, second, third = half_send(site, deferred_until=DUE + timedelta(days=1))
    db = Database(site.store)
    try:
        ledger = DeliveryStore(db)
        ledger.record(PERIOD, second, Outcome(State.SENT, "250 ok"), DUE)
        assert ledger.claim(PERIOD, third, DUE)
        assert ledger.awaiting_reply(PERIOD, third, DUE)
    finally:
        db.close()
    counts = digest_pass(site, datetime(2026, 4, 8, 12, tzinfo=UTC))
    assert server.handler.received.total() == 0
    assert counts[State.UNKNOWN] == 1
    assert issue_status(site, PERIOD) == "sent"
