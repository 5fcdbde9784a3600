"""The send lock and row claims: a sender that lost its lock never sends a message again."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from swfeed.config import Config
from swfeed.delivery.send import Progress, ProgressCallback, send_issue
from swfeed.errors import BusyError
from swfeed.store import Database
from swfeed.store.deliveries import DeliveryStore, State
from swfeed.store.issues import IssueStore
from swfeed.store.locks import LockStore, new_owner, process_identity
from swfeed.store.subscribers import NewEntry, SubscriberStore
from tests.smtpfixture import NOW, SmtpServer, addresses, make_issue, prepare, write_config

HOUR = timedelta(hours=1)
PERIOD = "2026-W11"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A real store file."""
    database = Database(tmp_path / "store.sqlite3")
    yield database
    database.close()


@pytest.fixture
def live_pid() -> Iterator[int]:
    """The pid of a live process on this host (not this one)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield child.pid
    child.kill()
    child.wait()


def here(pid: int, rest: str = "x") -> str:
    """An owner id on this host."""
    return f"{socket.gethostname()}:{pid}:{rest}"


def test_heartbeat_reports_a_lost_lock(db: Database) -> None:
    """Once another owner has the lock, the old owner's heartbeat says so and changes nothing."""
    locks = LockStore(db, HOUR)
    assert locks.acquire("send", "elsewhere:1:a", "W", NOW - timedelta(days=1)) is None
    assert locks.acquire("send", "elsewhere:2:b", "W", NOW) is None
    assert locks.heartbeat("send", "elsewhere:1:a", NOW) is False
    assert locks.heartbeat("send", "elsewhere:2:b", NOW) is True
    holder = locks.holder("send")
    assert holder is not None
    assert holder.owner == "elsewhere:2:b"


def test_live_holder_on_this_host_is_kept_however_old_its_heartbeat(
    db: Database, live_pid: int
) -> None:
    """A stopped (Ctrl-Z) or sleeping holder whose process lives is never taken over."""
    locks = LockStore(db, HOUR)
    assert locks.acquire("send", here(live_pid), "W", NOW - timedelta(days=2)) is None
    holder = locks.acquire("send", new_owner(), "W", NOW)
    assert holder is not None
    assert holder.pid == live_pid


def test_holder_on_another_host_is_taken_over_only_after_the_timeout(db: Database) -> None:
    """A holder elsewhere keeps the lock while its heartbeat is fresh, not after."""
    locks = LockStore(db, HOUR)
    assert locks.acquire("send", "elsewhere:7:a", "W", NOW) is None
    assert locks.acquire("send", new_owner(), "W", NOW + timedelta(minutes=59)) is not None
    assert locks.acquire("send", new_owner(), "W", NOW + timedelta(minutes=61)) is None


def test_lock_left_with_our_own_pid_by_an_earlier_process_is_taken_over(db: Database) -> None:
    """In a container (PID 1 again after a restart), a lock with our pid but not ours is stale."""
    with db.write() as conn:  # the row an earlier process with our pid left, fresh heartbeat
        conn.execute(
            "INSERT INTO locks (name, owner, pid, acquired, heartbeat, detail)"
            " VALUES ('send', ?, ?, ?, ?, 'W')",
            (here(os.getpid(), "before-restart"), os.getpid(), NOW.isoformat(), NOW.isoformat()),
        )
    assert LockStore(db, HOUR).acquire("send", new_owner(), "W", NOW) is None


def test_lock_held_by_another_sender_in_this_process_is_kept(db: Database) -> None:
    """A lock this very process holds (another thread's run) is not taken over."""
    locks = LockStore(db, HOUR)
    first = new_owner()
    assert locks.acquire("send", first, "W", NOW) is None
    holder = locks.acquire("send", new_owner(), "W", NOW)
    assert holder is not None
    assert holder.owner == first
    locks.release("send", first)
    assert locks.acquire("send", new_owner(), "W", NOW) is None


def test_lock_of_a_reused_pid_is_taken_over(db: Database, live_pid: int) -> None:
    """A lock whose pid now belongs to a different process (started later) is stale."""
    locks = LockStore(db, HOUR)
    assert locks.acquire("send", here(live_pid, "00000000.1-a"), "W", NOW) is None
    assert locks.acquire("send", new_owner(), "W", NOW) is None


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_lock_of_the_same_live_process_is_recognised(db: Database, live_pid: int) -> None:
    """An owner id naming the live process's own start time is that process: kept."""
    identity = process_identity(live_pid)
    assert identity is not None
    locks = LockStore(db, HOUR)
    assert locks.acquire("send", here(live_pid, f"{identity}-a"), "W", NOW) is None
    assert locks.acquire("send", new_owner(), "W", NOW) is not None


