"""WebSub pings owed to hubs: which changed feeds each hub still has to hear about.

A build that changed feeds queues one row per (hub, feed URL) as ``pending``, due at once (a
feed that changes again before its ping went out stays one row). A ping that worked marks
the row ``done``; one that failed counts an attempt and says when to try again. Done rows
stay, so ``swfeed status`` can show each hub's last ping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from swfeed.store import Database, utc_text


@dataclass(frozen=True, slots=True)
class HubSummary:
    """One hub as ``swfeed status`` shows it."""

    hub: str
    last_attempt: datetime | None
    last_result: str | None
    pending: int
    next_attempt: datetime | None


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class PingStore:
    """Queries and writes of the ``hub_pings`` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def queue(self, hubs: Sequence[str], topics: Sequence[str], now: datetime) -> None:
        """Owe every hub a ping for every topic, due now (a pending one starts afresh)."""
        if not hubs or not topics:
            return
        when = utc_text(now)
        with self.db.write() as conn:
            conn.executemany(
                "INSERT INTO hub_pings (hub, topic, state, changed, next_attempt)"
                " VALUES (?, ?, 'pending', ?, ?) ON CONFLICT (hub, topic) DO UPDATE SET"
                " state = 'pending', changed = excluded.changed, attempts = 0,"
                " next_attempt = excluded.next_attempt",
                [(hub, topic, when, when) for hub in hubs for topic in topics],
            )

    def due(self, hub: str, now: datetime) -> list[str]:
        """The topics ``hub`` is owed a ping for now, in the order they were queued."""
        rows = self.db.conn.execute(
            "SELECT topic FROM hub_pings WHERE hub = ? AND state = 'pending'"
            " AND next_attempt <= ? ORDER BY changed, rowid",
            (hub, utc_text(now)),
        )
        return [row["topic"] for row in rows]

    def done(self, hub: str, topics: Sequence[str], now: datetime, result: str) -> None:
        """The hub took the pings for ``topics``."""
        if not topics:
            return
        with self.db.write() as conn:
            conn.executemany(
                "UPDATE hub_pings SET state = 'done', attempts = 0, last_attempt = ?,"
                " last_result = ?, next_attempt = NULL WHERE hub = ? AND topic = ?",
                [(utc_text(now), result, hub, topic) for topic in topics],
            )

    def failed(
        self, hub: str, topics: Sequence[str], now: datetime, error: str, retry: datetime
    ) -> None:
        """The ping failed (or was not tried after a failure): try ``topics`` again at
        ``retry``."""
        with self.db.write() as conn:
            conn.executemany(
                "UPDATE hub_pings SET attempts = attempts + 1, last_attempt = ?,"
                " last_result = ?, next_attempt = ? WHERE hub = ? AND topic = ?",
                [(utc_text(now), error, utc_text(retry), hub, topic) for topic in topics],
            )

    def attempts(self, hub: str) -> int:
        """The most failed attempts in a row of any ping still owed to ``hub``."""
        row = self.db.conn.execute(
            "SELECT MAX(attempts) FROM hub_pings WHERE hub = ? AND state = 'pending'", (hub,)
        ).fetchone()
        return int(row[0] or 0)

    def forget_other_hubs(self, hubs: Sequence[str]) -> None:
        """Drop the rows of hubs no longer configured (nothing is owed to them any more)."""
        marks = ",".join("?" * len(hubs))
        found = self.db.conn.execute(
            f"SELECT 1 FROM hub_pings WHERE hub NOT IN ({marks}) LIMIT 1",  # noqa: S608
            list(hubs),
        ).fetchone()
        if found is None:
            return
        with self.db.write() as conn:
            conn.execute(f"DELETE FROM hub_pings WHERE hub NOT IN ({marks})", list(hubs))  # noqa: S608

    def next_due(self, hubs: Sequence[str]) -> datetime | None:
        """When the next owed ping to one of ``hubs`` is due (None: nothing is owed)."""
        marks = ",".join("?" * len(hubs))
        row = self.db.conn.execute(
            f"SELECT MIN(next_attempt) FROM hub_pings WHERE state = 'pending'"  # noqa: S608
            f" AND hub IN ({marks})",
            list(hubs),
        ).fetchone()
        return _time(row[0])

    def summary(self, hub: str) -> HubSummary:
        """The hub's last ping (its time and result), and what is still owed to it."""
        last = self.db.conn.execute(
            "SELECT last_attempt, last_result FROM hub_pings WHERE hub = ?"
            " AND last_attempt IS NOT NULL ORDER BY last_attempt DESC, rowid DESC LIMIT 1",
            (hub,),
        ).fetchone()
        owed = self.db.conn.execute(
            "SELECT COUNT(*), MIN(next_attempt) FROM hub_pings WHERE hub = ? AND state = 'pending'",
            (hub,),
        ).fetchone()
        return HubSummary(
            hub=hub,
            last_attempt=_time(last["last_attempt"]) if last else None,
            last_result=last["last_result"] if last else None,
            pending=int(owed[0]),
            next_attempt=_time(owed[1]),
        )
