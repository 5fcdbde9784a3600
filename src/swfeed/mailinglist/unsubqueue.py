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
from swfeed.store.subscribers import SubscriberStore

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


def enqueue(store: Path, address: str | None, now: datetime, ident: str | None = None) -> None:
    """Append one unsubscribe durably (fsynced); raises ``OSError`` if it cannot. A link
    names the subscriber by opaque ``ident`` (links of issues sent by 0.1: by address)."""
    entry = {"address": address, "at": now.isoformat()}
    if ident is not None:
        entry = {"id": ident, "at": now.isoformat()}
    line = json.dumps(entry) + "\n"
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
            addresses, idents = _entries(handle.read())
        if addresses or idents:
            SubscriberStore(db).leave_all(addresses, idents, now, NOTE)
        os.ftruncate(descriptor, 0)
        os.fsync(descriptor)
    return len(addresses) + len(idents)


def _entries(text: str) -> tuple[list[str], list[str]]:
    """The queued addresses and opaque ids."""
    addresses: list[str] = []
    idents: list[str] = []
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a line cut short by a crash: its request never got a 2xx
        if not isinstance(entry, dict):
            continue
        if isinstance(entry.get("id"), str):
            idents.append(entry["id"])
        elif isinstance(entry.get("address"), str):
            addresses.append(entry["address"])
    return addresses, idents


def try_apply(store: Path, now: datetime, busy_timeout: float) -> bool:
    """Apply the queue if the store lets us within ``busy_timeout``; True when it is empty."""
    try:
        with Database(store, busy_timeout=busy_timeout) as db:
            apply_queued(db, now)
    except (StoreError, OSError):
        return False
    return True