def test_claim_takes_only_rows_still_to_send(db: Database) -> None:
    """A row can be claimed once; a row another sender finished cannot be claimed."""
    prepare_rows(db, 2)
    ledger = DeliveryStore(db)
    assert ledger.claim(PERIOD, "r000@example.com", NOW) is True
    assert ledger.claim(PERIOD, "r000@example.com", NOW) is False
    with db.write() as conn:
        conn.execute("UPDATE deliveries SET state = 'sent' WHERE address = 'r001@example.com'")
    assert ledger.claim(PERIOD, "r001@example.com", NOW) is False
    states = {d.address: d.state for s in State for d in ledger.with_state(PERIOD, s)}
    assert states == {"r000@example.com": State.SENDING, "r001@example.com": State.SENT}


def test_claim_needs_the_lock_when_fenced(db: Database) -> None:
    """A claim fenced by a lock owner fails once that owner no longer holds the lock."""
    prepare_rows(db, 1)
    locks = LockStore(db, HOUR)
    assert locks.acquire("send", "elsewhere:1:a", "W", NOW) is None
    locks.release("send", "elsewhere:1:a")
    assert locks.acquire("send", "elsewhere:2:b", "W", NOW) is None
    ledger = DeliveryStore(db)
    assert ledger.claim(PERIOD, "r000@example.com", NOW, ("send", "elsewhere:1:a")) is False
    assert ledger.claim(PERIOD, "r000@example.com", NOW, ("send", "elsewhere:2:b")) is True


def prepare_rows(db: Database, count: int) -> None:
    """An issue with ``count`` subscribers, frozen into pending rows."""
    for address in addresses(count):
        SubscriberStore(db).add(NewEntry(address, ""), NOW, [])
    IssueStore(db).create(make_issue(PERIOD))
    DeliveryStore(db).freeze(PERIOD, NOW)


def take_over_after(config: Config, done: int) -> ProgressCallback:
    """A progress callback that hands the send lock to another host after ``done`` messages."""

    def progress(report: Progress) -> None:
        if report.done == done:
            with Database(config.store.path) as other, other.write() as conn:
                conn.execute("UPDATE locks SET owner = 'elsewhere:4242:z', pid = 4242")

    return progress


def test_sender_that_lost_its_lock_stops_and_sends_nothing_more(tmp_path: Path) -> None:
    """After a takeover (e.g. the sender was suspended), the old sender sends no further message."""
    with SmtpServer() as server:
        issue = make_issue(PERIOD)
        config = prepare(write_config(tmp_path, server.port), addresses(10), issue)
        progress = take_over_after(config, 3)
        with Database(config.store.path) as db, pytest.raises(BusyError) as caught:
            send_issue(config, db, issue, lambda: NOW, progress=progress)
    assert "elsewhere" in caught.value.message
    assert "sent nothing more" in caught.value.message
    assert sum(server.handler.received.values()) == 3
    with Database(config.store.path) as db:
        counts = DeliveryStore(db).counts(PERIOD)
        holder = LockStore(db, HOUR).holder("send")
    assert counts[State.SENT] == 3
    assert counts[State.PENDING] == 7
    assert holder is not None
    assert holder.owner == "elsewhere:4242:z"


def test_row_finished_by_someone_else_meanwhile_is_not_sent_again(tmp_path: Path) -> None:
    """A row already sent when its turn comes (the batch was read earlier) is skipped."""
    with SmtpServer() as server:
        issue = make_issue(PERIOD)
        config = prepare(write_config(tmp_path, server.port), addresses(5), issue)

        def progress(report: Progress) -> None:
            if report.done == 1:
                with Database(config.store.path) as other, other.write() as conn:
                    conn.execute(
                        "UPDATE deliveries SET state = 'sent' WHERE address = 'r003@example.com'"
                    )

        with Database(config.store.path) as db:
            summary = send_issue(config, db, issue, lambda: NOW, progress=progress)
    assert "r003@example.com" not in server.handler.received
    assert server.handler.received == dict.fromkeys(
        ["r000@example.com", "r001@example.com", "r002@example.com", "r004@example.com"], 1
    )
    assert summary.run[State.SENT] == 4
    assert summary.totals[State.SENT] == 5
