"""`swfeed bounces` on a Maildir: a batch of reports changes the list as each one says."""

from __future__ import annotations

from pathlib import Path

import pytest
from structlog.testing import capture_logs

from swfeed.cli import main
from swfeed.config import Config, load_config
from swfeed.daemon.clock import Clock
from swfeed.daemon.lock import DaemonLock
from swfeed.daemon.scheduler import BOUNCES_JOB, plan_jobs
from swfeed.daemon.service import Daemon
from swfeed.delivery.send import send_issue
from swfeed.delivery.verp import Kind, envelope_sender
from swfeed.store import Database
from swfeed.store.bounces import BounceStore
from swfeed.store.issues import IssueStore
from swfeed.store.subscribers import NewEntry, Status, SubscriberStore
from tests.bouncefixture import BOUNCE_ADDRESS, bounce_config, deliver, sample, verp_of
from tests.smtpfixture import NOW, addresses, make_issue, prepare

BATCH = {
    "r001@example.com": "postfix-user-unknown.eml",
    "r002@example.com": "exim-user-unknown.eml",
    "r003@example.com": "exchange-5.7.515.eml",
    "r004@example.com": "gmail-no-such-user.eml",
    "r005@example.com": "mangled.eml",
    "r006@example.com": "arf-complaint.eml",
    "r007@example.com": "out-of-office.eml",
    "r008@example.com": "postfix-mailbox-full.eml",
    "r009@example.com": "postfix-delayed.eml",
}
EXPECTED = {
    "r000@example.com": Status.ACTIVE,  # a forged bounce named it
    "r001@example.com": Status.BOUNCED,
    "r002@example.com": Status.BOUNCED,
    "r003@example.com": Status.ACTIVE,  # 5.7.515: about us, not the address
    "r004@example.com": Status.BOUNCED,
    "r005@example.com": Status.BOUNCED,
    "r006@example.com": Status.COMPLAINED,
    "r007@example.com": Status.ACTIVE,
    "r008@example.com": Status.ACTIVE,  # one soft bounce of three
    "r009@example.com": Status.ACTIVE,
}


def sent_site(
    tmp_path: Path, periods: tuple[str, ...] = ("2026-W11",), soft_limit: int = 3
) -> Config:
    """Ten subscribers, each issue of ``periods`` sent to them through the outbox."""
    config = prepare(
        bounce_config(tmp_path, soft_limit=soft_limit), addresses(10), make_issue(periods[0])
    )
    with Database(config.store.path) as db:
        for period in periods:
            if IssueStore(db).get(period) is None:
                IssueStore(db).create(make_issue(period))
            send_issue(config, db, make_issue(period), lambda: NOW)
    return config


def statuses(config: Config) -> dict[str, Status]:
    with Database(config.store.path) as db:
        return {s.address: s.status for s in SubscriberStore(db).all()}


