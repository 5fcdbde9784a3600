"""The delivery ledger: one row per (issue, recipient), moved through its states in transactions.

``pending`` rows are created once, when sending an issue starts (the recipient list is frozen
then). A row is claimed (``sending``) just before the message's data is handed over and is
committed as ``sent``, ``deferred``, ``failed`` or ``unknown`` right after, so a crash leaves
at most one row in ``sending``. Its ``step`` says how far it got: ``data`` until the
message's data is complete but for its final dot, ``reply`` from just before that dot (or the
outbox file's rename) on. The next run sends a ``data`` row again (the relay discards an
incomplete message) and marks a ``reply`` row ``unknown`` (it may or may not have arrived)
instead of sending it twice: only a crash between the final dot and the reply costs a copy.

A claim is one conditional ``UPDATE``: it succeeds only while the row is still ``pending``
or ``deferred`` and, when fenced, only while the sender still holds its lock. So a sender
working from rows it read earlier, or one that lost its lock while stopped, cannot hand over
a message someone else has sent (or is sending).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from swfeed.store import Database, utc_text
from swfeed.store.bounces import BounceEvent, EventKind, insert_event


class State(StrEnum):
    """Where one (issue, recipient) delivery stands."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEFERRED = "deferred"
    FAILED = "failed"
    UNKNOWN = "unknown"
    SKIPPED = "skipped"


FINAL_STATES = frozenset({State.SENT, State.FAILED, State.UNKNOWN, State.SKIPPED})
#: A row still to attempt, which a sender may claim.
OPEN = (State.PENDING, State.DEFERRED)
#: A row a sender claimed (``unknown`` if another sender recovered it while it was in flight).
CLAIMED = (State.SENDING, State.UNKNOWN)

IN_FLIGHT_NOTE = "in flight when the sender stopped: it may or may not have arrived"
INCOMPLETE_NOTE = "the sender stopped before its data was complete: sent again"

#: (lock name, owner id): a write so fenced only happens while that owner holds that lock.
Fence = tuple[str, str]
_FENCED = " AND EXISTS (SELECT 1 FROM locks WHERE name = ? AND owner = ?)"
#: The topic sets of the subscribers mailed now (active and not pausing).
_TOPIC_SETS = (
    "SELECT DISTINCT topics FROM subscribers WHERE status = 'active'"
    " AND (paused_until IS NULL OR paused_until <= ?) ORDER BY topics"
)
#: The subscribers mailed now.
_RECIPIENTS = (
    "SELECT address, name FROM subscribers WHERE status = 'active'"
    " AND (paused_until IS NULL OR paused_until <= ?) ORDER BY address"
)
#: The rows of the subscribers with one topic set who are mailed now.
_FREEZE_SET = (
    "INSERT INTO deliveries (period, address, name, state, last_error, changed, topics)"
    " SELECT ?, address, name, ?, ?, ?, ? FROM subscribers WHERE status = 'active'"
    " AND (paused_until IS NULL OR paused_until <= ?) AND topics = ? ORDER BY address"
)
NOTHING_ON_TOPICS = "nothing new on their topics in this issue"


