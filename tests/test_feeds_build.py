"""Writing all feeds: paths, self URLs, per-category feeds, no rewrite when nothing changed."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import lxml.html
import pytest

from swfeed.atomicfile import TEMP_MARK
from swfeed.errors import OutputError
from swfeed.feeds.build import (
    CategoryFeed,
    autodiscovery_tags,
    load_feed_articles,
    write_feeds,
)
from swfeed.store import Database
from swfeed.store.articles import ArticleStore
from tests.feedcheck import SITE, check_feed_file, sample_article, sample_config

NOW = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
ARTICLES = [sample_article(n) for n in range(1, 6)]
PEACE = CategoryFeed("peacekeeping", "Peacekeeping", ARTICLES[:3])
WOMEN = CategoryFeed("women-in-security", "Women in Security", ARTICLES[2:])
FILES = ("rss.xml", "atom.xml", "feed.json")


def _paths(*folders: str) -> list[str]:
    return [f"{folder}/{name}" for folder in folders for name in FILES]


def _relative(tmp_path: Path, paths: list[Path]) -> list[str]:
    return [path.relative_to(tmp_path / "public").as_posix() for path in paths]


def test_main_and_category_feeds_are_written(tmp_path: Path) -> None:
    """Three main feeds plus three per category, at the documented paths."""
    config = sample_config(tmp_path)
    report = write_feeds(config, ARTICLES, [PEACE, WOMEN], now=NOW)
    expected = _paths("feeds", "feeds/category/peacekeeping", "feeds/category/women-in-security")
    assert _relative(tmp_path, report.written) == expected
    assert all(path.is_file() for path in report.written)


def test_every_file_validates_at_its_public_url(tmp_path: Path) -> None:
    """Each written feed passes its checks with its own public URL as the self link."""
    config = sample_config(tmp_path)
    report = write_feeds(config, ARTICLES, [PEACE, WOMEN], now=NOW)
    for path in report.written:
        relative = path.relative_to(tmp_path / "public").as_posix()
        assert check_feed_file(path, f"{SITE}{relative}", NOW) == [], relative


def test_category_feed_is_titled_and_tagged(tmp_path: Path) -> None:
    """A category's feed names the category and holds only its articles."""
    config = sample_config(tmp_path)
    write_feeds(config, ARTICLES, [PEACE], now=NOW)
    document = json.loads((tmp_path / "public/feeds/category/peacekeeping/feed.json").read_text())
    assert document["title"] == "Test Site: Peacekeeping"
    assert [item["url"] for item in document["items"]] == [a.url for a in reversed(PEACE[2])]


def test_unchanged_input_rewrites_nothing(tmp_path: Path) -> None:
    """A second build with the same articles writes no file and keeps every mtime."""
    config = sample_config(tmp_path)
    first = write_feeds(config, ARTICLES, [PEACE], now=NOW)
    old = (NOW - timedelta(days=1)).timestamp()
    for path in first.written:
        os.utime(path, (old, old))
    second = write_feeds(config, ARTICLES, [PEACE], now=NOW + timedelta(hours=1))
    assert second.written == []
    assert second.unchanged == first.written
    assert not second.changed
    assert all(path.stat().st_mtime == old for path in first.written)


def test_an_edit_rewrites_only_the_feeds_that_show_it(tmp_path: Path) -> None:
    """Editing an article outside a category leaves that category's files untouched."""
    config = sample_config(tmp_path)
    write_feeds(config, ARTICLES, [PEACE], now=NOW)
    edited = [*ARTICLES[:4], sample_article(5, title="Edited", updated=NOW)]
    report = write_feeds(config, edited, [PEACE], now=NOW)
    assert _relative(tmp_path, report.written) == _paths("feeds")
    assert _relative(tmp_path, report.unchanged) == _paths("feeds/category/peacekeeping")


def test_feeds_hold_at_most_max_items(tmp_path: Path) -> None:
    """Only the newest max_items articles appear, whatever the caller passes."""
    config = sample_config(tmp_path, max_items=2)
    write_feeds(config, ARTICLES, [], now=NOW)
    items = json.loads((tmp_path / "public/feeds/feed.json").read_text())["items"]
    assert [item["url"] for item in items] == [ARTICLES[4].url, ARTICLES[3].url]


