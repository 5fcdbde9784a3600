"""One daemon per store: an OS file lock next to the store, and what the daemon reports.

``swfeed run`` holds ``fcntl.flock`` on ``<store>.daemon.lock`` for its whole life. The kernel
drops the lock when the process ends in any way (even ``kill -9``), so there is never a stale
lock to clean up. Beside it, ``<store>.daemon.json`` (replaced atomically) says which pid
holds it, since when, and when its jobs run next; ``swfeed status`` reads both.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from swfeed.atomicfile import atomic_write
from swfeed.errors import BusyError

LOCK_SUFFIX = ".daemon.lock"
INFO_SUFFIX = ".daemon.json"


def lock_path(store: Path) -> Path:
    return store.with_name(store.name + LOCK_SUFFIX)


def info_path(store: Path) -> Path:
    return store.with_name(store.name + INFO_SUFFIX)


@dataclass(frozen=True, slots=True)
class DaemonInfo:
    """What a running daemon says about itself (times in clock time)."""

    pid: int
    started: datetime | None
    config: str
    next_fetch: datetime | None = None
    next_digest: datetime | None = None
    rejected_at: datetime | None = None
    rejected: str | None = None
    """The last reload that was refused (when, and why), until a reload succeeds."""

    def to_json(self) -> str:
        return json.dumps(
            {
                "pid": self.pid,
                "started": _iso(self.started),
                "config": self.config,
                "next_fetch": _iso(self.next_fetch),
                "next_digest": _iso(self.next_digest),
                "rejected_at": _iso(self.rejected_at),
                "rejected": self.rejected,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> DaemonInfo:
        data: dict[str, Any] = json.loads(text)
        return cls(
            pid=int(data["pid"]),
            started=_time(data.get("started")),
            config=str(data.get("config", "")),
            next_fetch=_time(data.get("next_fetch")),
            next_digest=_time(data.get("next_digest")),
            rejected_at=_time(data.get("rejected_at")),
            rejected=data.get("rejected"),
        )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class DaemonLock:
    """The exclusive lock of one store's daemon."""

    def __init__(self, store: Path) -> None:
        self.store = store
        self._fd: int | None = None

    def acquire(self, wait: float = 2.0) -> None:
        """Take the lock, or raise ``BusyError`` naming the daemon that holds it.

        Retries for ``wait`` seconds, so a ``swfeed status`` probing the lock at the same
        instant does not make the daemon give up.
        """
        path = lock_path(self.store)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + wait
        while not _try_flock(fd, fcntl.LOCK_EX):
            if time.monotonic() >= deadline:
                os.close(fd)
                raise _busy(self.store)
            time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def publish(self, info: DaemonInfo) -> None:
        """Replace the info file (atomically) with ``info``."""
        atomic_write(info_path(self.store), (info.to_json() + "\n").encode("utf-8"))

    def release(self) -> None:
        if self._fd is None:
            return
        info_path(self.store).unlink(missing_ok=True)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None


def _try_flock(fd: int, mode: int) -> bool:
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _busy(store: Path) -> BusyError:
    pid = _holder_pid(store)
    who = f" (pid {pid})" if pid else ""
    return BusyError(
        f"another `swfeed run` is already running for the store {store}{who}",
        hint="Only one daemon may run per store. Stop the other one first "
        "(e.g. `systemctl stop swfeed`), or point store.path at another file. "
        "Other commands (status, publish, digest send) work beside it.",
    )


def _holder_pid(store: Path) -> int | None:
    try:
        text = lock_path(store).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def running_daemon(store: Path) -> DaemonInfo | None:
    """The daemon running for ``store``, or None when none holds the lock."""
    try:
        fd = os.open(lock_path(store), os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        if _try_flock(fd, fcntl.LOCK_SH):
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
    finally:
        os.close(fd)
    return _read_info(store)


def _read_info(store: Path) -> DaemonInfo:
    try:
        return DaemonInfo.from_json(info_path(store).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError):
        pid = _holder_pid(store) or 0
        return DaemonInfo(pid=pid, started=None, config="")
