"""Articles and per-source state: upserts keyed by stable id, content-hash edit detection."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from swfeed.models import Article, StoredArticle
from swfeed.slug import slugify
from swfeed.store import Database, from_utc_text, merges, utc_text
from swfeed.store.merges import Merge
from swfeed.stories import Merging, link_key


@dataclass(frozen=True, slots=True)
class UpsertCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    refused: tuple[tuple[str, str], ...] = ()
    """(article id, owning source) of articles another source already publishes."""
    merged: tuple[Merge, ...] = ()
    """Copies of stories another source publishes too, and takeovers (see ``merges``)."""

    @property
    def changed(self) -> bool:
        return bool(self.new or self.updated or self.removed)


@dataclass(frozen=True, slots=True)
class SourceStatus:
    source: str
    state: dict[str, Any]
    last_fetch: datetime | None
    last_ok: datetime | None
    last_result: str | None
    failures: int
    next_attempt: datetime | None


@dataclass(frozen=True, slots=True)
class _Plan:
    """A fetch's articles sorted by who owns their ids: this source's (``mine``, with the
    takeovers), and the refused or merged ones another source owns."""

    mine: list[Article]
    refused: tuple[tuple[str, str], ...]
    merged: tuple[Merge, ...]

    @classmethod
    def of(
        cls,
        source: str,
        articles: Sequence[Article],
        existing: dict[str, tuple[str | None, str]],
        merging: Merging | None,
        stored_url: Callable[[str], str],
    ) -> _Plan:
        """An id another source owns is the same story only with the same link too (a 0.1
        content article whose id is its /post/ URL, and the scraper's copy); any other
        reuse of an id is refused, so no feed can overwrite another source's article."""
        mine: list[Article] = []
        refused: list[tuple[str, str]] = []
        merged: list[Merge] = []
        for article in articles:
            owner = existing[article.id][1]
            if owner == source:
                mine.append(article)
            elif merging is None or link_key(stored_url(article.id)) != link_key(article.url):
                refused.append((article.id, owner))
            else:
                first = merging.rank(source) < merging.rank(owner)
                merged.append(Merge(article.id, article.title, article.id, owner, "same id", first))
                mine += [article] if first else []
        return cls(mine, tuple(refused), tuple(merged))


class ArticleStore:
    """Queries and writes of the ``articles``, ``article_categories``, ``source_state`` tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def source_status(self, source: str) -> SourceStatus:
        row = self.db.conn.execute(
            "SELECT * FROM source_state WHERE source = ?", (source,)
        ).fetchone()
        if row is None:
            return SourceStatus(source, {}, None, None, None, 0, None)
        return SourceStatus(
            source=source,
            state=json.loads(row["state"]),
            last_fetch=from_utc_text(row["last_fetch"]),
            last_ok=from_utc_text(row["last_ok"]),
            last_result=row["last_result"],
            failures=int(row["failures"]),
            next_attempt=from_utc_text(row["next_attempt"]),
        )

    def sources(self) -> list[str]:
        """The names of every source the store has a record of."""
        rows = self.db.conn.execute("SELECT source FROM source_state ORDER BY source")
        return [str(row["source"]) for row in rows]

    def apply_fetch(
        self,
        source: str,
        articles: Sequence[Article],
        removed_ids: Iterable[str],
        state: dict[str, Any],
        now: datetime,
        result: str = "ok",
        merging: Merging | None = None,
        *,
        previous: SourceStatus | None = None,
    ) -> UpsertCounts:
        """Store a fetch's articles, removals and the source's new state in one transaction.

        Writes nothing at all when nothing changed (no new, edited or removed article and the
        same state), so a no-change fetch leaves the database file untouched. With
        ``merging``, a copy of a story another source publishes too is merged (see
        ``store.merges``); without it, an id another source owns is refused. ``previous``
        is the status the fetch started from, if the caller read it (a source that hands
        back that very state object changed nothing).
        """
        existing = self._hashes(source, (article.id for article in articles))
        plan = _Plan.of(source, articles, existing, merging, self._stored_url)
        removed = [i for i in removed_ids if self._is_live(source, i)]
        status = previous if previous is not None else self.source_status(source)
        hashes = {article.id: article.content_hash() for article in plan.mine}
        todo = [a for a in plan.mine if existing[a.id][0] != hashes[a.id]]
        same_state = state is status.state or status.state == state
        if not todo and not removed and same_state and status.last_ok is not None:
            return UpsertCounts(
                unchanged=self.live_count(source), refused=plan.refused, merged=plan.merged
            )
        merged = list(plan.merged)
        with self.db.write() as conn:
            if merging is not None:
                merges.backfill_keys(conn, merging)
            for article in todo:
                if existing[article.id][0] is None:
                    self._insert(conn, article, hashes[article.id], now)
                else:
                    self._update(conn, article, hashes[article.id], now)
                found = merges.merge_twin(conn, article, source, merging) if merging else None
                merged += [found] if found is not None else []
            self._remove(conn, removed, now, merging)
            self._save_state(conn, source, state, now, result)
        hidden = {m.article_id for m in merged if not m.took_over}
        new = sum(1 for a in todo if existing[a.id][0] is None and a.id not in hidden)
        updated = sum(1 for a in todo if existing[a.id][0] is not None)
        unchanged = self.live_count(source) - len(todo)
        return UpsertCounts(new, updated, unchanged, len(removed), plan.refused, tuple(merged))

    def _remove(
        self, conn: Any, removed: Sequence[str], now: datetime, merging: Merging | None
    ) -> None:
        for article_id in removed:
            conn.execute(
                "UPDATE articles SET removed = ? WHERE id = ?", (utc_text(now), article_id)
            )
            if merging is not None:
                merges.release(conn, article_id, merging)

    def record_failure(
        self, source: str, now: datetime, message: str, next_attempt: datetime | None
    ) -> None:
        """Note that a whole source failed; its state and articles stay as they were."""
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO source_state (source, last_fetch, last_result, failures, next_attempt)"
                " VALUES (?, ?, ?, 1, ?) ON CONFLICT (source) DO UPDATE SET"
                " last_fetch = excluded.last_fetch, last_result = excluded.last_result,"
                " failures = source_state.failures + 1, next_attempt = excluded.next_attempt",
                (source, utc_text(now), message, utc_text(next_attempt) if next_attempt else None),
            )

    def _save_state(
        self, conn: Any, source: str, state: dict[str, Any], now: datetime, result: str
    ) -> None:
        conn.execute(
            "INSERT INTO source_state (source, state, last_fetch, last_ok, last_result, failures)"
            " VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT (source) DO UPDATE SET"
            " state = excluded.state, last_fetch = excluded.last_fetch,"
            " last_ok = excluded.last_ok, last_result = excluded.last_result,"
            " failures = 0, next_attempt = NULL",
            (source, json.dumps(state, sort_keys=True), utc_text(now), utc_text(now), result),
        )

    def _hashes(self, source: str, ids: Iterable[str]) -> dict[str, tuple[str | None, str]]:
        """id -> (content hash, owning source); (None, ``source``) for ids not stored yet.

        A removed article's hash is "" (so it counts as changed and comes back), and
        ``source`` may take it over.
        """
        wanted = list(ids)
        found: dict[str, tuple[str | None, str]] = dict.fromkeys(wanted, (None, source))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.db.conn.execute(
                f"SELECT id, source, content_hash, removed FROM articles WHERE id IN ({marks})",  # noqa: S608
                chunk,
            ):
                owner = source if row["removed"] else row["source"]
                found[row["id"]] = ("" if row["removed"] else row["content_hash"], owner)
        return found

    def _stored_url(self, article_id: str) -> str:
        row = self.db.conn.execute("SELECT data FROM articles WHERE id = ?", (article_id,))
        return str(json.loads(row.fetchone()["data"])["url"])

    def _is_live(self, source: str, article_id: str) -> bool:
        row = self.db.conn.execute(
            "SELECT 1 FROM articles WHERE id = ? AND source = ? AND removed IS NULL",
            (article_id, source),
        ).fetchone()
        return row is not None

    def live_count(self, source: str) -> int:
        """How many of the source's articles are live (not removed)."""
        row = self.db.conn.execute(
            "SELECT COUNT(*) FROM articles WHERE source = ? AND removed IS NULL", (source,)
        ).fetchone()
        return int(row[0])

    def _insert(self, conn: Any, article: Article, content_hash: str, now: datetime) -> None:
        stored = replace(article, updated=article.updated or article.published)
        visible = max(now, article.shown_from)
        conn.execute(
            "INSERT INTO articles (id, source, data, content_hash, published, updated,"
            " first_seen, visible_from) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                article.id,
                article.source,
                json.dumps(stored.to_json_dict(), ensure_ascii=False),
                content_hash,
                utc_text(article.published),
                utc_text(stored.modified),
                utc_text(now),
                utc_text(visible),
            ),
        )
        self._set_categories(conn, article, fresh=True)

    def _update(self, conn: Any, article: Article, content_hash: str, now: datetime) -> None:
        row = conn.execute(
            "SELECT first_seen, updated FROM articles WHERE id = ?", (article.id,)
        ).fetchone()
        previous = datetime.fromisoformat(row["updated"])
        updated = article.updated if article.updated and article.updated > previous else now
        stored = replace(article, updated=max(updated, article.published))
        visible = max(datetime.fromisoformat(row["first_seen"]), article.shown_from)
        conn.execute(
            "UPDATE articles SET source = ?, data = ?, content_hash = ?, published = ?,"
            " updated = ?, visible_from = ?, removed = NULL WHERE id = ?",
            (
                article.source,
                json.dumps(stored.to_json_dict(), ensure_ascii=False),
                content_hash,
                utc_text(article.published),
                utc_text(stored.modified),
                utc_text(visible),
                article.id,
            ),
        )
        self._set_categories(conn, article)

    def _set_categories(self, conn: Any, article: Article, *, fresh: bool = False) -> None:
        """The article's category rows (``fresh``: a new article, which has none yet)."""
        if not fresh:
            conn.execute("DELETE FROM article_categories WHERE article_id = ?", (article.id,))
        slugs: dict[str, str] = {}
        for name in article.categories:
            slugs.setdefault(slugify(name), name)
        published = utc_text(article.published)
        conn.executemany(
            "INSERT INTO article_categories (article_id, slug, name, published)"
            " VALUES (?, ?, ?, ?)",
            [(article.id, slug, name, published) for slug, name in slugs.items() if slug],
        )

    def latest(self, now: datetime, limit: int, category_slug: str | None = None) -> list[Article]:
        """The newest visible articles (published order, newest first).

        Both queries walk an index newest first and stop after ``limit`` visible articles,
        so their cost does not grow with the store. (``+a.merged_into``: not through the
        merged_into index, which would read every shown article and sort them.)
        """
        shown = "a.removed IS NULL AND +a.merged_into IS NULL AND a.visible_from <= ?"
        if category_slug is None:
            sql = f"SELECT a.data FROM articles a WHERE {shown}"  # noqa: S608
            sql += " ORDER BY a.published DESC, a.id LIMIT ?"
            params: list[Any] = [utc_text(now), limit]
        else:
            sql = "SELECT a.data FROM article_categories c JOIN articles a ON a.id = c.article_id"
            sql += f" WHERE c.slug = ? AND {shown}"
            sql += " ORDER BY c.published DESC, c.article_id LIMIT ?"
            params = [category_slug, utc_text(now), limit]
        return [_article(row["data"]) for row in self.db.conn.execute(sql, params)]

    def categories(self, now: datetime) -> list[tuple[str, str]]:
        """(slug, name) of every category with at least one visible article; its name is
        the first (in text order) that a visible article gives it.

        The slugs are found by skipping through their index (one lookup per category),
        and each name by walking that category's names in order to the first one a visible
        article has: the cost grows with the number of categories, not of articles.
        """
        rows = self.db.conn.execute(
            "WITH RECURSIVE slugs(slug) AS ("
            "  SELECT MIN(slug) FROM article_categories"
            "  UNION ALL"
            "  SELECT (SELECT MIN(c.slug) FROM article_categories c WHERE c.slug > slugs.slug)"
            "  FROM slugs WHERE slugs.slug IS NOT NULL"
            ") SELECT slug, (SELECT c.name FROM article_categories c"
            "  JOIN articles a ON a.id = c.article_id"
            "  WHERE c.slug = slugs.slug AND a.removed IS NULL AND a.merged_into IS NULL"
            "  AND a.visible_from <= ? ORDER BY c.name LIMIT 1) AS name"
            " FROM slugs WHERE slug IS NOT NULL AND name IS NOT NULL ORDER BY slug",
            (utc_text(now),),
        )
        return [(row["slug"], row["name"]) for row in rows]

    def visible_between(self, start: datetime | None, end: datetime) -> list[StoredArticle]:
        """Articles that became visible in (start, end], newest published first."""
        sql = "SELECT data, first_seen, visible_from FROM articles"
        sql += " WHERE removed IS NULL AND merged_into IS NULL"
        sql += " AND visible_from <= ?"
        params: list[Any] = [utc_text(end)]
        if start is not None:
            sql += " AND visible_from > ?"
            params.append(utc_text(start))
        sql += " ORDER BY published DESC, id"
        return [
            StoredArticle(
                article=_article(row["data"]),
                first_seen=datetime.fromisoformat(row["first_seen"]),
                visible_from=datetime.fromisoformat(row["visible_from"]),
            )
            for row in self.db.conn.execute(sql, params)
        ]

    def visible_times(
        self, now: datetime, since: datetime | None = None
    ) -> list[tuple[str, datetime, datetime]]:
        """(id, published, updated) of every article visible at ``now`` (published at or
        after ``since``, when given: read through the published index)."""
        rows = self.db.conn.execute(
            "SELECT id, published, updated FROM articles"
            " WHERE removed IS NULL AND +merged_into IS NULL AND +visible_from <= ?"
            " AND published >= ?",
            (utc_text(now), utc_text(since) if since else ""),
        )
        return [
            (
                row["id"],
                datetime.fromisoformat(row["published"]),
                datetime.fromisoformat(row["updated"]),
            )
            for row in rows
        ]

    def get(self, article_id: str) -> Article | None:
        row = self.db.conn.execute(
            "SELECT data FROM articles WHERE id = ?", (article_id,)
        ).fetchone()
        return _article(row["data"]) if row else None

    def count(self) -> int:
        return int(
            self.db.conn.execute(
                "SELECT COUNT(*) FROM articles WHERE removed IS NULL AND merged_into IS NULL"
            ).fetchone()[0]
        )

    def change_count(self) -> int:
        """How many writes to articles a feed can show were ever made (counted by triggers):
        it changes whenever anything a feed shows may have changed."""
        return int(self.db.conn.execute("SELECT count FROM feed_changes").fetchone()[0])

    def next_visible(self, now: datetime) -> datetime | None:
        """When the next article dated after ``now`` becomes visible (None: none waits)."""
        row = self.db.conn.execute(
            "SELECT MIN(visible_from) FROM articles WHERE removed IS NULL AND visible_from > ?",
            (utc_text(now),),
        ).fetchone()
        return from_utc_text(row[0])


def _article(data: str) -> Article:
    return Article.from_json_dict(json.loads(data))
