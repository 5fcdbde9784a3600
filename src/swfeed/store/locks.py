"""Named process locks in the store, so two swfeed processes never do the same job at once.

A lock row names its holder (host, pid, a random part) and is refreshed by a heartbeat. It is
taken over when its holder is gone: a dead pid on this host, or no heartbeat for too long
(a holder on another host, or a hung one).
"""

from __future__ import annotations

import os
import secrets
import socket
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from swfeed.store import Database
from swfeed.store.articles import utc_text


@dataclass(frozen=True, slots=True)
class LockHolder:
    """Who holds a lock, since when, and doing what."""

    name: str
    owner: str
    pid: int
    acquired: datetime
    heartbeat: datetime
    detail: str | None

    @property
    def host(self) -> str:
        return self.owner.rsplit(":", 2)[0]


def new_owner() -> str:
    """A unique owner id for this process: host:pid:random."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host (signal 0 probes without harm)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LockStore:
    """Acquire, refresh and release rows of the ``locks`` table."""

    def __init__(self, db: Database, stale_after: timedelta) -> None:
        self.db = db
        self.stale_after = stale_after

    def acquire(
        self, name: str, owner: str, detail: str | None, now: datetime
    ) -> LockHolder | None:
        """Take the lock; None on success, else the live holder that has it."""
        with self.db.write() as conn:
            row = conn.execute("SELECT * FROM locks WHERE name = ?", (name,)).fetchone()
            if row is not None:
                holder = _holder(row)
                if holder.owner != owner and not self._gone(holder, now):
                    return holder
            conn.execute(
                "INSERT OR REPLACE INTO locks (name, owner, pid, acquired, heartbeat, detail)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (name, owner, _pid_of(owner), utc_text(now), utc_text(now), detail),
            )
        return None

    def heartbeat(self, name: str, owner: str, now: datetime) -> None:
        with self.db.write() as conn:
            conn.execute(
                "UPDATE locks SET heartbeat = ? WHERE name = ? AND owner = ?",
                (utc_text(now), name, owner),
            )

    def release(self, name: str, owner: str) -> None:
        with self.db.write() as conn:
            conn.execute("DELETE FROM locks WHERE name = ? AND owner = ?", (name, owner))

    def holder(self, name: str) -> LockHolder | None:
        row = self.db.conn.execute("SELECT * FROM locks WHERE name = ?", (name,)).fetchone()
        return _holder(row) if row else None

    def _gone(self, holder: LockHolder, now: datetime) -> bool:
        if now - holder.heartbeat > self.stale_after:
            return True
        return holder.host == socket.gethostname() and not pid_alive(holder.pid)


def _pid_of(owner: str) -> int:
    return int(owner.rsplit(":", 2)[1])


def _holder(row: sqlite3.Row) -> LockHolder:
    return LockHolder(
        name=row["name"],
        owner=row["owner"],
        pid=int(row["pid"]),
        acquired=datetime.fromisoformat(row["acquired"]),
        heartbeat=datetime.fromisoformat(row["heartbeat"]),
        detail=row["detail"],
    )
