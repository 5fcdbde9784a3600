"""One story once: which stored article another is the same story as (see ``swfeed.stories``).

Every article keeps its row; a copy of a story another source publishes too gets
``merged_into`` (the id readers see), and feeds and issues leave it out. The source listed
first in the config wins: a later-listed source's copy is merged into the earlier one's;
an earlier-listed source's copy arriving later takes over (the other is merged into it).
An issue that took up either copy counts for both (the loser's ``issue_articles`` rows are
copied to the winner as ``same_story``), so a story is never mailed twice. When the kept
copy is removed, the best-ranked merged copy is shown again.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from swfeed.models import Article
from swfeed.stories import Merging

SAME_STORY = "same_story"
_TWIN = """
    SELECT id, source, link_key, data FROM articles
    WHERE removed IS NULL AND +merged_into IS NULL AND id != ? AND source != ?
      AND (link_key = ? OR story_key = ?)
    ORDER BY first_seen, id LIMIT 1
"""
"""The shown copy of a story from another source. (``+merged_into``: looked up through the
key indexes; through the merged_into index it would read every shown article.)"""


@dataclass(frozen=True, slots=True)
class Merge:
    """A copy of a story left out of feeds and issues as the same story as ``kept_id``.

    ``took_over``: the fetched source (listed first) replaced ``kept``'s former copy,
    ``article_id``, of source ``other_source``; else the fetched copy ``article_id`` was
    merged into ``kept_id`` of ``other_source``.
    """

    article_id: str
    title: str
    kept_id: str
    other_source: str
    reason: str
    took_over: bool = False

    def __str__(self) -> str:
        if self.took_over:
            return (
                f"{self.title!r} from source {self.other_source!r} is now shown from this "
                f"source, listed before it ({self.reason})"
            )
        return f"{self.title!r} is the same story as source {self.other_source!r}'s ({self.reason})"


def backfill_keys(conn: sqlite3.Connection, merging: Merging) -> None:
    """Give stored articles without story keys (stored before them) their keys."""
    rows = conn.execute("SELECT id, data FROM articles WHERE link_key IS NULL").fetchall()
    for row in rows:
        link, story = merging.keys(Article.from_json_dict(json.loads(row["data"])))
        conn.execute(
            "UPDATE articles SET link_key = ?, story_key = ? WHERE id = ?", (link, story, row["id"])
        )


def merge_twin(
    conn: sqlite3.Connection, article: Article, source: str, merging: Merging
) -> Merge | None:
    """Record ``article``'s keys; merge it with a shown copy of the same story, if any."""
    link, story = merging.keys(article)
    conn.execute(
        "UPDATE articles SET link_key = ?, story_key = ? WHERE id = ?", (link, story, article.id)
    )
    mine = conn.execute("SELECT merged_into FROM articles WHERE id = ?", (article.id,))
    if mine.fetchone()["merged_into"] is not None:
        return None
    twin = conn.execute(_TWIN, (article.id, source, link, story)).fetchone()
    if twin is None:
        return None
    reason = "same link" if twin["link_key"] == link else "same title on the same day"
    if merging.rank(twin["source"]) <= merging.rank(source):
        hide(conn, article.id, twin["id"])
        return Merge(article.id, article.title, twin["id"], twin["source"], reason)
    hide(conn, twin["id"], article.id)
    title = Article.from_json_dict(json.loads(twin["data"])).title
    return Merge(twin["id"], title, article.id, twin["source"], reason, took_over=True)


def hide(conn: sqlite3.Connection, loser: str, winner: str) -> None:
    """Show ``winner`` in place of ``loser`` (and of what was merged into it)."""
    conn.execute(
        "UPDATE articles SET merged_into = ? WHERE id = ? OR merged_into = ?",
        (winner, loser, loser),
    )
    carry_taken(conn, loser, winner)


def carry_taken(conn: sqlite3.Connection, taken: str, other: str) -> None:
    """What issue took up ``taken`` counts as having taken ``other`` (same story)."""
    conn.execute(
        "INSERT OR IGNORE INTO issue_articles (period, article_id, position, reason)"
        " SELECT period, ?, NULL, ? FROM issue_articles WHERE article_id = ?",
        (other, SAME_STORY, taken),
    )


def release(conn: sqlite3.Connection, removed: str, merging: Merging) -> None:
    """``removed`` is gone: its best-ranked merged copy is shown instead (the rest merged
    into that one), counting as taken by whatever issue took ``removed``."""
    rows = conn.execute(
        "SELECT id, source FROM articles WHERE merged_into = ? AND removed IS NULL", (removed,)
    ).fetchall()
    if not rows:
        return
    heir = min(rows, key=lambda row: (merging.rank(row["source"]), row["id"]))["id"]
    conn.execute("UPDATE articles SET merged_into = NULL WHERE id = ?", (heir,))
    conn.execute("UPDATE articles SET merged_into = ? WHERE merged_into = ?", (heir, removed))
    carry_taken(conn, removed, heir)