@dataclass(frozen=True, slots=True)
class Variant:
    """What the subscribers with one topic set get of an issue: ``topics`` '' is the
    whole issue; any other is a version with only their topics' stories."""

    topics: str
    subject: str = ""
    html: str = ""
    text: str = ""
    article_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Delivery:
    """One ledger row."""

    period: str
    address: str
    name: str
    state: State
    attempts: int
    last_error: str | None
    next_attempt: datetime | None
    changed: datetime
    topics: str = ""
    subscriber_id: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one attempt, as the ledger records it."""

    state: State
    reply: str = ""
    next_attempt: datetime | None = None
    bounced: bool = False


class DeliveryStore:
    """Queries and writes of the ``deliveries`` table (and the issue's sending status)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def recipients(self, now: datetime) -> list[tuple[str, str]]:
        """(address, name) of the subscribers an issue frozen now would go to."""
        rows = self.db.conn.execute(_RECIPIENTS, (utc_text(now),))
        return [(row["address"], row["name"]) for row in rows]

    def topic_sets(self, now: datetime) -> list[str]:
        """The distinct topic sets of the subscribers who would be mailed now."""
        return _topic_sets(self.db.conn, now)

    def freeze(
        self, period: str, now: datetime, variants: Mapping[str, Variant | None] | None = None
    ) -> int | None:
        """Freeze the recipient list once, with what each recipient gets; rows created.

        ``variants`` maps each topic set to its variant (None: nothing for them, so their
        rows are ``skipped``); without it everyone gets the whole issue. None, freezing
        nothing, when a topic set turned up that ``variants`` lacks (make them again).
        """
        with self.db.write() as conn:
            if _has_rows(conn, period):
                return 0
            wanted = _topic_sets(conn, now)
            chosen = {key: Variant("") for key in wanted} if variants is None else variants
            if any(key not in chosen for key in wanted):
                return None
            created = sum(_freeze_set(conn, period, key, chosen[key], now) for key in wanted)
            _set_issue_status(conn, period, "sending", now)
            return created

    def variant(self, period: str, topics: str) -> Variant | None:
        """The frozen variant of an issue for a topic set ('' is the issue itself: None)."""
        row = self.db.conn.execute(
            "SELECT * FROM issue_variants WHERE period = ? AND topics = ?", (period, topics)
        ).fetchone()
        if row is None:
            return None
        ids = tuple(json.loads(row["article_ids"]))
        return Variant(row["topics"], row["subject"], row["html"], row["text"], ids)

    def is_frozen(self, period: str) -> bool:
        return _has_rows(self.db.conn, period)

    def recover_in_flight(self, period: str, now: datetime) -> list[str]:
        """Rows a dead sender left in ``sending``: those whose data was incomplete go back to
        ``pending``; those awaiting the reply become ``unknown``. The unknown addresses."""
        with self.db.write() as conn:
            rows = conn.execute(
                "SELECT address FROM deliveries WHERE period = ? AND state = 'sending'"
                " AND step = 'reply'",
                (period,),
            ).fetchall()
            conn.execute(
                "UPDATE deliveries SET state = 'unknown', last_error = ?, changed = ?"
                " WHERE period = ? AND state = 'sending' AND step = 'reply'",
                (IN_FLIGHT_NOTE, utc_text(now), period),
            )
            conn.execute(
                "UPDATE deliveries SET state = 'pending', last_error = ?, changed = ?"
                " WHERE period = ? AND state = 'sending' AND step = 'data'",
                (INCOMPLETE_NOTE, utc_text(now), period),
            )
        return [row["address"] for row in rows]

    def awaiting_reply(self, period: str, address: str, now: datetime) -> bool:
        """Commit that the point of no return comes next (the final dot, the outbox rename):
        from here a crash leaves the row ``unknown``. False if the row is not ``sending``."""
        with self.db.write() as conn:
            cursor = conn.execute(
                "UPDATE deliveries SET step = 'reply', changed = ?"
                " WHERE period = ? AND address = ? AND state = 'sending'",
                (utc_text(now), period, address),
            )
            return cursor.rowcount > 0

    def due(self, period: str, now: datetime, limit: int = 500) -> list[Delivery]:
        """Rows to attempt now: pending ones first, then deferred ones whose time has come
        (each with its subscriber's opaque id, for their links)."""
        rows = self.db.conn.execute(
            "SELECT d.*, s.id AS subscriber_id FROM deliveries d"
            " LEFT JOIN subscribers s ON s.address = d.address"
            " WHERE d.period = ? AND (d.state = 'pending'"
            " OR (d.state = 'deferred' AND d.next_attempt <= ?))"
            " ORDER BY d.state = 'deferred', d.next_attempt, d.rowid LIMIT ?",
            (period, utc_text(now), limit),
        )
        return [_delivery(row) for row in rows]

    def next_retry(self, period: str) -> datetime | None:
        """When the earliest deferred row is due, if any."""
        row = self.db.conn.execute(
            "SELECT MIN(next_attempt) FROM deliveries WHERE period = ? AND state = 'deferred'",
            (period,),
        ).fetchone()
        return datetime.fromisoformat(row[0]) if row[0] else None

    def subscriber_active(self, address: str) -> bool:
        row = self.db.conn.execute(
            "SELECT status FROM subscribers WHERE address = ?", (address,)
        ).fetchone()
        return row is not None and row["status"] == "active"

    def claim(self, period: str, address: str, now: datetime, fence: Fence | None = None) -> bool:
        """Commit that this message is about to be handed over (before DATA).

        True only if the row was still to send (``pending`` or ``deferred``) and, with a
        ``fence``, its owner still holds the lock; else nothing changes and nothing may be sent.
        """
        sql = (
            "UPDATE deliveries SET state = 'sending', step = 'data', attempts = attempts + 1,"
            " changed = ?"
            " WHERE period = ? AND address = ? AND state IN (?, ?)"
        )
        with self.db.write() as conn:
            cursor = conn.execute(
                sql + (_FENCED if fence else ""),
                (utc_text(now), period, address, *OPEN, *(fence or ())),
            )
            return cursor.rowcount > 0

    def record(
        self,
        period: str,
        address: str,
        outcome: Outcome,
        now: datetime,
        *,
        only_from: tuple[State, ...] = (),
        fence: Fence | None = None,
    ) -> bool:
        """Commit an attempt's outcome (and a bounce on the subscriber) in one transaction.

        ``only_from``: change the row only while it is in one of these states (the sender
        passes ``CLAIMED`` for a row it claimed, ``OPEN`` for one refused before DATA or
        skipped); ``fence``: only while that lock is held. False, changing nothing, otherwise.
        """
        sql = (
            "UPDATE deliveries SET state = ?, last_error = ?, next_attempt = ?, changed = ?,"
            " attempts = attempts + (state != 'sending') WHERE period = ? AND address = ?"
        )
        if only_from:
            sql += f" AND state IN ({', '.join('?' * len(only_from))})"
        when = outcome.next_attempt
        values = (outcome.state.value, outcome.reply or None, utc_text(when) if when else None)
        with self.db.write() as conn:
            cursor = conn.execute(
                sql + (_FENCED if fence else ""),
                (*values, utc_text(now), period, address, *only_from, *(fence or ())),
            )
            if cursor.rowcount and outcome.bounced:
                conn.execute(
                    "UPDATE subscribers SET status = 'bounced', changed = ?, note = ?"
                    " WHERE address = ? AND status = 'active'",
                    (utc_text(now), outcome.reply[:500], address),
                )
                event = BounceEvent(period, address, EventKind.HARD, None, outcome.reply, "smtp")
                insert_event(conn, event, now)
            return cursor.rowcount > 0

    def counts(self, period: str) -> dict[State, int]:
        """How many rows are in each state."""
        counts = dict.fromkeys(State, 0)
        for row in self.db.conn.execute(
            "SELECT state, COUNT(*) AS n FROM deliveries WHERE period = ? GROUP BY state",
            (period,),
        ):
            counts[State(row["state"])] = int(row["n"])
        return counts

    def with_state(self, period: str, state: State) -> list[Delivery]:
        rows = self.db.conn.execute(
            "SELECT * FROM deliveries WHERE period = ? AND state = ? ORDER BY address",
            (period, state.value),
        )
        return [_delivery(row) for row in rows]

    def pending_addresses(self, period: str) -> list[tuple[str, str]]:
        """(address, name) of every row still to be attempted (pending or deferred)."""
        rows = self.db.conn.execute(
            "SELECT address, name FROM deliveries WHERE period = ?"
            " AND state IN ('pending', 'deferred') ORDER BY rowid",
            (period,),
        )
        return [(row["address"], row["name"]) for row in rows]

    def retry_unknown(self, period: str, now: datetime) -> int:
        """Put ``unknown`` rows back to ``pending`` (the admin's decision); how many."""
        with self.db.write() as conn:
            cursor = conn.execute(
                "UPDATE deliveries SET state = 'pending', next_attempt = NULL, changed = ?"
                " WHERE period = ? AND state = 'unknown'",
                (utc_text(now), period),
            )
            return cursor.rowcount

    def unfinished_periods(self) -> list[str]:
        """Issues with rows still pending or deferred, oldest first."""
        rows = self.db.conn.execute(
            "SELECT DISTINCT period FROM deliveries WHERE state IN ('pending', 'deferred')"
            " ORDER BY period"
        )
        return [row["period"] for row in rows]

    def finish(self, period: str, now: datetime) -> bool:
        """Mark the issue sent when no row is left to attempt; True if it is done."""
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT COUNT(*) FROM deliveries WHERE period = ?"
                " AND state IN ('pending', 'deferred', 'sending')",
                (period,),
            ).fetchone()
            done = int(row[0]) == 0
            _set_issue_status(conn, period, "sent" if done else "sending", now)
        return done


