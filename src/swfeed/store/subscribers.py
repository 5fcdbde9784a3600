"""The mailing list: one row per address with its status (active, unsubscribed, bounced,
complained)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from swfeed.store import Database, utc_text


class Status(StrEnum):
    """Where a subscriber stands; only ``active`` addresses are mailed."""

    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"  # marked an issue as spam: unsubscribed and never mailed again


@dataclass(frozen=True, slots=True)
class Subscriber:
    """One address on the list."""

    address: str
    name: str
    status: Status
    created: datetime
    changed: datetime
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ImportCounts:
    """What an import did: new rows, renamed rows, untouched rows, and kept-out rows."""

    added: int = 0
    renamed: int = 0
    unchanged: int = 0
    kept_out: tuple[str, ...] = ()


class SubscriberStore:
    """Queries and writes of the ``subscribers`` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, address: str) -> Subscriber | None:
        row = self.db.conn.execute(
            "SELECT * FROM subscribers WHERE address = ?", (address,)
        ).fetchone()
        return _subscriber(row) if row else None

    def all(self, status: Status | None = None) -> list[Subscriber]:
        """Every subscriber (or those with ``status``), by address."""
        sql = "SELECT * FROM subscribers"
        params: tuple[str, ...] = ()
        if status is not None:
            sql += " WHERE status = ?"
            params = (status.value,)
        rows = self.db.conn.execute(sql + " ORDER BY address", params)
        return [_subscriber(row) for row in rows]

    def count(self, status: Status) -> int:
        row = self.db.conn.execute(
            "SELECT COUNT(*) FROM subscribers WHERE status = ?", (status.value,)
        ).fetchone()
        return int(row[0])

    def add(self, address: str, name: str, now: datetime) -> bool:
        """Subscribe ``address`` (re-activating it if it had left); True if it was not active."""
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT status FROM subscribers WHERE address = ?", (address,)
            ).fetchone()
            if row is None:
                _insert(conn, address, name, Status.ACTIVE, now)
                return True
            conn.execute(
                "UPDATE subscribers SET name = ?, status = 'active', changed = ?, note = NULL"
                " WHERE address = ?",
                (name, utc_text(now), address),
            )
            return bool(row["status"] != Status.ACTIVE)

    def import_all(self, entries: Sequence[tuple[str, str]], now: datetime) -> ImportCounts:
        """Add (address, name) pairs in one transaction; never re-activates anyone.

        Addresses that unsubscribed or bounced stay out: an import is not their consent.
        """
        added = renamed = unchanged = 0
        kept_out: list[str] = []
        with self.db.write() as conn:
            for address, name in entries:
                row = conn.execute(
                    "SELECT status, name FROM subscribers WHERE address = ?", (address,)
                ).fetchone()
                if row is None:
                    _insert(conn, address, name, Status.ACTIVE, now)
                    added += 1
                elif row["status"] != Status.ACTIVE:
                    kept_out.append(address)
                elif name and row["name"] != name:
                    conn.execute(
                        "UPDATE subscribers SET name = ?, changed = ? WHERE address = ?",
                        (name, utc_text(now), address),
                    )
                    renamed += 1
                else:
                    unchanged += 1
        return ImportCounts(added, renamed, unchanged, tuple(kept_out))

    def set_status(
        self, address: str, status: Status, now: datetime, note: str | None = None
    ) -> bool:
        """Set an address's status, remembering it even if unknown; True if anything changed.

        An unknown address is stored with this status, so a later import cannot add it back.
        """
        with self.db.write() as conn:
            return _set_status(conn, address, status, now, note)

    def set_many(
        self, addresses: Sequence[str], status: Status, now: datetime, note: str | None = None
    ) -> int:
        """``set_status`` for every address, in one transaction; how many changed."""
        with self.db.write() as conn:
            return sum(_set_status(conn, address, status, now, note) for address in addresses)


def _set_status(
    conn: sqlite3.Connection, address: str, status: Status, now: datetime, note: str | None
) -> bool:
    row = conn.execute("SELECT status FROM subscribers WHERE address = ?", (address,)).fetchone()
    if row is None:
        _insert(conn, address, "", status, now, note)
        return True
    if row["status"] == status:
        return False
    conn.execute(
        "UPDATE subscribers SET status = ?, changed = ?, note = ? WHERE address = ?",
        (status.value, utc_text(now), note, address),
    )
    return True


def _insert(
    conn: sqlite3.Connection,
    address: str,
    name: str,
    status: Status,
    now: datetime,
    note: str | None = None,
) -> None:
    conn.execute(
        "INSERT INTO subscribers (address, name, status, created, changed, note)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (address, name, status.value, utc_text(now), utc_text(now), note),
    )


def _subscriber(row: sqlite3.Row) -> Subscriber:
    return Subscriber(
        address=row["address"],
        name=row["name"],
        status=Status(row["status"]),
        created=datetime.fromisoformat(row["created"]),
        changed=datetime.fromisoformat(row["changed"]),
        note=row["note"],
    )
