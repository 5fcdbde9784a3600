"""The SQLite store: migrations, stable ids, edit detection, no-op fetches, visibility."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from swfeed.errors import StoreError
from swfeed.models import Article, Image
from swfeed.store import Database
from swfeed.store.articles import ArticleStore
from swfeed.store.schema import MIGRATIONS

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def article(n: int = 1, **changes: object) -> Article:
    base = Article(
        id=f"tag:news.example.org,2026:{n}",
        url=f"https://news.example.org/news/{n}",
        title=f"Story {n}",
        published=datetime(2026, 1, n, 9, 0, tzinfo=UTC),
        source="site",
        summary="A summary.",
        body_html="<p>Body.</p>",
        categories=("Peacekeeping", "Rwanda"),
        image=Image("https://news.example.org/a.jpg", "alt", "credit", "image/jpeg", 1234),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return Database(tmp_path / "store.sqlite3")


def test_new_store_is_migrated(db: Database) -> None:
    """Opening a new file creates every table at the latest schema version."""
    assert db.schema_version == len(MIGRATIONS)
    tables = {r[0] for r in db.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"articles", "source_state", "issues", "deliveries", "subscribers"} <= tables


def test_store_uses_wal(db: Database) -> None:
    """The store runs in WAL mode so readers never block the writer."""
    assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_newer_store_is_refused(tmp_path: Path) -> None:
    """A file written by a newer swfeed is refused with a hint, not corrupted."""
    path = tmp_path / "s.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    with pytest.raises(StoreError, match="newer than this swfeed"):
        Database(path)


def test_new_articles_are_counted(db: Database) -> None:
    """A first fetch stores every article as new."""
    counts = ArticleStore(db).apply_fetch("site", [article(1), article(2)], [], {}, NOW)
    assert (counts.new, counts.updated, counts.unchanged) == (2, 0, 0)


def test_refetch_unchanged_writes_nothing(db: Database) -> None:
    """The same articles and state again leave the database untouched."""
    store = ArticleStore(db)
    store.apply_fetch("site", [article(1)], [], {"k": 1}, NOW)
    changes = db.conn.total_changes
    counts = store.apply_fetch("site", [article(1)], [], {"k": 1}, NOW + timedelta(hours=1))
    assert counts.unchanged == 1
    assert db.conn.total_changes == changes


def test_edit_keeps_id_and_gets_new_updated_time(db: Database) -> None:
    """An edited article keeps its id, gets a new updated time, and is not duplicated."""
    store = ArticleStore(db)
    store.apply_fetch("site", [article(1)], [], {}, NOW)
    later = NOW + timedelta(days=1)
    counts = store.apply_fetch("site", [article(1, title="Story 1, corrected")], [], {}, later)
    assert counts.updated == 1
    assert store.count() == 1
    stored = store.get("tag:news.example.org,2026:1")
    assert stored is not None
    assert stored.title == "Story 1, corrected"
    assert stored.updated == later


def test_declared_updated_time_is_kept(db: Database) -> None:
    """An edit that states its own updated time keeps it."""
    store = ArticleStore(db)
    store.apply_fetch("site", [article(1)], [], {}, NOW)
    declared = datetime(2026, 1, 9, 8, 0, tzinfo=UTC)
    store.apply_fetch("site", [article(1, title="T2", updated=declared)], [], {}, NOW)
    stored = store.get("tag:news.example.org,2026:1")
    assert stored is not None
    assert stored.updated == declared


def test_future_article_is_held_back(db: Database) -> None:
    """An article dated in the future is not in the feeds until its time."""
    store = ArticleStore(db)
    future = article(1, published=NOW + timedelta(days=2))
    store.apply_fetch("site", [future], [], {}, NOW)
    assert store.latest(NOW, 10) == []
    assert [a.id for a in store.latest(NOW + timedelta(days=3), 10)] == [future.id]


def test_removed_article_leaves_feeds(db: Database) -> None:
    """An article its source no longer has is dropped from the feeds."""
    store = ArticleStore(db)
    store.apply_fetch("site", [article(1), article(2)], [], {}, NOW)
    counts = store.apply_fetch("site", [], [article(1).id], {"x": 1}, NOW)
    assert counts.removed == 1
    assert [a.id for a in store.latest(NOW, 10)] == [article(2).id]


def test_latest_is_newest_first_and_limited(db: Database) -> None:
    """latest() returns the newest N by published time."""
    store = ArticleStore(db)
    store.apply_fetch("site", [article(n) for n in range(1, 6)], [], {}, NOW)
    assert [a.title for a in store.latest(NOW, 2)] == ["Story 5", "Story 4"]


def test_categories_by_slug(db: Database) -> None:
    """Categories are listed by slug, and filter the article list."""
    store = ArticleStore(db)
    store.apply_fetch("site", [article(1), article(2, categories=("Policy",))], [], {}, NOW)
    assert store.categories(NOW) == [
        ("peacekeeping", "Peacekeeping"),
        ("policy", "Policy"),
        ("rwanda", "Rwanda"),
    ]
    assert [a.id for a in store.latest(NOW, 10, "policy")] == [article(2).id]


def test_category_name_and_presence_follow_visible_articles(db: Database) -> None:
    """A category is named as its first visible article names it (in text order), and one
    whose articles are all removed or dated ahead has no feed."""
    store = ArticleStore(db)
    shown = [article(1, categories=("Policy",)), article(2, categories=("policy", "Gone"))]
    later = article(3, categories=("POLICY", "Later"), published=NOW + timedelta(days=1))
    store.apply_fetch("site", [*shown, later], [], {}, NOW)
    store.apply_fetch("site", [], [article(2).id], {"x": 1}, NOW)
    assert store.categories(NOW) == [("policy", "Policy")]
    assert store.categories(NOW + timedelta(days=2)) == [
        ("later", "Later"),
        ("policy", "POLICY"),
    ]


def test_category_feed_is_newest_first_and_limited(db: Database) -> None:
    """A category's articles come newest first, ties by id, at most N."""
    store = ArticleStore(db)
    same_time = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    tied = [article(n, published=same_time, categories=("Policy",)) for n in (7, 6)]
    store.apply_fetch("site", [article(n, categories=("Policy",)) for n in (1, 2, 3)], [], {}, NOW)
    store.apply_fetch("site", tied, [], {"y": 1}, NOW)
    found = [a.id for a in store.latest(NOW, 4, "policy")]
    assert found == [article(6).id, article(7).id, article(3).id, article(2).id]


