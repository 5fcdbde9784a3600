"""``swfeed run`` end to end: the daemon as a real subprocess against a copy of the sample
site, with the test-only clock so that weeks pass in seconds, and a real SMTP server."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest

from swfeed.daemon.lock import running_daemon
from swfeed.store import Database
from swfeed.store.deliveries import DeliveryStore, State
from tests.daemonsite import (
    FAST,
    DaemonProcess,
    Site,
    clock,
    issue_status,
    make_site,
    periods_received,
    running,
    wait_until,
)
from tests.smtpfixture import ScriptedHandler, SmtpServer

pytestmark = pytest.mark.slow

WEEK_IN_3S = 7 * 24 * 3600 / 3.0
TEN_HOURS_A_SECOND = 36_000.0


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return make_site(tmp_path / "site")


def feed_titles(site: Site) -> set[str]:
    return {entry.title for entry in feedparser.parse(site.atom.read_bytes()).entries}


def ledger(site: Site, period: str) -> dict[State, int]:
    db = Database(site.store)
    try:
        return DeliveryStore(db).counts(period)
    finally:
        db.close()


def once_each(recipients: list[str], periods: list[str]) -> Counter[tuple[str, str]]:
    return Counter({(address, period): 1 for address in recipients for period in periods})


def test_new_article_is_published_within_one_fetch_interval(site: Site) -> None:
    """An article dropped into the content folder is in the feeds one fetch later."""
    site.write_config(fetch_every="10s")  # the least allowed; 1 s here with the clock x10
    with running(site, FAST) as daemon:
        daemon.wait_event("feeds_built")
        assert "Rwanda to send all-woman peacekeeping force to South Sudan" in feed_titles(site)
        site.add_article("new-story", "Women mediators meet in Kigali", "2026-01-20")
        wait_until(lambda: "Women mediators meet in Kigali" in feed_titles(site), timeout=5)
        daemon.wait_event("source_changed", new=1)
        assert daemon.stop() == 0
    assert daemon.named("stopped")


SLOW_NEWS = "Published while the digest goes out"
SLOW_RECIPIENTS = 8


@contextmanager
def slow_send(site: Site, fetch_every: str) -> Iterator[tuple[DaemonProcess, SmtpServer]]:
    """A daemon that has started the digest to 8 readers through a relay taking 1 s each."""
    with SmtpServer(ScriptedHandler(data_delay=1.0)) as server:
        site.write_config(fetch_every=fetch_every, smtp_port=server.port)
        site.add_subscribers(SLOW_RECIPIENTS)
        with running(site, clock("2026-03-23T09:01:00+00:00", 10)) as daemon:
            wait_until(lambda: server.handler.received.total() >= 1, 30, "the send to start")
            yield daemon, server


def test_fetch_publishes_while_a_slow_send_is_in_progress(site: Site) -> None:
    """A new article reaches the feeds while a slow relay is still taking the digest."""
    with slow_send(site, fetch_every="10s") as (daemon, server):
        site.add_article("during-send", SLOW_NEWS, "2026-03-23")
        wait_until(lambda: SLOW_NEWS in feed_titles(site), timeout=6, what="the new article")
        still_sending = server.handler.received.total() < SLOW_RECIPIENTS
        assert daemon.stop() == 0
    assert still_sending
    assert not daemon.named("digest_sent")


def test_sighup_is_applied_while_a_slow_send_is_in_progress(site: Site) -> None:
    """A config reload takes effect during a long send, which carries on afterwards."""
    with slow_send(site, fetch_every="1h") as (daemon, server):
        site.write_config(fetch_every="2h", smtp_port=server.port)
        daemon.signal(signal.SIGHUP)
        daemon.wait_event("config_reloaded", timeout=6)
        still_sending = server.handler.received.total() < SLOW_RECIPIENTS
        daemon.wait_event("digest_sent", period="2026-W13", timeout=20)
        assert daemon.stop() == 0
        received = periods_received(server.handler)
    assert still_sending
    assert sorted(received.values()) == [1] * SLOW_RECIPIENTS


def test_one_issue_per_week_for_two_weeks_across_the_spring_change(site: Site) -> None:
    """Weekly digests on 23 March, 30 March (after the DST change), 6 April: once each."""
    site.add_article("thursday-story", "Peacekeepers trained in Accra", "2026-03-26 10:00")
    site.add_article("next-thursday", "Women police officers honoured", "2026-04-02 10:00")
    with SmtpServer(ScriptedHandler()) as server:
        site.write_config(fetch_every="6h", max_lateness="3d", smtp_port=server.port)
        recipients = site.add_subscribers(3)
        start = clock("2026-03-21T00:00:00+00:00", WEEK_IN_3S)
        with running(site, start) as daemon:
            daemon.wait_event("digest_sent", period="2026-W15", timeout=20)
            assert daemon.stop() == 0
        received = periods_received(server.handler)
    assert received == once_each(recipients, ["2026-W13", "2026-W14", "2026-W15"])
    assert issue_status(site, "2026-W12") == "skipped"
    assert {"Peacekeepers trained in Accra", "Women police officers honoured"} <= feed_titles(site)


def test_autumn_double_firing_sends_the_issue_once(site: Site) -> None:
    """A Sunday 01:30 digest fires twice on 25 October 2026 in London; one issue goes out."""
    with SmtpServer(ScriptedHandler()) as server:
        site.write_config(digest="sunday 01:30", fetch_every="6h", smtp_port=server.port)
        recipients = site.add_subscribers(3)
        start = clock("2026-10-24T12:00:00+00:00", TEN_HOURS_A_SECOND)
        with running(site, start) as daemon:
            daemon.wait_event("digest_sent", period="2026-W43")
            again = daemon.wait_event("digest_checked", period="2026-W43")
            assert daemon.stop() == 0
        received = periods_received(server.handler)
    assert again["reason"] == "issue already sent"
    assert len(daemon.named("digest_due")) == 1
    assert received == once_each(recipients, ["2026-W43"])


def test_spring_gap_digest_is_sent_once(site: Site) -> None:
    """Sunday 01:30 does not exist on 29 March 2026 in London; the issue goes out once."""
    with SmtpServer(ScriptedHandler()) as server:
        site.write_config(digest="sunday 01:30", fetch_every="6h", smtp_port=server.port)
        recipients = site.add_subscribers(2)
        start = clock("2026-03-28T12:00:00+00:00", TEN_HOURS_A_SECOND)
        with running(site, start) as daemon:
            sent = daemon.wait_event("digest_sent", period="2026-W13")
            wait_until(  # the daemon's clock past both candidate 01:30s, plus a margin
                lambda: next_fetch(site) > datetime(2026, 3, 29, 6, tzinfo=UTC),
                what="a fetch after 06:00 UTC on 29 March",
            )
            assert daemon.stop() == 0
        received = periods_received(server.handler)
    assert sent["sent"] == 2
    assert received == once_each(recipients, ["2026-W13"])


def next_fetch(site: Site) -> datetime:
    """When the running daemon fetches next, in its clock's time (as it tells status)."""
    info = running_daemon(site.store)
    return info.next_fetch if info and info.next_fetch else datetime.min.replace(tzinfo=UTC)


