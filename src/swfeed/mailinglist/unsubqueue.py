"""Unsubscribes that could not reach a busy store at once, kept durably until applied.

``swfeed serve`` answers an unsubscribe with 2xx only once it is applied or written here: one
JSON line per request in a file beside the store (``<store>.unsubscribe-queue``), appended
and fsynced under an exclusive file lock. ``apply_queued`` moves the queue into the store in
one transaction and empties it; the server does so a few seconds later, and every digest
send does so before it reads its recipients, so nobody who was told "unsubscribed" gets
another issue.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from swfeed.errors import StoreError
from swfeed.store import Database
from swfeed.store.subscribers import Status, SubscriberStore

SUFFIX = ".unsubscribe-queue"
NOTE = "unsubscribed by link"


def queue_path(store: Path) -> Path:
    """Where the queue of ``store`` lives: beside it."""
    return store.with_name(store.name + SUFFIX)


@contextmanager
def _locked(path: Path) -> Iterator[int]:
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield descriptor
    finally:
        os.close(descriptor)


def enqueue(store: Path, address: str, now: datetime) -> None:
    """Append one unsubscribe durably (fsynced); raises ``OSError`` if it cannot."""
    line = json.dumps({"address": address, "at": now.isoformat()}) + "\n"
    with _locked(queue_path(store)) as descriptor:
        os.write(descriptor, line.encode("utf-8"))
        os.fsync(descriptor)


def apply_queued(db: Database, now: datetime) -> int:
    """Move every queued unsubscribe into the store; how many were queued.

    The queue is emptied only after the store committed them; a store that is still busy
    (``StoreError``) leaves the queue as it was.
    """
    path = queue_path(db.path)
    if not path.exists():
        return 0
    with _locked(path) as descriptor:
        with open(descriptor, encoding="utf-8", closefd=False) as handle:
            handle.seek(0)
            addresses = _addresses(handle.read())
        if addresses:
            SubscriberStore(db).set_many(addresses, Status.UNSUBSCRIBED, now, NOTE)
        os.ftruncate(descriptor, 0)
        os.fsync(descriptor)
    return len(addresses)


def _addresses(text: str) -> list[str]:
    found: list[str] = []
    for line in text.splitlines():
        try:
            address = json.loads(line)["address"]
        except (ValueError, KeyError, TypeError):
            continue  # a line cut short by a crash: its request never got a 2xx
        if isinstance(address, str):
            found.append(address)
    return found


def try_apply(store: Path, now: datetime, busy_timeout: float) -> bool:
    """Apply the queue if the store lets us within ``busy_timeout``; True when it is empty."""
    try:
        with Database(store, busy_timeout=busy_timeout) as db:
            apply_queued(db, now)
    except (StoreError, OSError):
        return False
    return True