def _freeze_set(
    conn: sqlite3.Connection, period: str, topics: str, variant: Variant | None, now: datetime
) -> int:
    """The rows of the recipients with one topic set (and their variant, if it is one)."""
    if variant is not None and variant.topics:
        conn.execute(
            "INSERT OR IGNORE INTO issue_variants (period, topics, subject, html, text,"
            " article_ids) VALUES (?, ?, ?, ?, ?, ?)",
            (
                period,
                variant.topics,
                variant.subject,
                variant.html,
                variant.text,
                json.dumps(list(variant.article_ids)),
            ),
        )
    state, note = ("pending", None) if variant is not None else ("skipped", NOTHING_ON_TOPICS)
    values = (period, state, note, utc_text(now), variant.topics if variant else "")
    cursor = conn.execute(_FREEZE_SET, (*values, utc_text(now), topics))
    return cursor.rowcount


def _topic_sets(conn: sqlite3.Connection, now: datetime) -> list[str]:
    return [row[0] for row in conn.execute(_TOPIC_SETS, (utc_text(now),))]


def _has_rows(conn: sqlite3.Connection, period: str) -> bool:
    row = conn.execute("SELECT 1 FROM deliveries WHERE period = ? LIMIT 1", (period,)).fetchone()
    return row is not None


def _set_issue_status(conn: sqlite3.Connection, period: str, status: str, now: datetime) -> None:
    conn.execute(
        "UPDATE issues SET status = ?, status_changed = ? WHERE period = ? AND status != ?",
        (status, utc_text(now), period, status),
    )


def _delivery(row: sqlite3.Row) -> Delivery:
    return Delivery(
        period=row["period"],
        address=row["address"],
        name=row["name"],
        state=State(row["state"]),
        attempts=int(row["attempts"]),
        last_error=row["last_error"],
        next_attempt=datetime.fromisoformat(row["next_attempt"]) if row["next_attempt"] else None,
        changed=datetime.fromisoformat(row["changed"]),
        topics=row["topics"],
        subscriber_id=row["subscriber_id"] if "subscriber_id" in row.keys() else None,  # noqa: SIM118
    )