def test_sigkill_mid_send_then_restart_reaches_everyone_once(site: Site) -> None:
    """After kill -9 during a send, a restart sends the rest: each recipient once, one unknown."""
    with SmtpServer(ScriptedHandler(data_delay=0.2)) as server:
        site.write_config(smtp_port=server.port)
        recipients = site.add_subscribers(10)
        with running(site, clock("2026-03-23T09:01:00+00:00"), "first") as first:
            wait_until(lambda: server.handler.received.total() >= 4, what="4 messages")
            first.signal(signal.SIGKILL)
            first.proc.wait(timeout=10)
        assert issue_status(site, "2026-W13") == "sending"
        with running(site, clock("2026-03-23T09:05:00+00:00"), "second") as second:
            second.wait_event("digest_sent", period="2026-W13")
            assert second.stop() == 0
        received = periods_received(server.handler)
    counts = ledger(site, "2026-W13")
    assert counts[State.UNKNOWN] <= 1
    assert counts[State.SENT] + counts[State.UNKNOWN] == len(recipients)
    assert all(received[(address, "2026-W13")] <= 1 for address in recipients)
    assert sum(received.values()) >= len(recipients) - counts[State.UNKNOWN]
    assert issue_status(site, "2026-W13") == "sent"


def test_sigterm_mid_send_finishes_the_message_and_exits_zero(site: Site) -> None:
    """SIGTERM during a send: the message in flight completes, nothing is unknown, exit 0."""
    with SmtpServer(ScriptedHandler(data_delay=0.2)) as server:
        site.write_config(smtp_port=server.port)
        recipients = site.add_subscribers(10)
        with running(site, clock("2026-03-23T09:01:00+00:00"), "first") as first:
            wait_until(lambda: server.handler.received.total() >= 3, what="3 messages")
            assert first.stop() == 0
        stopped = ledger(site, "2026-W13")
        with running(site, clock("2026-03-23T09:05:00+00:00"), "second") as second:
            second.wait_event("digest_sent", period="2026-W13")
            assert second.stop() == 0
        received = periods_received(server.handler)
    assert stopped[State.UNKNOWN] == stopped[State.SENDING] == 0
    assert 3 <= stopped[State.SENT] < len(recipients)
    assert received == once_each(recipients, ["2026-W13"])
    assert ledger(site, "2026-W13")[State.SENT] == len(recipients)


def test_down_over_the_digest_time_and_back_within_max_lateness_sends(site: Site) -> None:
    """Stopped before Monday 09:00, started again 11 hours later: the issue goes out."""
    with SmtpServer(ScriptedHandler()) as server:
        site.write_config(smtp_port=server.port)
        recipients = site.add_subscribers(2)
        with running(site, clock("2026-03-23T08:50:00+00:00"), "before") as before:
            before.wait_event("feeds_built")
            assert before.stop() == 0
        assert issue_status(site, "2026-W13") is None
        with running(site, clock("2026-03-23T20:00:00+00:00"), "after") as after:
            due = after.wait_event("digest_due", period="2026-W13")
            after.wait_event("digest_sent", period="2026-W13")
            assert after.stop() == 0
        received = periods_received(server.handler)
    assert due["reason"] == "send: 11h00m after the digest time"
    assert received == once_each(recipients, ["2026-W13"])