def test_vanished_category_folder_is_removed(tmp_path: Path) -> None:
    """When a category no longer exists its folder is removed and reported."""
    config = sample_config(tmp_path)
    write_feeds(config, ARTICLES, [PEACE, WOMEN], now=NOW)
    report = write_feeds(config, ARTICLES, [WOMEN], now=NOW)
    assert _relative(tmp_path, report.removed) == ["feeds/category/peacekeeping"]
    assert not (tmp_path / "public/feeds/category/peacekeeping").exists()
    assert report.changed


def test_per_category_off_writes_and_keeps_no_category_feeds(tmp_path: Path) -> None:
    """per_category: false writes only the main feeds and removes old category folders."""
    write_feeds(sample_config(tmp_path), ARTICLES, [PEACE], now=NOW)
    report = write_feeds(sample_config(tmp_path, per_category=False), ARTICLES, [PEACE], now=NOW)
    assert report.written == []
    assert _relative(tmp_path, report.unchanged) == _paths("feeds")
    assert not (tmp_path / "public/feeds/category/peacekeeping").exists()


def test_unsafe_slug_is_refused(tmp_path: Path) -> None:
    """A slug that could leave the feeds folder is an OutputError, and nothing is written."""
    config = sample_config(tmp_path)
    with pytest.raises(OutputError, match="not a safe folder name"):
        write_feeds(config, ARTICLES, [("../../etc", "Evil", ARTICLES)], now=NOW)
    assert not (tmp_path / "public").exists()


def test_crash_leftovers_are_cleaned_up(tmp_path: Path) -> None:
    """A temp file left by a crashed run is removed by the next build."""
    leftover = tmp_path / "public" / "feeds" / f".rss.xml{TEMP_MARK}dead01"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"<rss")
    old = (NOW - timedelta(hours=2)).timestamp()
    os.utime(leftover, (old, old))
    write_feeds(sample_config(tmp_path), ARTICLES, [], now=NOW)
    assert not leftover.exists()


def test_autodiscovery_tags_link_all_three_feeds(tmp_path: Path) -> None:
    """The HTML head tags name each feed's media type, title and absolute URL."""
    tags = autodiscovery_tags(sample_config(tmp_path))
    links = lxml.html.fragments_fromstring(tags)
    assert [(link.get("rel"), link.get("type"), link.get("href")) for link in links] == [
        ("alternate", "application/rss+xml", f"{SITE}feeds/rss.xml"),
        ("alternate", "application/atom+xml", f"{SITE}feeds/atom.xml"),
        ("alternate", "application/feed+json", f"{SITE}feeds/feed.json"),
    ]
    assert links[0].get("title") == "Test Site (RSS)"


def test_autodiscovery_tags_for_a_category_escape_the_title(tmp_path: Path) -> None:
    """A category's tags point into its folder and escape markup in its name."""
    tags = autodiscovery_tags(sample_config(tmp_path), ("q-a", 'Q&A "<x>"'))
    assert "&amp;A &quot;&lt;x&gt;&quot;" in tags
    link = lxml.html.fragments_fromstring(tags)[1]
    assert link.get("href") == f"{SITE}feeds/category/q-a/atom.xml"
    assert link.get("title") == 'Test Site: Q&A "<x>" (Atom)'


def test_load_feed_articles_reads_a_real_store(tmp_path: Path) -> None:
    """From SQLite: newest visible articles, per-category lists, future ones held back."""
    db = Database(tmp_path / "store.sqlite3")
    store = ArticleStore(db)
    future = sample_article(9, published=NOW + timedelta(days=3), categories=("Peacekeeping",))
    store.apply_fetch("site", [*ARTICLES, future], [], {}, NOW - timedelta(days=1))
    main, categories = load_feed_articles(store, sample_config(tmp_path, max_items=4), NOW)
    assert [a.url for a in main] == [a.url for a in reversed(ARTICLES)][:4]
    assert [(c.slug, c.name, len(c.articles)) for c in categories] == [
        ("peacekeeping", "Peacekeeping", 4),
        ("women-in-security", "Women in Security", 4),
    ]
    db.close()
