"""The queue of mails to one person (confirmations and welcomes), sent by `swfeed serve`.

A web request only queues (``enqueue``, inside its own transaction); the server's worker
sends. Rows name the subscriber by opaque id, never by address, so erasing a person
deletes their queued mails with them. Like the digest's ledger, a row is claimed
(``sending``) just before it is handed over and settled right after, so a crash leaves at
most one row ``sending``, which the next start marks ``unknown`` instead of sending twice.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from swfeed.store import Database, utc_text


class Kind(StrEnum):
    """What a queued mail is."""

    CONFIRM = "confirm"
    WELCOME = "welcome"


@dataclass(frozen=True, slots=True)
class QueuedMail:
    """One row of the queue."""

    id: int
    kind: Kind
    subscriber: str
    created: datetime
    attempts: int


def enqueue(conn: sqlite3.Connection, kind: Kind, subscriber: str, now: datetime) -> None:
    """Queue a mail (call inside the transaction that decided it)."""
    conn.execute(
        "INSERT INTO mail_queue (kind, subscriber, created, changed) VALUES (?, ?, ?, ?)",
        (kind.value, subscriber, utc_text(now), utc_text(now)),
    )


class MailQueue:
    """Queries and writes of the ``mail_queue`` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def due(self, now: datetime, limit: int = 50) -> list[QueuedMail]:
        """Mails to send now, oldest first."""
        rows = self.db.conn.execute(
            "SELECT * FROM mail_queue WHERE state = 'pending'"
            " OR (state = 'deferred' AND next_attempt <= ?) ORDER BY id LIMIT ?",
            (utc_text(now), limit),
        )
        return [
            QueuedMail(
                row["id"],
                Kind(row["kind"]),
                row["subscriber"],
                datetime.fromisoformat(row["created"]),
                int(row["attempts"]),
            )
            for row in rows
        ]

    def claim(self, mail_id: int, now: datetime) -> bool:
        """Mark a mail as being handed over; False if someone else has it."""
        with self.db.write() as conn:
            cursor = conn.execute(
                "UPDATE mail_queue SET state = 'sending', attempts = attempts + 1, changed = ?"
                " WHERE id = ? AND state IN ('pending', 'deferred')",
                (utc_text(now), mail_id),
            )
        return cursor.rowcount > 0

    def settle(
        self,
        mail_id: int,
        state: str,
        now: datetime,
        reply: str = "",
        next_attempt: datetime | None = None,
    ) -> None:
        """Record how a mail went: sent, deferred (with its next attempt), failed, dropped."""
        with self.db.write() as conn:
            conn.execute(
                "UPDATE mail_queue SET state = ?, last_error = ?, next_attempt = ?, changed = ?"
                " WHERE id = ?",
                (
                    state,
                    reply[:500] or None,
                    utc_text(next_attempt) if next_attempt else None,
                    utc_text(now),
                    mail_id,
                ),
            )

    def recover_in_flight(self, now: datetime) -> int:
        """Mark mails a crashed server left ``sending`` as ``unknown``; how many."""
        with self.db.write() as conn:
            return conn.execute(
                "UPDATE mail_queue SET state = 'unknown', changed = ? WHERE state = 'sending'",
                (utc_text(now),),
            ).rowcount

    def counts(self) -> dict[str, int]:
        """How many mails are in each state."""
        rows = self.db.conn.execute("SELECT state, COUNT(*) FROM mail_queue GROUP BY state")
        return {str(row[0]): int(row[1]) for row in rows}

    def prune(self, before: datetime) -> int:
        """Forget finished mails older than ``before``; how many."""
        with self.db.write() as conn:
            return conn.execute(
                "DELETE FROM mail_queue WHERE created < ?"
                " AND state IN ('sent', 'failed', 'unknown', 'dropped')",
                (utc_text(before),),
            ).rowcount
