"""One daemon per store: the OS file lock, and the info file ``swfeed status`` reads."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from swfeed.daemon.lock import DaemonInfo, DaemonLock, lock_path, running_daemon
from swfeed.errors import BusyError

HOLD_LOCK = """
import sys, time
from pathlib import Path
from swfeed.daemon.lock import DaemonLock
DaemonLock(Path(sys.argv[1])).acquire()
print("locked", flush=True)
time.sleep(60)
"""


def test_second_lock_is_refused_naming_the_holder(tmp_path: Path) -> None:
    """A second daemon on the same store gets a BusyError with the first one's pid."""
    store = tmp_path / "swfeed.sqlite3"
    first = DaemonLock(store)
    first.acquire()
    try:
        with pytest.raises(BusyError) as caught:
            DaemonLock(store).acquire(wait=0.1)
    finally:
        first.release()
    assert f"pid {os.getpid()}" in str(caught.value)
    assert "Only one daemon" in caught.value.hint


def test_lock_is_free_again_after_release(tmp_path: Path) -> None:
    """Releasing the lock lets the next daemon start."""
    store = tmp_path / "swfeed.sqlite3"
    first = DaemonLock(store)
    first.acquire()
    first.release()
    second = DaemonLock(store)
    second.acquire(wait=0.1)
    second.release()


def test_running_daemon_reports_the_published_info(tmp_path: Path) -> None:
    """While the lock is held, status sees the pid and next run times."""
    store = tmp_path / "swfeed.sqlite3"
    lock = DaemonLock(store)
    lock.acquire()
    info = DaemonInfo(
        pid=os.getpid(),
        started=datetime(2026, 3, 23, 8, tzinfo=UTC),
        config="swfeed.yaml",
        next_fetch=datetime(2026, 3, 23, 8, 15, tzinfo=UTC),
        next_digest=None,
    )
    try:
        lock.publish(info)
        assert running_daemon(store) == info
    finally:
        lock.release()
    assert running_daemon(store) is None


def test_no_lock_file_means_no_daemon(tmp_path: Path) -> None:
    """A store that never had a daemon reports none."""
    assert running_daemon(tmp_path / "swfeed.sqlite3") is None


def test_lock_of_a_killed_daemon_is_free(tmp_path: Path) -> None:
    """After kill -9 of the holder the kernel drops the lock: no stale lock to clear."""
    store = tmp_path / "swfeed.sqlite3"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(store)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        assert running_daemon(store) is not None
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
    finally:
        holder.kill()
        holder.wait(timeout=10)
    assert lock_path(store).exists()
    deadline = time.monotonic() + 5
    while running_daemon(store) is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    lock = DaemonLock(store)
    lock.acquire(wait=0.5)
    lock.release()
