"""What the last build of each output folder was made from and wrote (``feeds.stamp``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from swfeed.store import Database, from_utc_text, utc_text

FileStats = dict[str, list[int]]
"""Each file's path -> what ``stat`` said of it when it was written or kept."""


@dataclass(frozen=True, slots=True)
class BuildRecord:
    """One output folder's last build: its stamp, the next time a dated-ahead article
    becomes visible (None: none waits), its files' stats, and when it ran."""

    output: str
    stamp: str
    next_visible: datetime | None
    files: FileStats
    built: datetime

    def still_current(self, stamp: str, now: datetime) -> bool:
        """Made from what ``stamp`` describes, and nothing has become visible since."""
        waiting = self.next_visible is not None and now >= self.next_visible
        return stamp == self.stamp and self.built <= now and not waiting


class BuildStore:
    """Reads and writes the ``builds`` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, output: str) -> BuildRecord | None:
        row = self.db.conn.execute("SELECT * FROM builds WHERE output = ?", (output,)).fetchone()
        if row is None:
            return None
        return BuildRecord(
            output=output,
            stamp=row["stamp"],
            next_visible=from_utc_text(row["next_visible"]),
            files=json.loads(row["files"]),
            built=datetime.fromisoformat(row["built"]),
        )

    def save(self, record: BuildRecord) -> None:
        visible = utc_text(record.next_visible) if record.next_visible else None
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO builds (output, stamp, next_visible, files, built)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (output) DO UPDATE SET"
                " stamp = excluded.stamp, next_visible = excluded.next_visible,"
                " files = excluded.files, built = excluded.built",
                (
                    record.output,
                    record.stamp,
                    visible,
                    json.dumps(record.files, sort_keys=True),
                    utc_text(record.built),
                ),
            )
