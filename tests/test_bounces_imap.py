"""`swfeed bounces` reading an IMAP mailbox over TLS: a real Dovecot on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from swfeed.cli import main
from swfeed.config import Config
from swfeed.delivery.send import send_issue
from swfeed.store import Database
from swfeed.store.subscribers import Status, SubscriberStore
from tests.bouncefixture import BOUNCE_ADDRESS, sample
from tests.imapfixture import PASSWORD, USER, Dovecot
from tests.smtpfixture import NOW, addresses, make_issue, prepare, write_config

BATCH = {
    "r001@example.com": "postfix-user-unknown.eml",
    "r002@example.com": "gmail-no-such-user.eml",
    "r003@example.com": "arf-complaint.eml",
    "r004@example.com": "out-of-office.eml",
}


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    with Dovecot() as server:
        yield server


@pytest.fixture
def config(tmp_path: Path, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch) -> Config:
    """The outbox site, its issue sent to six subscribers, reading bounces from Dovecot."""
    return imap_site(tmp_path, dovecot, monkeypatch)


def imap_site(tmp_path: Path, server: Dovecot, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("SWFEED_IMAP_PASSWORD", PASSWORD)
    extra = (
        "bounces:\n  imap:\n    host: 127.0.0.1\n"
        f"    port: {server.port}\n    username: {USER}\n"
        "    password: ${SWFEED_IMAP_PASSWORD}\n    done_folder: Processed\n"
        f"    ca_file: {server.ca_file}\n"
    )
    path = write_config(tmp_path, method="outbox", extra=extra)
    text = path.read_text().replace(
        "  smtp:\n", f"  bounce_address: {BOUNCE_ADDRESS}\n  smtp:\n", 1
    )
    path.write_text(text)
    config = prepare(path, addresses(6), make_issue())
    with Database(config.store.path) as db:
        send_issue(config, db, make_issue(), lambda: NOW)
    return config


@pytest.mark.slow
def test_imap_bounces_change_the_list_and_move_to_the_done_folder(
    config: Config, dovecot: Dovecot, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each mail is acted on, flagged seen and moved to Processed; the inbox is empty."""
    for address, name in BATCH.items():
        dovecot.append(sample(name, address))
    assert main(["--config", str(config.source_file), "bounces"]) == 0
    assert "4 new mail(s): 2 marked bounced, 1 unsubscribed" in capsys.readouterr().out
    with Database(config.store.path) as db:
        found = {s.address: s.status for s in SubscriberStore(db).all()}
    assert found["r001@example.com"] is Status.BOUNCED
    assert found["r002@example.com"] is Status.BOUNCED
    assert found["r003@example.com"] is Status.COMPLAINED
    assert found["r004@example.com"] is Status.ACTIVE
    assert dovecot.folder("INBOX") == []
    done = dovecot.folder("Processed")
    assert len(done) == len(BATCH)
    assert all(b"\\Seen" in flags for flags, _ in done)


@pytest.mark.slow
def test_imap_mails_are_never_read_twice(
    config: Config, dovecot: Dovecot, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second run finds the inbox empty; a re-delivered copy is only filed away."""
    raw = sample("postfix-user-unknown.eml", "r001@example.com")
    dovecot.append(raw)
    main(["--config", str(config.source_file), "bounces"])
    dovecot.append(raw)
    capsys.readouterr()
    main(["--config", str(config.source_file), "bounces"])
    assert "0 new mail(s)" in capsys.readouterr().out
    assert len(dovecot.folder("Processed")) == 2


def test_a_wrong_password_is_a_clear_error(
    config: Config,
    dovecot: Dovecot,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A refused login names the settings to check and exits non-zero."""
    monkeypatch.setenv("SWFEED_IMAP_PASSWORD", "wrong")
    assert main(["--config", str(config.source_file), "bounces"]) != 0
    assert "bounces.imap.username" in capsys.readouterr().err
