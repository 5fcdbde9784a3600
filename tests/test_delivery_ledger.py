"""The delivery ledger: frozen lists, crash recovery (SIGKILL), locks, outbox, dry runs."""

from __future__ import annotations

import mailbox
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from swfeed.config import Config, load_config
from swfeed.delivery.outbox import outbox_folder
from swfeed.delivery.send import plan, send_issue, send_test
from swfeed.errors import BusyError
from swfeed.mailinglist.unsubqueue import enqueue, queue_path
from swfeed.models import DigestIssue
from swfeed.store import Database
from swfeed.store.deliveries import DeliveryStore, State
from swfeed.store.issues import IssueStore
from swfeed.store.locks import LockStore
from swfeed.store.subscribers import NewEntry, SubscriberStore
from tests.smtpfixture import (
    NOW,
    ScriptedHandler,
    SmtpServer,
    addresses,
    make_issue,
    prepare,
    write_config,
)

SENDER = """
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from swfeed.config import load_config
from swfeed.delivery.send import send_issue
from swfeed.errors import BusyError
from swfeed.mailinglist.unsubqueue import enqueue, queue_path
from swfeed.store import Database
from swfeed.store.issues import IssueStore

config = load_config(Path(sys.argv[1]))
db = Database(config.store.path)
issue = IssueStore(db).get(sys.argv[2])
ahead = timedelta(hours=float(sys.argv[3]) if len(sys.argv) > 3 else 0)  # a clock this far on
try:
    summary = send_issue(config, db, issue, lambda: datetime.now(UTC) + ahead)
except BusyError as exc:
    print(exc)
    sys.exit(3)
print("sent", summary.run["sent"])
"""


def clock() -> datetime:
    return NOW


def open_db(config: Config) -> Database:
    return Database(config.store.path)


def states(config: Config, period: str) -> dict[str, State]:
    db = open_db(config)
    try:
        store = DeliveryStore(db)
        return {d.address: d.state for s in State for d in store.with_state(period, s)}
    finally:
        db.close()


def run_send(config: Config, issue: DigestIssue) -> None:
    db = open_db(config)
    try:
        send_issue(config, db, issue, clock)
    finally:
        db.close()


def start_sender(config_path: Path, period: str, ahead_hours: int = 0) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", SENDER, str(config_path), period, str(ahead_hours)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until(condition: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def test_recipient_list_is_frozen_when_sending_starts(tmp_path: Path) -> None:
    """Someone who subscribes after the issue started sending does not get it."""
    handler = ScriptedHandler(rcpt_replies={"r000@example.com": ["554 5.7.1 no"] * 3})
    with SmtpServer(handler) as server:
        issue = make_issue()
        config = prepare(write_config(tmp_path, server.port, max_errors=1), addresses(2), issue)
        run_send(config, issue)
        db = open_db(config)
        SubscriberStore(db).add(NewEntry("late@example.com", ""), NOW, [])
        db.close()
        run_send(config, issue)
    assert "late@example.com" not in states(config, issue.period)
    assert handler.accepted == {"r001@example.com": 1}


def leave_in_flight(
    config: Config, period: str, address: str, *, data_complete: bool = True
) -> Database:
    """Freeze the ledger and leave ``address`` in ``sending``, as a sender killed after the
    final dot (or, with ``data_complete=False``, before its data was complete) would."""
    db = open_db(config)
    ledger = DeliveryStore(db)
    ledger.freeze(period, NOW)
    assert ledger.claim(period, address, NOW)
    if data_complete:
        assert ledger.awaiting_reply(period, address, NOW)
    return db


def test_row_left_before_its_data_was_complete_is_sent_again(tmp_path: Path) -> None:
    """A row a dead sender left before the end of its data goes out again, once."""
    with SmtpServer() as server:
        issue = make_issue()
        config = prepare(write_config(tmp_path, server.port), addresses(2), issue)
        leave_in_flight(config, issue.period, "r000@example.com", data_complete=False).close()
        run_send(config, issue)
    assert set(states(config, issue.period).values()) == {State.SENT}
    assert server.handler.received == {"r000@example.com": 1, "r001@example.com": 1}


