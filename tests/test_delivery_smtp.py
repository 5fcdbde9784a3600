"""Sending through a real SMTP server (aiosmtpd on 127.0.0.1) that misbehaves on purpose."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable
from datetime import datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
import trustme

from swfeed.config import Config, load_config
from swfeed.delivery.send import SendSummary, send_issue
from swfeed.delivery.smtp import SmtpTransport
from swfeed.errors import DeliveryError
from swfeed.models import DigestIssue
from swfeed.store import Database
from swfeed.store.deliveries import DeliveryStore, State
from swfeed.store.subscribers import Status, SubscriberStore
from tests.smtpfixture import (
    NOW,
    ScriptedHandler,
    SmtpServer,
    addresses,
    make_issue,
    prepare,
    write_config,
)


def clock() -> datetime:
    return NOW


def run_send(
    config: Config, issue: DigestIssue, stop: threading.Event | None = None
) -> SendSummary:
    db = Database(config.store.path)
    try:
        return send_issue(config, db, issue, clock, stop)
    finally:
        db.close()


def ledger(config: Config, period: str) -> dict[str, State]:
    db = Database(config.store.path)
    try:
        rows = DeliveryStore(db)
        return {d.address: d.state for s in State for d in rows.with_state(period, s)}
    finally:
        db.close()


def subscriber_status(config: Config, address: str) -> Status | None:
    db = Database(config.store.path)
    try:
        found = SubscriberStore(db).get(address)
        return found.status if found else None
    finally:
        db.close()


Setup = Callable[..., tuple[Config, DigestIssue]]


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    """Write a config for a server's port, subscribe recipients, freeze an issue."""

    def make(
        server: SmtpServer, recipients: list[str], **options: object
    ) -> tuple[Config, DigestIssue]:
        path = write_config(tmp_path, server.port, **options)  # type: ignore[arg-type]
        issue = make_issue()
        return prepare(path, recipients, issue), issue

    return make


def test_every_recipient_gets_one_copy(setup: Setup) -> None:
    """A clean run sends each active subscriber exactly one message."""
    with SmtpServer() as server:
        config, issue = setup(server, addresses(5))
        summary = run_send(config, issue)
    assert server.handler.accepted == dict.fromkeys(addresses(5), 1)
    assert summary.run[State.SENT] == 5
    assert summary.done


def test_messages_arrive_parseable_with_their_recipient(setup: Setup) -> None:
    """What the server got parses back with To, Subject and the recipient's own link."""
    with SmtpServer() as server:
        config, issue = setup(server, ["ann@example.com"])
        run_send(config, issue)
    raw = server.handler.messages["ann@example.com"][0]
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert message["To"] == "ann@example.com"
    assert message["Subject"] == issue.subject
    text = message.get_body(("plain",))
    assert text is not None
    assert "https://news.example.org/unsubscribe?t=" in text.get_content()


def test_second_run_sends_nothing_again(setup: Setup) -> None:
    """Running the send again after it finished sends no second copy."""
    with SmtpServer() as server:
        config, issue = setup(server, addresses(3))
        run_send(config, issue)
        summary = run_send(config, issue)
    assert server.handler.accepted == dict.fromkeys(addresses(3), 1)
    assert summary.run[State.SENT] == 0


def test_451_then_250_is_deferred_then_sent(setup: Setup) -> None:
    """A 4xx reply defers the message; the retry later in the run delivers it."""
    handler = ScriptedHandler(rcpt_replies={"r001@example.com": ["451 4.3.0 try later"]})
    with SmtpServer(handler) as server:
        config, issue = setup(server, addresses(3))
        summary = run_send(config, issue)
    assert handler.accepted == dict.fromkeys(addresses(3), 1)
    assert handler.rcpt_attempts["r001@example.com"] == 2
    assert summary.run[State.DEFERRED] == 1
    assert summary.totals[State.SENT] == 3


def test_451_after_data_is_retried(setup: Setup) -> None:
    """A 4xx reply to the message data is retried too, and only one copy is accepted."""
    handler = ScriptedHandler(data_replies={"r000@example.com": ["452 4.3.1 full"]})
    with SmtpServer(handler) as server:
        config, issue = setup(server, addresses(2))
        run_send(config, issue)
    assert handler.accepted == dict.fromkeys(addresses(2), 1)


