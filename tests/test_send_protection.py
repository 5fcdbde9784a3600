"""Protecting the sender's name: a send pauses past max_bounce_rate; a 421 slows it down."""

from __future__ import annotations

import io
import threading
from pathlib import Path

from swfeed.cli.sendreport import print_summary
from swfeed.config import Config
from swfeed.delivery.send import SendSummary, send_issue, slow_down_wait
from swfeed.store import Database
from swfeed.store.deliveries import DeliveryStore, State
from swfeed.store.issues import IssueStore
from tests.smtpfixture import (
    NOW,
    ScriptedHandler,
    SmtpServer,
    addresses,
    make_issue,
    prepare,
    write_config,
)

PERIOD = "2026-W11"


class RecordingStop(threading.Event):
    """A stop event that is never set and notes every wait asked of it (no real waiting)."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        if timeout:
            self.waits.append(timeout)
        return False


def send(
    config: Config, *, resume: bool = False, stop: threading.Event | None = None
) -> SendSummary:
    with Database(config.store.path) as db:
        return send_issue(config, db, make_issue(PERIOD), lambda: NOW, stop, resume=resume)


def bouncing_site(tmp_path: Path, server: SmtpServer, count: int = 120) -> Config:
    """``count`` subscribers; every tenth address does not exist (550 5.1.1 at RCPT)."""
    recipients = addresses(count)
    for address in recipients[::10]:
        server.handler.rcpt_replies[address] = ["550 5.1.1 no such user"]
    return prepare(
        write_config(tmp_path, server.port, max_errors=50), recipients, make_issue(PERIOD)
    )


def test_send_pauses_when_hard_bounces_pass_the_rate(tmp_path: Path) -> None:
    """10% hard bounces over the first 100 messages (limit 5%): the issue is paused."""
    with SmtpServer() as server:
        config = bouncing_site(tmp_path, server)
        summary = send(config)
    assert summary.on_hold
    assert "passed delivery.max_bounce_rate 5.0%" in (summary.paused or "")
    assert summary.totals[State.PENDING] == 20
    with Database(config.store.path) as db:
        assert IssueStore(db).status_of(PERIOD) == "paused"


def test_a_paused_issue_is_not_sent_without_resume(tmp_path: Path) -> None:
    """Running the send again sends nothing and says how to resume."""
    with SmtpServer() as server:
        config = bouncing_site(tmp_path, server)
        send(config)
        before = sum(server.handler.received.values())
        summary = send(config)
        assert sum(server.handler.received.values()) == before
    out = io.StringIO()
    print_summary(summary, out)
    assert f"swfeed digest send --period {PERIOD} --resume" in out.getvalue()
    assert summary.totals[State.PENDING] == 20


def test_resume_finishes_and_judges_only_what_it_sends(tmp_path: Path) -> None:
    """After --resume the rate starts afresh: the last 20 go out and the issue is sent."""
    with SmtpServer() as server:
        config = bouncing_site(tmp_path, server)
        send(config)
        summary = send(config, resume=True)
    assert summary.done
    assert not summary.on_hold
    with Database(config.store.path) as db:
        assert IssueStore(db).status_of(PERIOD) == "sent"
        assert DeliveryStore(db).counts(PERIOD)[State.SENT] == 108


def test_rate_is_not_judged_before_enough_messages(tmp_path: Path) -> None:
    """Under delivery.bounce_rate_after (100) messages, even 10% bounces do not pause."""
    with SmtpServer() as server:
        config = bouncing_site(tmp_path, server, count=90)
        summary = send(config)
    assert summary.done
    assert not summary.on_hold


def test_after_421_the_sender_backs_off_exponentially(tmp_path: Path) -> None:
    """Three 421s in a row: waits of 2, 4 and 8 s before the next messages, then on."""
    slow = {address: ["421 4.4.2 rate exceeded"] for address in addresses(3)}
    handler = ScriptedHandler(rcpt_replies=slow)
    with SmtpServer(handler) as server:
        path = write_config(tmp_path, server.port)
        path.write_text(
            path.read_text().replace("    timeout: 5\n", "    timeout: 5\n    slow_down_delay: 2\n")
        )
        config = prepare(path, addresses(3), make_issue(PERIOD))
        stop = RecordingStop()
        summary = send(config, stop=stop)
    assert stop.waits == [2.0, 4.0, 8.0]
    assert summary.slowed == 3
    assert summary.done
    assert all(handler.accepted[address] == 1 for address in addresses(3))


def test_slow_down_waits_are_capped() -> None:
    """The doubling stops at ten minutes."""
    assert [slow_down_wait(5.0, n) for n in (1, 2, 3)] == [5.0, 10.0, 20.0]
    assert slow_down_wait(5.0, 30) == 600.0


def test_a_resumed_issue_stays_resumed_when_a_later_run_finishes_it(tmp_path: Path) -> None:
    """A resumed send that was stopped, finished by a later run (the daemon's), is judged
    from the resume on: it does not pause again on the old bounces."""
    with SmtpServer() as server:
        config = bouncing_site(tmp_path, server)
        send(config)
        stop = threading.Event()
        with Database(config.store.path) as db:
            send_issue(
                config,
                db,
                make_issue(PERIOD),
                lambda: NOW,
                stop,
                progress=lambda done: stop.set() if done.done >= 5 else None,
                resume=True,
            )
        summary = send(config)
    assert not summary.on_hold
    assert summary.done