def test_article_round_trips(db: Database) -> None:
    """Every field of an article comes back from the store as it went in."""
    store = ArticleStore(db)
    original = article(
        3,
        authors=("Amina K.",),
        external_url="https://other.example/x",
        external_source="Other News",
    )
    store.apply_fetch("site", [original], [], {}, NOW)
    assert store.get(original.id) == replace(original, updated=original.published)


def test_failure_is_recorded_and_state_kept(db: Database) -> None:
    """A failed fetch counts failures and keeps the last good state."""
    store = ArticleStore(db)
    store.apply_fetch("site", [article(1)], [], {"etag": "x"}, NOW)
    store.record_failure("site", NOW, "boom", NOW + timedelta(minutes=5))
    status = store.source_status("site")
    assert (status.failures, status.state, status.last_result) == (1, {"etag": "x"}, "boom")
    assert status.next_attempt == NOW + timedelta(minutes=5)


def test_visible_between_uses_first_seen(db: Database) -> None:
    """An old article seen late becomes visible when it was seen, not when dated."""
    store = ArticleStore(db)
    store.apply_fetch("site", [article(1)], [], {}, NOW)
    found = store.visible_between(NOW - timedelta(seconds=1), NOW)
    assert [s.article.id for s in found] == [article(1).id]
    assert store.visible_between(NOW, NOW + timedelta(days=1)) == []


def test_two_connections_share_the_file(tmp_path: Path) -> None:
    """A second process's connection waits for the writer instead of failing."""
    path = tmp_path / "s.sqlite3"
    first, second = Database(path), Database(path)
    ArticleStore(first).apply_fetch("a", [article(1)], [], {}, NOW)
    ArticleStore(second).apply_fetch("b", [article(2, source="b")], [], {}, NOW)
    assert ArticleStore(first).count() == 2


def test_another_source_cannot_take_over_an_article(db: Database) -> None:
    """An id that one source publishes is refused for another, and the original stays."""
    store = ArticleStore(db)
    store.apply_fetch("site", [article(1)], [], {}, NOW)
    hijack = article(1, title="HIJACKED", source="partner")
    counts = store.apply_fetch("partner", [hijack], [], {}, NOW)
    assert counts.refused == ((hijack.id, "site"),)
    assert (counts.new, counts.updated) == (0, 0)
    stored = store.get(hijack.id)
    assert stored is not None
    assert stored.title == "Story 1"


def test_another_source_cannot_remove_an_article(db: Database) -> None:
    """A source can only withdraw its own articles."""
    store = ArticleStore(db)
    store.apply_fetch("site", [article(1)], [], {}, NOW)
    counts = store.apply_fetch("partner", [], [article(1).id], {"x": 1}, NOW)
    assert counts.removed == 0
    assert [a.id for a in store.latest(NOW, 10)] == [article(1).id]


def test_unchanged_counts_the_sources_stored_articles(db: Database) -> None:
    """A fetch that yields nothing new reports the source's stored articles as unchanged."""
    store = ArticleStore(db)
    store.apply_fetch("site", [article(1), article(2)], [], {"k": 1}, NOW)
    assert store.apply_fetch("site", [], [], {"k": 1}, NOW).unchanged == 2
    counts = store.apply_fetch("site", [article(1, title="New")], [], {"k": 2}, NOW)
    assert (counts.updated, counts.unchanged) == (1, 1)


def test_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    """A store path naming some other file is a StoreError with a hint, not a traceback."""
    path = tmp_path / "notes.txt"
    path.write_text("not a database at all, " * 100)
    with pytest.raises(StoreError, match="cannot use the store"):
        Database(path)


def test_two_connections_opening_a_new_store_at_once_both_work(tmp_path: Path) -> None:
    """Connections racing to create a store (a server's request and its mail worker) each
    find it migrated once, without 'table already exists'."""
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def open_store() -> None:
        start.wait()
        try:
            Database(tmp_path / "store.sqlite3").close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Database(tmp_path / "store.sqlite3") as db:
        assert db.schema_version == len(MIGRATIONS)