def test_deferred_past_max_attempts_fails(setup: Setup) -> None:
    """A recipient deferred on every attempt is failed after max_attempts."""
    handler = ScriptedHandler(rcpt_replies={"r000@example.com": ["450 4.2.1 busy"] * 10})
    with SmtpServer(handler) as server:
        config, issue = setup(server, addresses(2))
        run_send(config, issue)
    assert handler.rcpt_attempts["r000@example.com"] == 3
    assert ledger(config, issue.period)["r000@example.com"] is State.FAILED


def test_550_user_unknown_fails_and_bounces(setup: Setup) -> None:
    """550 5.1.1 fails that recipient for good and marks the subscriber bounced."""
    handler = ScriptedHandler(
        rcpt_replies={"r001@example.com": ["550 5.1.1 <r001@example.com>: no such user"]}
    )
    with SmtpServer(handler) as server:
        config, issue = setup(server, addresses(3))
        summary = run_send(config, issue)
    assert ledger(config, issue.period)["r001@example.com"] is State.FAILED
    assert subscriber_status(config, "r001@example.com") is Status.BOUNCED
    assert summary.totals[State.SENT] == 2


def test_554_policy_rejection_fails_without_bounce(setup: Setup) -> None:
    """A 5xx that is not 5.1.x fails the message but leaves the subscriber active."""
    handler = ScriptedHandler(data_replies={"r000@example.com": ["554 5.7.1 spam"]})
    with SmtpServer(handler) as server:
        config, issue = setup(server, addresses(2))
        run_send(config, issue)
    assert ledger(config, issue.period)["r000@example.com"] is State.FAILED
    assert subscriber_status(config, "r000@example.com") is Status.ACTIVE


def test_421_and_disconnect_defers_and_reconnects(setup: Setup) -> None:
    """421 with a dropped connection defers; the sender reconnects and finishes."""
    handler = ScriptedHandler(rcpt_replies={"r001@example.com": ["421 4.3.2 shutting down"]})
    with SmtpServer(handler) as server:
        config, issue = setup(server, addresses(4))
        summary = run_send(config, issue)
    assert handler.accepted == dict.fromkeys(addresses(4), 1)
    assert summary.run[State.DEFERRED] == 1
    assert handler.connections >= 2


def test_535_stops_the_run(setup: Setup, tmp_path: Path) -> None:
    """A refused login raises DeliveryError and leaves every row pending."""
    extra = "    username: sender\n    password: wrong\n    allow_plaintext_login: true\n"
    with SmtpServer(auth=True) as server:
        config, issue = setup(server, addresses(2))
        path = write_config(tmp_path, server.port, extra="")
        text = path.read_text().replace("    timeout: 5\n", "    timeout: 5\n" + extra)
        path.write_text(text)
        with pytest.raises(DeliveryError, match="refused the login"):
            run_send(load_config(path), issue)
    assert server.handler.received == {}
    assert set(ledger(config, issue.period).values()) == {State.PENDING}


def test_right_password_logs_in(setup: Setup, tmp_path: Path) -> None:
    """With the right password the relay accepts the login and the mail."""
    extra = "    username: sender\n    password: right\n    allow_plaintext_login: true\n"
    with SmtpServer(auth=True) as server:
        _config, issue = setup(server, addresses(1))
        path = write_config(tmp_path, server.port)
        path.write_text(path.read_text().replace("    timeout: 5\n", "    timeout: 5\n" + extra))
        run_send(load_config(path), issue)
    assert server.handler.accepted == {"r000@example.com": 1}


def test_no_reply_after_data_is_unknown(setup: Setup) -> None:
    """No reply after the data (timeout) marks it unknown and it is not retried."""
    handler = ScriptedHandler(hang_after_data={"r001@example.com"}, hang_seconds=5)
    with SmtpServer(handler) as server:
        config, issue = setup(server, addresses(3), data_timeout=0.5)
        summary = run_send(config, issue)
        again = run_send(config, issue)
    assert ledger(config, issue.period)["r001@example.com"] is State.UNKNOWN
    assert handler.received["r001@example.com"] == 1
    assert summary.run[State.UNKNOWN] == 1
    assert again.run[State.SENT] == 0
    assert handler.accepted == {"r000@example.com": 1, "r002@example.com": 1}


