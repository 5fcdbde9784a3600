"""The mail worker: confirmation and welcome mails through the digest's transport (here a
real SMTP server on 127.0.0.1), retried when deferred, dropped when no longer wanted."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import time_machine

from swfeed.config import Config, load_config
from swfeed.delivery.outbox import outbox_folder
from swfeed.mailinglist.suppression import Suppression
from swfeed.signup.settings import signup_settings
from swfeed.signup.worker import MailWorker
from swfeed.store import Database
from swfeed.store.mailqueue import MailQueue
from swfeed.store.subscribers import SignUp, SubscriberStore
from tests.daemonsite import wait_until
from tests.smtpfixture import NOW, ScriptedHandler, SmtpServer, write_config
from tests.test_web import running

EXTRA = "digest:\n  postal_address: 1 Example Street\n"


def setup(tmp_path: Path, port: int) -> tuple[Config, MailWorker]:
    config = load_config(write_config(tmp_path, port, extra=EXTRA))
    settings = signup_settings(config)
    return config, MailWorker(config, settings, lambda: NOW)


def ask(config: Config, address: str = "ann@example.org") -> None:
    settings = signup_settings(config)
    with Database(config.store.path) as db:
        request = SignUp(address, "Ann", (), None, None)
        hashes = Suppression(settings.keys).hashes(address)
        assert SubscriberStore(db).sign_up(request, settings.rules, NOW, hashes)


def states(config: Config) -> dict[str, int]:
    with Database(config.store.path) as db:
        return MailQueue(db).counts()


def test_confirmation_goes_out_over_smtp(tmp_path: Path) -> None:
    """A queued confirmation is handed to the relay once, as one multipart message."""
    with SmtpServer() as server:
        config, worker = setup(tmp_path, server.port)
        ask(config)
        assert worker.run_once() == 1
        assert worker.run_once() == 0
    (raw,) = server.handler.messages["ann@example.org"]
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert message.get_content_type() == "multipart/alternative"
    assert "confirm" in str(message["Subject"]).lower()
    assert states(config) == {"sent": 1}


def test_deferred_confirmation_is_retried(tmp_path: Path) -> None:
    """A 4xx reply defers the mail; it goes out on a later pass once due."""
    handler = ScriptedHandler(rcpt_replies={"ann@example.org": ["451 4.3.0 try later"]})
    with SmtpServer(handler) as server:
        config, worker = setup(tmp_path, server.port)
        ask(config)
        worker.run_once()
        assert states(config) == {"deferred": 1}
        worker.now = lambda: NOW + timedelta(hours=1)
        worker.run_once()
    assert states(config) == {"sent": 1}
    assert server.handler.accepted["ann@example.org"] == 1


def test_confirmation_no_longer_wanted_is_dropped(tmp_path: Path) -> None:
    """A sign-up that expired before the worker came is not mailed."""
    with SmtpServer() as server:
        config, worker = setup(tmp_path, server.port)
        ask(config)
        worker.now = lambda: NOW + timedelta(days=8)
        assert worker.run_once() == 0
    assert server.handler.received["ann@example.org"] == 0


def test_serve_sends_mail_queued_before_it_started(tmp_path: Path) -> None:
    """A confirmation queued while the server was down goes out at start, with no request."""
    config = load_config(write_config(tmp_path, method="outbox", extra=EXTRA))
    ask(config)
    with time_machine.travel(NOW + timedelta(minutes=5)), running(config):
        wait_until(lambda: states(config) == {"sent": 1}, what="the confirmation sent")
    assert len(list((outbox_folder(config) / "new").iterdir())) == 1