def read(config: Config, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(["--config", str(config.source_file), "bounces"]) == 0
    return capsys.readouterr().out


def test_a_batch_changes_the_list_as_each_report_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Hard bounces mark bounced, the complaint unsubscribes, the rest change nothing."""
    config = sent_site(tmp_path)
    for address, name in BATCH.items():
        deliver(config, sample(name, address))
    forged = envelope_sender(
        BOUNCE_ADDRESS, b"not-our-secret-0123456", Kind.ISSUE, "r000@example.com", "2026-W11"
    )
    deliver(config, sample("postfix-user-unknown.eml", "r000@example.com", verp=forged))
    out = read(config, capsys)
    assert statuses(config) == EXPECTED
    assert "10 new mail(s): 4 marked bounced, 1 unsubscribed after a complaint" in out
    assert "ignored: its token is not valid" in out


def test_rates_count_hard_bounces_and_complaints_of_the_issue(tmp_path: Path) -> None:
    """After the batch, the issue has 4 hard bounces and 1 complaint in 10 messages."""
    config = sent_site(tmp_path)
    for address, name in BATCH.items():
        deliver(config, sample(name, address))
    main(["--config", str(config.source_file), "bounces"])
    with Database(config.store.path) as db:
        rates = BounceStore(db).rates("2026-W11")
    assert (rates.handed_over, rates.hard, rates.complaints, rates.policy) == (10, 4, 1, 1)


def test_handled_mails_move_to_cur_and_are_never_read_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """new/ is emptied into cur/ (flagged seen); a second run finds nothing to do."""
    config = sent_site(tmp_path)
    assert config.bounces is not None
    assert config.bounces.maildir is not None
    for address, name in BATCH.items():
        deliver(config, sample(name, address))
    read(config, capsys)
    maildir = config.bounces.maildir
    assert list((maildir / "new").iterdir()) == []
    kept = sorted(path.name for path in (maildir / "cur").iterdir())
    assert len(kept) == len(BATCH)
    assert all(name.endswith(":2,S") for name in kept)
    assert "0 new mail(s)" in read(config, capsys)


def test_the_same_mail_delivered_twice_counts_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A copy of a handled mail (a crash before it moved) is filed away, not counted again."""
    config = sent_site(tmp_path)
    raw = sample("postfix-mailbox-full.eml", "r008@example.com")
    deliver(config, raw)
    read(config, capsys)
    deliver(config, raw)
    assert "1 seen before" in read(config, capsys)
    with Database(config.store.path) as db:
        assert BounceStore(db).rates("2026-W11").soft == 1
        assert len(BounceStore(db).events("2026-W11")) == 1


def test_soft_bounces_on_issues_in_a_row_mark_the_address_bounced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Mailbox full on three issues in a row (soft_limit 3) takes the address off."""
    periods = ("2026-W11", "2026-W12", "2026-W13")
    config = sent_site(tmp_path, periods)
    for period in periods[:2]:
        deliver(config, sample("postfix-mailbox-full.eml", "r008@example.com", period))
    assert "counted (2 of 3 in a row)" in read(config, capsys)
    assert statuses(config)["r008@example.com"] is Status.ACTIVE
    deliver(config, sample("postfix-mailbox-full.eml", "r008@example.com", periods[2]))
    assert "marked bounced after 3 issues in a row" in read(config, capsys)
    assert statuses(config)["r008@example.com"] is Status.BOUNCED


def test_an_issue_that_got_through_breaks_the_soft_streak(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Soft bounces on W11 and W13 but none on W12 are not two in a row."""
    config = sent_site(tmp_path, ("2026-W11", "2026-W12", "2026-W13"), soft_limit=2)
    deliver(config, sample("postfix-mailbox-full.eml", "r008@example.com", "2026-W11"))
    deliver(config, sample("postfix-mailbox-full.eml", "r008@example.com", "2026-W13"))
    read(config, capsys)
    assert statuses(config)["r008@example.com"] is Status.ACTIVE


def test_a_complaint_keeps_the_address_out_of_later_imports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """complained is a suppression: an import does not bring the address back."""
    config = sent_site(tmp_path)
    deliver(config, sample("arf-complaint.eml", "r006@example.com"))
    read(config, capsys)
    with Database(config.store.path) as db:
        entries = [NewEntry("r006@example.com")]
        counts = SubscriberStore(db).import_all(entries, NOW, lambda _address: [])
    assert [address for address, _why in counts.kept_out] == ["r006@example.com"]


def test_a_bounce_of_a_test_copy_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A test send's bounce is reported, and no subscriber is touched."""
    config = sent_site(tmp_path)
    test_sender = verp_of("r001@example.com", "2026-W11", Kind.TEST)
    deliver(config, sample("postfix-user-unknown.eml", "r001@example.com", verp=test_sender))
    assert "a test copy: nothing changed" in read(config, capsys)
    assert statuses(config)["r001@example.com"] is Status.ACTIVE


def test_without_a_bounce_address_the_command_says_what_to_add(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No bounces: section is a clear error naming the keys to set."""
    config = sent_site(tmp_path)
    path = Path(str(config.source_file))
    path.write_text(path.read_text().split("bounces:\n  maildir")[0])
    assert main(["--config", str(path), "bounces"]) != 0
    assert "bounce_address" in capsys.readouterr().err
    assert load_config(path).bounces is None


def test_the_daemon_reads_bounces_on_its_schedule(tmp_path: Path) -> None:
    """`swfeed run` has a bounces job; running it acts on the mailbox and logs each change."""
    config = sent_site(tmp_path)
    deliver(config, sample("gmail-no-such-user.eml", "r004@example.com"))
    clock = Clock(start=NOW, real_start=NOW)
    assert BOUNCES_JOB in plan_jobs(config, clock)
    lock = DaemonLock(config.store.path)
    lock.acquire()
    daemon = Daemon(Path(str(config.source_file)), config, clock, lock)
    try:
        with capture_logs() as logs:
            daemon.run_task(BOUNCES_JOB)
    finally:
        daemon.close()
        lock.release()
    handled = [entry for entry in logs if entry["event"] == "bounce_handled"]
    assert [(entry["kind"], entry["address"]) for entry in handled] == [
        ("hard", "r004@example.com")
    ]
    assert statuses(config)["r004@example.com"] is Status.BOUNCED