def test_consecutive_errors_pause_the_run(setup: Setup) -> None:
    """After max_consecutive_errors errors in a row the run pauses, leaving the rest."""
    refusals = {a: ["554 5.7.1 blocked"] for a in addresses(10)}
    handler = ScriptedHandler(rcpt_replies=refusals)
    with SmtpServer(handler) as server:
        config, issue = setup(server, addresses(10), max_errors=3)
        summary = run_send(config, issue)
    assert summary.paused is not None
    assert summary.run[State.FAILED] == 3
    assert summary.totals[State.PENDING] == 7


def test_connections_are_reused(setup: Setup) -> None:
    """messages_per_connection messages share one connection."""
    with SmtpServer() as server:
        config, issue = setup(server, addresses(6), per_connection=3)
        run_send(config, issue)
    assert server.handler.connections == 2


def test_unsubscribed_mid_issue_is_skipped(setup: Setup) -> None:
    """Someone who left after the list was frozen gets nothing from a resumed run."""
    handler = ScriptedHandler(rcpt_replies={a: ["554 5.7.1 no"] for a in addresses(4)[:2]})
    with SmtpServer(handler) as server:
        config, issue = setup(server, addresses(4), max_errors=2)
        run_send(config, issue)
        db = Database(config.store.path)
        SubscriberStore(db).set_status("r003@example.com", Status.UNSUBSCRIBED, NOW)
        db.close()
        run_send(config, issue)
    assert ledger(config, issue.period)["r003@example.com"] is State.SKIPPED
    assert handler.accepted == {"r002@example.com": 1}


def test_stop_event_stops_before_the_next_message(setup: Setup) -> None:
    """A set stop event ends the run before anything more is sent."""
    stop = threading.Event()
    stop.set()
    with SmtpServer() as server:
        config, issue = setup(server, addresses(3))
        summary = run_send(config, issue, stop)
    assert summary.stopped
    assert server.handler.received == {}


def test_starttls_with_a_private_ca(setup: Setup, tmp_path: Path) -> None:
    """STARTTLS is used and the relay's certificate checked against ca_file."""
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server_context)
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    with SmtpServer(starttls_context=server_context) as server:
        _config, issue = setup(server, addresses(1))
        path = write_config(tmp_path, server.port)
        text = path.read_text().replace(
            "starttls: false", f"starttls: true\n    ca_file: {ca_file}"
        )
        path.write_text(text)
        run_send(load_config(path), issue)
    assert server.handler.accepted == {"r000@example.com": 1}


def test_starttls_with_an_untrusted_certificate_stops(setup: Setup, tmp_path: Path) -> None:
    """A certificate no trusted CA signed stops the run with DeliveryError."""
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(server_context)
    with SmtpServer(starttls_context=server_context) as server:
        _config, issue = setup(server, addresses(1))
        path = write_config(tmp_path, server.port)
        path.write_text(path.read_text().replace("starttls: false", "starttls: true"))
        with pytest.raises(DeliveryError, match="cannot reach"):
            run_send(load_config(path), issue)
    assert server.handler.received == {}


def test_unreachable_relay_stops_the_run(setup: Setup) -> None:
    """A relay that refuses connections raises DeliveryError; nothing is marked."""
    with SmtpServer() as server:
        config, issue = setup(server, addresses(2))
    with pytest.raises(DeliveryError, match="cannot reach the relay"):
        run_send(config, issue)
    assert set(ledger(config, issue.period).values()) == {State.PENDING}


def test_the_relay_connection_sends_each_write_at_once(setup: Setup) -> None:
    """TCP_NODELAY: the final dot, written after the data, does not wait for a delayed ACK."""
    with SmtpServer() as server:
        config, _ = setup(server, [])
        assert config.delivery is not None
        assert config.delivery.smtp is not None
        transport = SmtpTransport(config.delivery.smtp)
        conn = transport._connection()
        try:
            assert conn.sock is not None
            assert conn.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        finally:
            transport.close()