def test_row_left_sending_becomes_unknown_not_resent(tmp_path: Path) -> None:
    """A row a dead sender left in ``sending`` is marked unknown and not sent again."""
    with SmtpServer() as server:
        issue = make_issue()
        config = prepare(write_config(tmp_path, server.port), addresses(2), issue)
        leave_in_flight(config, issue.period, "r000@example.com").close()
        run_send(config, issue)
    assert states(config, issue.period) == {
        "r000@example.com": State.UNKNOWN,
        "r001@example.com": State.SENT,
    }
    assert server.handler.received == {"r001@example.com": 1}


def test_retry_unknown_sends_those_again(tmp_path: Path) -> None:
    """The admin's --retry-unknown puts unknown rows back so the next run sends them."""
    with SmtpServer() as server:
        issue = make_issue()
        config = prepare(write_config(tmp_path, server.port), addresses(1), issue)
        db = leave_in_flight(config, issue.period, "r000@example.com")
        DeliveryStore(db).recover_in_flight(issue.period, NOW)
        assert DeliveryStore(db).retry_unknown(issue.period, NOW) == 1
        db.close()
        run_send(config, issue)
    assert server.handler.accepted == {"r000@example.com": 1}


@pytest.mark.slow
def test_sigkill_mid_run_then_restart_sends_each_once(tmp_path: Path) -> None:
    """Killed with SIGKILL mid-run and restarted: nobody gets two copies, all but one get it."""
    recipients = addresses(40)
    handler = ScriptedHandler(data_delay=0.05, keep_messages=False)
    with SmtpServer(handler) as server:
        path = write_config(tmp_path, server.port)
        issue = make_issue()
        config = prepare(path, recipients, issue)
        first = start_sender(path, issue.period)
        wait_until(lambda: sum(handler.received.values()) >= 10)
        first.kill()
        first.wait(timeout=10)
        assert first.returncode == -9
        second = start_sender(path, issue.period)
        _out, err = second.communicate(timeout=60)
        assert second.returncode == 0, err
    ledger = states(config, issue.period)
    assert max(handler.received.values()) == 1
    not_sent = {a: s for a, s in ledger.items() if s is not State.SENT}
    assert len(not_sent) <= 1
    assert set(not_sent.values()) <= {State.UNKNOWN}
    missing = [a for a in recipients if handler.received[a] == 0]
    assert set(missing) <= set(not_sent)
    assert all(handler.received[a] == 1 for a, s in ledger.items() if s is State.SENT)


@pytest.mark.slow
def test_two_senders_at_once_never_both_send(tmp_path: Path) -> None:
    """Two sender processes started together: one sends, the other names the issue and exits."""
    recipients = addresses(40)
    handler = ScriptedHandler(data_delay=0.05, keep_messages=False)
    with SmtpServer(handler) as server:
        path = write_config(tmp_path, server.port)
        issue = make_issue()
        prepare(path, recipients, issue)
        senders = [start_sender(path, issue.period) for _ in range(2)]
        results = [sender.communicate(timeout=60) for sender in senders]
    assert handler.received == dict.fromkeys(recipients, 1)
    codes = sorted(sender.returncode for sender in senders)
    assert codes == [0, 3]
    busy = next(out for (out, _), s in zip(results, senders, strict=True) if s.returncode == 3)
    assert "issue 2026-W11 is already being sent by process" in busy


@pytest.mark.slow
def test_stopped_sender_keeps_its_lock_and_sends_no_duplicate_when_resumed(
    tmp_path: Path,
) -> None:
    """Ctrl-Z mid-run, a second sender a day later, then ``fg``: the second one says busy."""
    recipients = addresses(40)
    stopped: list[subprocess.Popen[str]] = []
    handler = ScriptedHandler(data_delay=0.02, keep_messages=False)
    handler.on_data = lambda address: (
        stopped[0].send_signal(signal.SIGSTOP) if address == "r004@example.com" else None
    )
    with SmtpServer(handler) as server:
        path = write_config(tmp_path, server.port)
        issue = make_issue()
        prepare(path, recipients, issue)
        first = start_sender(path, issue.period)
        stopped.append(first)
        try:
            wait_until(lambda: handler.received["r004@example.com"] == 1)
            second = start_sender(path, issue.period, ahead_hours=24)
            out, _err = second.communicate(timeout=60)
            first.send_signal(signal.SIGCONT)
            first.communicate(timeout=60)
        finally:
            first.kill()
    assert second.returncode == 3
    assert f"already being sent by process {first.pid}" in out
    assert "no sign of life" in out
    assert first.returncode == 0
    assert handler.received == dict.fromkeys(recipients, 1)


