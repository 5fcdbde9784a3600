"""Sign-up rate limits kept in the store, so a restart of `swfeed serve` does not reset them.

Counts are per key and per clock hour. A key is ``all`` (every client together) or a
daily-rotated keyed hash of one client's address: the address itself is never stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from swfeed.store import Database, utc_text

ALL_CLIENTS = "all"


class RateCounts:
    """Queries and writes of the ``rate_counts`` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def take(self, limits: Sequence[tuple[str, int]], now: datetime) -> bool:
        """Count one request against every (key, limit) of this hour; False, counting
        nothing, when any of them is used up. Counts of past hours are dropped."""
        window = utc_text(now)[:13]
        with self.db.write() as conn:
            for key, limit in limits:
                row = conn.execute(
                    "SELECT count FROM rate_counts WHERE key = ? AND window = ?", (key, window)
                ).fetchone()
                if row is not None and int(row[0]) >= limit:
                    return False
            conn.executemany(
                "INSERT INTO rate_counts (key, window, count) VALUES (?, ?, 1)"
                " ON CONFLICT (key, window) DO UPDATE SET count = count + 1",
                [(key, window) for key, _limit in limits],
            )
            conn.execute(
                "DELETE FROM rate_counts WHERE window < ?",
                (utc_text(now - timedelta(hours=1))[:13],),
            )
        return True
