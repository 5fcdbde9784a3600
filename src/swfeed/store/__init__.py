"""The SQLite store: the source of truth for what happened. All SQL lives in this package.

WAL mode, a busy timeout, and every write in a ``BEGIN IMMEDIATE`` transaction, so the
daemon and CLI commands can share one file. The schema carries a version (``PRAGMA
user_version``) and is migrated forward on open; a file from a newer swfeed is refused.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from swfeed.errors import StoreError
from swfeed.store.schema import MIGRATIONS

BUSY_TIMEOUT_MS = 10_000


def utc_text(value: datetime) -> str:
    """An aware datetime as sortable UTC ISO 8601 text: how every time is stored."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


class Database:
    """One connection to the store file, with transactions and migrations."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(
                path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the store {path}: {exc}") from None
        self.conn.row_factory = sqlite3.Row
        try:
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self.conn.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise StoreError(
                f"cannot use the store {path}: {exc}",
                hint="store.path must name an SQLite file swfeed created (or a new one); "
                "move the other file away or point store.path elsewhere.",
            ) from None

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A ``BEGIN IMMEDIATE`` transaction: committed on success, rolled back on error."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"the store {self.path} is busy: {exc}") from None
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

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