def test_busy_lock_raises_naming_the_issue(tmp_path: Path) -> None:
    """A live holder of the send lock makes a second sender raise BusyError."""
    issue = make_issue()
    config = prepare(write_config(tmp_path), addresses(1), issue)
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    db = open_db(config)
    try:
        owner = f"{os.uname().nodename}:{holder.pid}:x"
        LockStore(db, timedelta(hours=1)).acquire("send", owner, "2026-W10", NOW)
        with pytest.raises(BusyError, match="issue 2026-W10 is already being sent"):
            send_issue(config, db, issue, clock)
    finally:
        db.close()
        holder.kill()
        holder.wait()


def dead_pid() -> int:
    """The id of a process that has just exited (and been reaped)."""
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


@pytest.mark.parametrize(
    ("host", "pid", "age"),
    [
        (os.uname().nodename, None, timedelta(0)),  # holder's pid is gone on this host
        ("elsewhere", os.getpid(), timedelta(days=1)),  # no heartbeat for a day
    ],
)
def test_abandoned_lock_is_taken_over(
    tmp_path: Path, host: str, pid: int | None, age: timedelta
) -> None:
    """A send lock whose holder died, or stopped its heartbeat, is taken over."""
    issue = make_issue()
    config = prepare(write_config(tmp_path, method="outbox"), addresses(2), issue)
    db = open_db(config)
    try:
        owner = f"{host}:{pid or dead_pid()}:x"
        assert LockStore(db, timedelta(hours=1)).acquire("send", owner, "W", NOW - age) is None
        summary = send_issue(config, db, issue, clock)
    finally:
        db.close()
    assert summary.totals[State.SENT] == 2


def test_lock_is_released_after_a_run(tmp_path: Path) -> None:
    """After a run the send lock is free again."""
    issue = make_issue()
    config = prepare(write_config(tmp_path, method="outbox"), addresses(1), issue)
    run_send(config, issue)
    db = open_db(config)
    try:
        assert LockStore(db, timedelta(hours=1)).holder("send") is None
    finally:
        db.close()


def test_outbox_writes_one_eml_per_recipient(tmp_path: Path) -> None:
    """The outbox method leaves one parseable .eml per recipient in the Maildir's new/."""
    issue = make_issue()
    config = prepare(write_config(tmp_path, method="outbox"), addresses(3), issue)
    run_send(config, issue)
    folder = outbox_folder(config)
    files = sorted((folder / "new").glob("*.eml"))
    assert len(files) == 3
    assert list((folder / "tmp").iterdir()) == []
    recipients = sorted(
        BytesParser(policy=policy.default).parsebytes(f.read_bytes())["To"] for f in files
    )
    assert recipients == addresses(3)
    assert len(mailbox.Maildir(folder, create=False)) == 3


def test_outbox_defaults_next_to_the_store(tmp_path: Path) -> None:
    """Without delivery.outbox the Maildir is outbox/ beside the store file."""
    config = load_config(write_config(tmp_path, method="outbox"))
    assert outbox_folder(config) == config.store.path.parent / "outbox"


def test_issue_is_marked_sent_when_done(tmp_path: Path) -> None:
    """The issue's status becomes ``sent`` once every row is final."""
    issue = make_issue()
    config = prepare(write_config(tmp_path, method="outbox"), addresses(2), issue)
    run_send(config, issue)
    db = open_db(config)
    try:
        record = IssueStore(db).record(issue.period)
        assert record is not None
        assert record.status == "sent"
        assert DeliveryStore(db).unfinished_periods() == []
    finally:
        db.close()


def test_dry_run_changes_nothing(tmp_path: Path) -> None:
    """A plan lists the recipients and leaves the ledger empty."""
    issue = make_issue()
    config = prepare(write_config(tmp_path, method="outbox"), addresses(3), issue)
    db = open_db(config)
    try:
        found = plan(config, db, issue, NOW)
        assert [address for address, _ in found.recipients] == addresses(3)
        assert not DeliveryStore(db).is_frozen(issue.period)
    finally:
        db.close()
    assert not (outbox_folder(config) / "new").exists()


def test_test_send_stays_outside_the_ledger(tmp_path: Path) -> None:
    """``--to`` sends one copy and creates no ledger rows."""
    with SmtpServer() as server:
        issue = make_issue()
        config = prepare(write_config(tmp_path, server.port), addresses(2), issue)
        attempt = send_test(config, issue, "admin@example.org", NOW)
    assert attempt.state is State.SENT
    assert server.handler.accepted == {"admin@example.org": 1}
    assert states(config, issue.period) == {}


def parse_eml(path: Path) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert isinstance(message, EmailMessage)
    return message


def test_test_send_keeps_the_recipients_outbox_file_and_is_marked(tmp_path: Path) -> None:
    """A test send to a subscriber has its own Message-ID and file, and says it is a test."""
    issue = make_issue()
    config = prepare(write_config(tmp_path, method="outbox"), addresses(1), issue)
    run_send(config, issue)
    send_test(config, issue, "r000@example.com", NOW)
    send_test(config, issue, "r000@example.com", NOW)
    messages = [parse_eml(f) for f in sorted((outbox_folder(config) / "new").glob("*.eml"))]
    assert len(messages) == 3
    tests = [m for m in messages if m["X-Swfeed-Test"] == "yes"]
    real = [m for m in messages if m["X-Swfeed-Test"] is None]
    assert len(tests) == 2
    assert len(real) == 1
    assert str(real[0]["Subject"]) == issue.subject
    assert all(str(m["Subject"]) == f"[TEST] {issue.subject}" for m in tests)
    ids = {str(m["Message-ID"]) for m in messages}
    assert len(ids) == 3
    assert all(str(m["Message-ID"]).startswith(f"<swfeed.test.{issue.period}.") for m in tests)


def test_queued_unsubscribe_is_applied_before_the_recipients_are_frozen(tmp_path: Path) -> None:
    """An unsubscribe `swfeed serve` queued while the store was busy stops the next issue."""
    with SmtpServer() as server:
        issue = make_issue()
        config = prepare(write_config(tmp_path, server.port), addresses(2), issue)
        enqueue(config.store.path, "r000@example.com", NOW)
        run_send(config, issue)
    assert server.handler.received == {"r001@example.com": 1}
    assert not queue_path(config.store.path).read_bytes()


PAUSED_SENDER = """
import os, smtplib, sys, time
from pathlib import Path
from swfeed.config import load_config
from swfeed.delivery.send import send_issue
from swfeed.store import Database
from swfeed.store.issues import IssueStore
from tests.smtpfixture import NOW


def pause(*args, **kwargs):
    print("paused", flush=True)
    time.sleep(60)


where = sys.argv[3]
if where == "smtp-data":  # just before the message's data goes out
    real_send = smtplib.SMTP.send
    smtplib.SMTP.send = lambda conn, data: pause() if len(data) > 200 else real_send(conn, data)
elif where == "outbox-write":  # half-way through writing the outbox file
    os.fsync = pause
config = load_config(Path(sys.argv[1]))
db = Database(config.store.path)
send_issue(config, db, IssueStore(db).get(sys.argv[2]), lambda: NOW)
"""


def kill_when_paused(config_path: Path, period: str, where: str) -> None:
    """Run a sender that pauses at ``where``, and kill -9 it there."""
    sender = subprocess.Popen(
        [sys.executable, "-c", PAUSED_SENDER, str(config_path), period, where],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sender.stdout is not None
        assert sender.stdout.readline().strip() == "paused"
        sender.send_signal(signal.SIGKILL)
    finally:
        sender.kill()
        sender.wait(timeout=10)


def test_kill_before_the_data_was_complete_sends_it_again(tmp_path: Path) -> None:
    """kill -9 before the message's data went out: the next run sends it, nothing unknown."""
    with SmtpServer() as server:
        path = write_config(tmp_path, server.port)
        issue = make_issue()
        config = prepare(path, addresses(2), issue)
        kill_when_paused(path, issue.period, "smtp-data")
        run_send(config, issue)
    assert set(states(config, issue.period).values()) == {State.SENT}
    assert server.handler.received == {"r000@example.com": 1, "r001@example.com": 1}


def test_outbox_write_killed_half_way_is_cleaned_up_and_retried(tmp_path: Path) -> None:
    """kill -9 mid-write of an outbox file: the next run rewrites it, nothing unknown."""
    path = write_config(tmp_path, method="outbox")
    issue = make_issue()
    config = prepare(path, addresses(2), issue)
    kill_when_paused(path, issue.period, "outbox-write")
    folder = outbox_folder(config)
    assert len(list((folder / "tmp").iterdir())) == 1
    run_send(config, issue)
    assert set(states(config, issue.period).values()) == {State.SENT}
    assert list((folder / "tmp").iterdir()) == []
    assert len(list((folder / "new").iterdir())) == 2
