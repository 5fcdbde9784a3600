"""The SQLite store: the source of truth for what happened. All SQL lives in this package.

WAL mode, a busy timeout, and every write in a ``BEGIN IMMEDIATE`` transaction, so the
daemon and CLI commands can share one file. The schema carries a version (``PRAGMA
user_version``) and is migrated forward on open; a file from a newer swfeed is refused.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from swfeed.errors import StoreBusy, StoreError, StoreFull
from swfeed.store.schema import MIGRATIONS

BUSY_TIMEOUT_MS = 10_000


def utc_text(value: datetime) -> str:
    """An aware datetime as sortable UTC ISO 8601 text: how every time is stored."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def from_utc_text(value: str | None) -> datetime | None:
    """A stored time (``utc_text``) read back; no time stays None."""
    return datetime.fromisoformat(value) if value else None


class Database:
    """One connection to the store file, with transactions and migrations."""

    def __init__(self, path: Path, busy_timeout: float = BUSY_TIMEOUT_MS / 1000) -> None:
        """Open (create, migrate) the store; a write waits up to ``busy_timeout`` seconds
        for another process's write to end."""
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(
                path, isolation_level=None, timeout=busy_timeout, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the store {path}: {exc}") from None
        self.conn.row_factory = sqlite3.Row
        try:
            self.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            _use_wal(self.conn, busy_timeout)
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self.conn.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise _open_error(path, exc) from None

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A ``BEGIN IMMEDIATE`` transaction: committed on success, rolled back on error.

        A full disk is ``StoreFull`` and a lock held too long ``StoreBusy``, each after the
        transaction was rolled back (SQLite may have done so itself), so nothing half-done
        is ever kept and the next write works once the cause is gone.
        """
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise self._write_error(exc) from None
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException as exc:
            if self.conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError) and _code(exc) in _WRITE_CODES:
                raise self._write_error(exc) from None
            raise

    def _write_error(self, exc: sqlite3.Error) -> StoreError:
        known = _known_error(self.path, exc)
        if known is not None:
            return known
        if _code(exc) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            return StoreBusy(f"the store {self.path} is busy: {exc}")
        return StoreError(f"cannot write to the store {self.path}: {exc}")

    @property
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        version = self.schema_version
        if version > len(MIGRATIONS):
            raise StoreError(
                f"the store {self.path} has schema version {version}, newer than this swfeed "
                f"knows ({len(MIGRATIONS)})",
                hint="Upgrade swfeed, or point store.path at another file.",
            )
        for number in range(version, len(MIGRATIONS)):
            with self.write() as conn:
                if self.schema_version > number:
                    continue  # another connection (a thread, a process) applied it meanwhile
                for statement in _statements(MIGRATIONS[number]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number + 1}")

    @classmethod
    def read_only(cls, path: Path) -> Database | None:
        """An existing store opened for reading only (never created or migrated).

        None when there is no store yet, or it is at another schema version.
        """
        if not path.is_file():
            return None
        db = cls.__new__(cls)
        db.path = path
        try:
            db.conn = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None
            )
            db.conn.row_factory = sqlite3.Row
            if db.schema_version != len(MIGRATIONS):
                db.conn.close()
                return None
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the store {path}: {exc}") from None
        return db

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


READ_ONLY_HINT = (
    "Let the user running swfeed write the store file, the folder it is in, and the "
    "-wal and -shm files beside it (e.g. `chown` them to the service user, or mount the "
    "volume read-write); keep the store file where it is: it holds what was sent to whom."
)
_WRITE_CODES = frozenset(
    {sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_BUSY}
)
#: Free bytes under which an I/O error of the store counts as a full disk (SQLite reports
#: a full disk as SQLITE_FULL, or as an I/O error when its shared-memory file cannot grow).
NEARLY_FULL = 1 << 20


def _code(exc: sqlite3.Error) -> int:
    """The primary SQLite result code of an error (extended codes folded)."""
    return int(getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF


def _known_error(path: Path, exc: sqlite3.Error) -> StoreError | None:
    """A full disk or a read-only store, said plainly; None for other errors."""
    code = _code(exc)
    if code == sqlite3.SQLITE_FULL or (code == sqlite3.SQLITE_IOERR and _no_space(path)):
        return StoreFull(f"the disk holding the store {path} is full ({exc})")
    if code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN):
        return StoreError(f"cannot write to the store {path} ({exc})", hint=READ_ONLY_HINT)
    return None


def _no_space(path: Path) -> bool:
    try:
        return shutil.disk_usage(path.parent).free < NEARLY_FULL
    except OSError:
        return False


def _open_error(path: Path, exc: sqlite3.DatabaseError) -> StoreError:
    """Why the store cannot be used, with a hint that never endangers a good store."""
    known = _known_error(path, exc)
    if known is not None:
        return known
    if _code(exc) == sqlite3.SQLITE_NOTADB:
        return StoreError(
            f"cannot use the store {path}: {exc}",
            hint="store.path must name an SQLite file swfeed created, or a new one: "
            "point store.path at such a file.",
        )
    return StoreError(f"cannot use the store {path}: {exc}")


def _use_wal(conn: sqlite3.Connection, busy_timeout: float) -> None:
    """Switch to WAL. A new file that another connection is setting up at the same moment
    answers "locked" without waiting (the busy handler does not cover this pragma), so it
    is retried for up to ``busy_timeout``."""
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            locked = _code(exc) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
            if not locked or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (``executescript`` would commit early)."""
    statements: list[str] = []
    current = ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements
