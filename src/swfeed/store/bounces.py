"""Bounces and complaints: the report mails handled, and what each said about whom.

A report mail is remembered by the SHA-256 of its bytes, in the same transaction as its
events, so a mail read twice (a crash before it was moved out of the inbox) counts once.
Events are per (issue, address): ``hard`` (the address does not exist), ``soft`` (full,
or gave up after retrying), ``policy`` (refused for what we sent, e.g. 5.7.x), ``delayed``
(still trying: informational) and ``complaint`` (marked as spam).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from swfeed.store import Database, utc_text


class EventKind(StrEnum):
    """What a report said about one message."""

    HARD = "hard"
    SOFT = "soft"
    POLICY = "policy"
    DELAYED = "delayed"
    COMPLAINT = "complaint"


@dataclass(frozen=True, slots=True)
class BounceEvent:
    """One report about one message: issue (None for other list mail), address, what."""

    period: str | None
    address: str
    kind: EventKind
    status: str | None = None
    detail: str | None = None
    source: str = "mail"


@dataclass(frozen=True, slots=True)
class Rates:
    """An issue's bounces and complaints against the messages handed over."""

    period: str
    handed_over: int
    hard: int
    complaints: int
    policy: int
    soft: int

    @property
    def hard_rate(self) -> float:
        return self.hard / self.handed_over if self.handed_over else 0.0

    @property
    def complaint_rate(self) -> float:
        return self.complaints / self.handed_over if self.handed_over else 0.0


class BounceStore:
    """Queries and writes of ``bounce_mails`` and ``bounce_events``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def handled(self, digest: str) -> bool:
        """Whether the report mail with this digest was handled already."""
        row = self.db.conn.execute(
            "SELECT 1 FROM bounce_mails WHERE digest = ?", (digest,)
        ).fetchone()
        return row is not None

    def record_mail(
        self,
        digest: str,
        name: str,
        outcome: str,
        events: Sequence[BounceEvent],
        now: datetime,
    ) -> bool:
        """Remember a handled mail with its events, once; False if it was handled before."""
        with self.db.write() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO bounce_mails (digest, name, handled, outcome)"
                " VALUES (?, ?, ?, ?)",
                (digest, name, utc_text(now), outcome[:500]),
            )
            if not cursor.rowcount:
                return False
            for event in events:
                insert_event(conn, event, now)
            return True

    def rates(self, period: str) -> Rates:
        """Hard bounces and complaints (distinct addresses) of ``period``'s issue."""
        counts = dict.fromkeys(EventKind, 0)
        for row in self.db.conn.execute(
            "SELECT kind, COUNT(DISTINCT address) AS n FROM bounce_events WHERE period = ?"
            " GROUP BY kind",
            (period,),
        ):
            counts[EventKind(row["kind"])] = int(row["n"])
        handed = self.db.conn.execute(
            "SELECT COUNT(*) FROM deliveries WHERE period = ?"
            " AND state IN ('sent', 'failed', 'unknown')",
            (period,),
        ).fetchone()
        return Rates(
            period,
            int(handed[0]),
            counts[EventKind.HARD],
            counts[EventKind.COMPLAINT],
            counts[EventKind.POLICY],
            counts[EventKind.SOFT],
        )

    def hard_since(self, period: str, since: datetime) -> int:
        """Addresses of ``period`` with a hard bounce recorded at or after ``since``."""
        row = self.db.conn.execute(
            "SELECT COUNT(DISTINCT address) FROM bounce_events"
            " WHERE period = ? AND kind = 'hard' AND received >= ?",
            (period, utc_text(since)),
        ).fetchone()
        return int(row[0])

    def recipients(self, period: str) -> list[str]:
        """Every address ``period``'s issue was (to be) sent to."""
        rows = self.db.conn.execute("SELECT address FROM deliveries WHERE period = ?", (period,))
        return [row["address"] for row in rows]

    def soft_streak(self, address: str, period: str, also: str | None = None) -> int:
        """Issues in a row, back from ``period``, whose copy to ``address`` soft-bounced.

        Counts down the issues the address was sent (newest first, none after ``period``)
        and stops at the first without a soft bounce; ``also`` counts as soft-bounced too
        (the bounce being handled, not recorded yet).
        """
        sent = self.db.conn.execute(
            "SELECT period FROM deliveries WHERE address = ? AND period <= ?"
            " AND state IN ('sent', 'unknown') ORDER BY period DESC",
            (address, period),
        ).fetchall()
        bounced = {
            row["period"]
            for row in self.db.conn.execute(
                "SELECT DISTINCT period FROM bounce_events WHERE address = ? AND kind = 'soft'",
                (address,),
            )
        }
        if also is not None:
            bounced.add(also)
        streak = 0
        for row in sent:
            if row["period"] not in bounced:
                break
            streak += 1
        return streak

    def events(self, period: str | None = None) -> list[BounceEvent]:
        """Every event (of ``period``'s issue), oldest first."""
        sql = "SELECT * FROM bounce_events"
        params: tuple[str, ...] = ()
        if period is not None:
            sql += " WHERE period = ?"
            params = (period,)
        return [_event(row) for row in self.db.conn.execute(sql + " ORDER BY id", params)]


def insert_event(conn: sqlite3.Connection, event: BounceEvent, now: datetime) -> None:
    """Add one event inside the caller's transaction."""
    conn.execute(
        "INSERT INTO bounce_events (period, address, kind, status, detail, source, received)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            event.period,
            event.address,
            event.kind.value,
            event.status,
            (event.detail or "")[:500] or None,
            event.source,
            utc_text(now),
        ),
    )


def _event(row: sqlite3.Row) -> BounceEvent:
    return BounceEvent(
        period=row["period"],
        address=row["address"],
        kind=EventKind(row["kind"]),
        status=row["status"],
        detail=row["detail"],
        source=row["source"],
    )