def test_back_after_max_lateness_skips_and_status_says_so(site: Site) -> None:
    """Started 13 hours after the digest time: nothing stale is sent; status shows skipped."""
    with SmtpServer(ScriptedHandler()) as server:
        site.write_config(smtp_port=server.port)
        site.add_subscribers(2)
        with running(site, clock("2026-03-23T22:00:00+00:00")) as daemon:
            skipped = daemon.wait_event("digest_skipped", period="2026-W13")
            status = subprocess.run(
                [sys.executable, "-m", "swfeed", "--config", str(site.config), "status"],
                capture_output=True,
                text=True,
                timeout=30,
                check=True,
            ).stdout
            assert daemon.stop() == 0
    assert server.handler.received.total() == 0
    assert "13h00m late" in skipped["reason"]
    assert "2026-W13  skipped" in status
    assert "daemon: running" in status


def test_clock_moved_back_a_week_sends_no_older_issue(site: Site) -> None:
    """After the 30 March issue, a restart with the clock a week behind sends nothing."""
    with SmtpServer(ScriptedHandler()) as server:
        site.write_config(smtp_port=server.port)
        recipients = site.add_subscribers(2)
        with running(site, clock("2026-03-30T08:05:00+00:00"), "now") as now:
            now.wait_event("digest_sent", period="2026-W14")
            assert now.stop() == 0
        with running(site, clock("2026-03-23T09:05:00+00:00"), "back") as back:
            checked = back.wait_event("digest_checked", period="2026-W13")
            assert back.stop() == 0
        received = periods_received(server.handler)
    assert checked["reason"] == "a newer issue (2026-W14) exists"
    assert received == once_each(recipients, ["2026-W14"])
    assert issue_status(site, "2026-W13") is None


def test_second_daemon_on_the_same_store_exits_with_a_message(site: Site) -> None:
    """A second `swfeed run` refuses to start and names the running one."""
    site.write_config(fetch_every="1h")
    with running(site, None, "first") as first:
        first.wait_event("started")
        second = DaemonProcess(site, None, "second")
        try:
            code = second.proc.wait(timeout=30)
        finally:
            second.close()
        still_running = first.proc.poll() is None
        assert first.stop() == 0
    message = second.log_path.read_text()
    assert code == 1
    assert "another `swfeed run` is already running" in message
    assert f"pid {first.proc.pid}" in message
    assert still_running


def test_sighup_with_a_broken_config_keeps_the_old_one(site: Site) -> None:
    """SIGHUP with errors in the file: each error logged with file:line, old config kept."""
    site.write_config(fetch_every="10s")
    good = site.config.read_text()
    with running(site, FAST) as daemon:
        daemon.wait_event("feeds_built")
        site.config.write_text(good.replace("fetch_every: 10s", "fetch_every: soon"))
        daemon.signal(signal.SIGHUP)
        error = daemon.wait_event("config_error")
        daemon.wait_event("config_rejected")
        site.add_article("after-reload", "Still publishing after a bad reload", "2026-01-21")
        wait_until(lambda: "Still publishing after a bad reload" in feed_titles(site), timeout=5)
        assert daemon.stop() == 0
    line = good.splitlines().index("  fetch_every: 10s") + 1
    assert f"{site.config}:{line}:" in error["error"]
    assert "schedule.fetch_every" in error["error"]


def test_sighup_with_a_good_config_applies_it(site: Site) -> None:
    """SIGHUP with a valid change: the new config is used (feeds rebuilt with 3 items)."""
    site.write_config(fetch_every="1h")
    with running(site, None) as daemon:
        daemon.wait_event("feeds_built")
        assert len(feed_titles(site)) > 3
        text = site.config.read_text().replace(
            "per_category: false", "per_category: false\n  max_items: 3"
        )
        site.config.write_text(text)
        daemon.signal(signal.SIGHUP)
        daemon.wait_event("config_reloaded")
        wait_until(lambda: len(feed_titles(site)) == 3, timeout=5)
        assert daemon.stop() == 0


#: The README's stop time for a daemon with no SMTP reply or HTTP response awaited.
STOP_SECONDS = 10


def test_sigterm_while_loading_a_nesting_bomb_stops_in_the_promised_time(site: Site) -> None:
    """SIGTERM while 100 content files of 150,000 nested <div> load: exit 0 in the stop time."""
    site.write_config()
    for number in range(100):
        (site.content / f"bomb-{number}.md").write_text(
            f"---\ntitle: Bomb {number}\ndate: 2026-01-05\n---\n" + "<div>" * 150_000 + "\n"
        )
    with running(site, None) as daemon:
        daemon.wait_event("started")
        assert daemon.stop(timeout=STOP_SECONDS) == 0
