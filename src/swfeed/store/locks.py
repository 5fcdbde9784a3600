"""Named process locks in the store, so two swfeed processes never do the same job at once.

A lock row names its holder, ``host:pid:identity-random`` (``identity`` is the process's
boot id and start time where ``/proc`` tells them), and is refreshed by a heartbeat.

It is taken over only when its holder is surely gone:

- on this host: the pid is dead, or now belongs to another process (its start time differs
  from the one recorded: the pid was reused, e.g. after a reboot), or is our own pid without
  being one of our locks (a container's PID 1 after a restart). A holder that is alive is
  never taken over, however old its heartbeat: a sender stopped with Ctrl-Z, or on a machine
  that slept, would carry on sending when it wakes up;
- on another host: no heartbeat for ``stale_after``.

A holder that lost its lock anyway learns it from ``heartbeat`` (False), and every ledger
claim is fenced by the lock (``DeliveryStore.claim``), so it cannot send once it lost it.
"""

from __future__ import annotations

import os
import secrets
import socket
import sqlite3
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from swfeed.store import Database, utc_text


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


#: Owner ids whose locks this process holds now (acquired, not yet released or lost).
_HELD: set[str] = set()


def new_owner() -> str:
    """A unique owner id for this process: ``host:pid:identity-random``."""
    pid = os.getpid()
    identity = process_identity(pid)
    random = secrets.token_hex(4)
    return f"{socket.gethostname()}:{pid}:{identity + '-' if identity else ''}{random}"


def process_identity(pid: int) -> str | None:
    """``bootid.starttime`` of a process (Linux ``/proc``): the same only for that process.

    None where ``/proc`` is missing or the process has gone.
    """
    with suppress(OSError, IndexError, ValueError):
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        stat = Path(f"/proc/{pid}/stat").read_text()
        start = stat.rpartition(")")[2].split()[19]  # field 22: start time, in ticks after boot
        return f"{boot.replace('-', '')[:12]}.{int(start)}"
    return None


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
        _HELD.add(owner)
        return None

    def heartbeat(self, name: str, owner: str, now: datetime) -> bool:
        """Refresh the lock; False if ``owner`` no longer holds it (it was taken over)."""
        with self.db.write() as conn:
            cursor = conn.execute(
                "UPDATE locks SET heartbeat = ? WHERE name = ? AND owner = ?",
                (utc_text(now), name, owner),
            )
        if cursor.rowcount == 0:
            _HELD.discard(owner)
        return cursor.rowcount > 0

    def release(self, name: str, owner: str) -> None:
        with self.db.write() as conn:
            conn.execute("DELETE FROM locks WHERE name = ? AND owner = ?", (name, owner))
        _HELD.discard(owner)

    def holder(self, name: str) -> LockHolder | None:
        row = self.db.conn.execute("SELECT * FROM locks WHERE name = ?", (name,)).fetchone()
        return _holder(row) if row else None

    def _gone(self, holder: LockHolder, now: datetime) -> bool:
        if holder.host != socket.gethostname():
            return now - holder.heartbeat > self.stale_after
        return not holder_alive(holder)


def holder_alive(holder: LockHolder) -> bool:
    """Whether a holder on this host is still running (whatever its heartbeat says)."""
    if holder.pid == os.getpid():
        return holder.owner in _HELD
    if not pid_alive(holder.pid):
        return False
    recorded, current = _identity_of(holder.owner), process_identity(holder.pid)
    return recorded is None or current is None or recorded == current


def _pid_of(owner: str) -> int:
    return int(owner.rsplit(":", 2)[1])


def _identity_of(owner: str) -> str | None:
    identity, dash, _random = owner.rsplit(":", 2)[2].rpartition("-")
    return identity if dash else None


def _holder(row: sqlite3.Row) -> LockHolder:
    return LockHolder(
        name=row["name"],
        owner=row["owner"],
        pid=int(row["pid"]),
        acquired=datetime.fromisoformat(row["acquired"]),
        heartbeat=datetime.fromisoformat(row["heartbeat"]),
        detail=row["detail"],
    )
