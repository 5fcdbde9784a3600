"""A build with nothing new renders nothing; anything the feeds are made from makes it build."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from swfeed import buildstamp, pipeline
from swfeed.config import Config, ContentSourceConfig, load_config
from swfeed.feeds.stamp import build_facts
from swfeed.models import Article
from swfeed.store import Database
from swfeed.store.articles import ArticleStore
from tests.conftest import copy_sample_site

NOW = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)


@pytest.fixture
def site(tmp_path: Path) -> Config:
    """The sample site (its content and config) in a temporary folder."""
    return load_config(copy_sample_site(tmp_path))


@pytest.fixture
def db(site: Config) -> Iterator[Database]:
    """The site's store, fetched and built once at NOW."""
    with Database(site.store.path) as store:
        pipeline.publish(site, store, NOW)
        yield store


def rss(config: Config) -> Path:
    return config.output.path / "feeds" / "rss.xml"


def story(n: int, published: datetime) -> Article:
    url = f"https://www.securitywomen.org/post/extra-{n}"
    return Article(id=url, url=url, title=f"Extra story {n}", published=published, source="site")


def test_nothing_new_renders_nothing(site: Config, db: Database) -> None:
    """A second build finds nothing changed: no feed is rendered or rewritten."""
    before = os.stat(rss(site))
    report = pipeline.build(site, db, NOW + timedelta(minutes=5))
    assert not report.rendered
    assert not report.written
    assert rss(site) in report.unchanged
    assert os.stat(rss(site)).st_mtime_ns == before.st_mtime_ns


def test_missing_file_is_written_again(site: Config, db: Database) -> None:
    """A published file that was deleted makes the build write it again."""
    expected = rss(site).read_bytes()
    rss(site).unlink()
    report = pipeline.build(site, db, NOW + timedelta(minutes=5))
    assert report.rendered
    assert rss(site).read_bytes() == expected


def test_altered_file_is_restored(site: Config, db: Database) -> None:
    """A published file someone edited is rewritten as the build makes it."""
    expected = rss(site).read_bytes()
    rss(site).write_bytes(expected.replace(b"SecurityWomen", b"Defaced", 1))
    pipeline.build(site, db, NOW + timedelta(minutes=5))
    assert rss(site).read_bytes() == expected


def test_a_stored_change_renders_again(site: Config, db: Database) -> None:
    """A new article in the store is in the feeds at the next build."""
    ArticleStore(db).apply_fetch("site", [story(1, NOW)], [], {"x": 1}, NOW)
    report = pipeline.build(site, db, NOW + timedelta(minutes=5))
    assert report.rendered
    assert b"Extra story 1" in rss(site).read_bytes()


def test_a_config_change_renders_again(site: Config, db: Database) -> None:
    """A changed setting (here the site's title) is in the feeds at the next build."""
    retitled = site.model_copy(update={"site": site.site.model_copy(update={"title": "SW News"})})
    pipeline.build(retitled, db, NOW + timedelta(minutes=5))
    assert b"<title>SW News</title>" in rss(site).read_bytes()


def test_a_dated_ahead_article_appears_when_its_time_comes(site: Config, db: Database) -> None:
    """An article dated tomorrow renders nothing today, and is in the feeds tomorrow."""
    tomorrow = NOW + timedelta(days=1)
    ArticleStore(db).apply_fetch("site", [story(2, tomorrow)], [], {"y": 1}, NOW)
    assert b"Extra story 2" not in rss(site).read_bytes()
    pipeline.build(site, db, NOW + timedelta(hours=1))
    assert not pipeline.build(site, db, NOW + timedelta(hours=2)).rendered
    report = pipeline.build(site, db, tomorrow)
    assert report.rendered
    assert b"Extra story 2" in rss(site).read_bytes()


def test_a_new_image_is_published(site: Config, db: Database) -> None:
    """An image added to the content folder is copied at the next build."""
    source = site.sources[0]
    assert isinstance(source, ContentSourceConfig)
    image = source.path / "news" / "images" / "new-photo.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    report = pipeline.build(site, db, NOW + timedelta(minutes=5))
    published = site.output.path / "media" / "site" / "news" / "images" / "new-photo.png"
    assert published in report.written
    assert published.read_bytes() == image.read_bytes()


def test_force_renders_anyway(site: Config, db: Database) -> None:
    """``force`` renders every feed although nothing changed."""
    assert pipeline.build(site, db, NOW + timedelta(minutes=5), force=True).rendered


def test_a_crashs_temp_files_still_go(site: Config, db: Database) -> None:
    """With nothing to render, a build still removes the temp files a crash left behind."""
    leftover = rss(site).parent / ".rss.xml.swfeed-tmp-1234"
    leftover.write_bytes(b"half a feed")
    old = (NOW - timedelta(hours=1)).timestamp()
    os.utime(leftover, (old, old))
    assert not pipeline.build(site, db, NOW + timedelta(minutes=5)).rendered
    assert not leftover.exists()


def test_templates_and_version_are_in_the_stamp(
    site: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The admin's templates and swfeed's version each change the stamp."""
    folder = tmp_path / "my-templates"
    folder.mkdir()
    assert site.digest is not None
    digest = site.digest.model_copy(update={"templates": folder})
    custom = site.model_copy(update={"digest": digest})
    first = buildstamp.build_stamp(build_facts(custom), 7)
    (folder / "digest.css").write_text("p { color: red }", encoding="utf-8")
    second = buildstamp.build_stamp(build_facts(custom), 7)
    monkeypatch.setattr(buildstamp, "__version__", "99.0")
    assert len({first, second, buildstamp.build_stamp(build_facts(custom), 7)}) == 3


def test_every_write_to_articles_counts(db: Database) -> None:
    """Writes by any path, even plain SQL, move the store's change count."""
    articles = ArticleStore(db)
    before = articles.change_count()
    with db.write() as conn:
        conn.execute("UPDATE articles SET removed = ? WHERE rowid = 1", (NOW.isoformat(),))
    assert articles.change_count() > before


def test_next_visible_is_the_earliest_dated_ahead_article(db: Database) -> None:
    """The store tells when the next article dated after now becomes visible."""
    articles = ArticleStore(db)
    assert articles.next_visible(NOW) is None
    later, soon = story(3, NOW + timedelta(days=3)), story(4, NOW + timedelta(hours=3))
    articles.apply_fetch("site", [later, soon], [], {"z": 1}, NOW)
    assert articles.next_visible(NOW) == soon.published
    assert articles.next_visible(soon.published) == later.published


def test_a_forced_build_writes_the_same_bytes(site: Config, db: Database) -> None:
    """Output stays byte-stable: a forced build rewrites no file."""
    files = {p: p.read_bytes() for p in (site.output.path / "feeds").rglob("*") if p.is_file()}
    report = pipeline.build(site, db, NOW + timedelta(minutes=5), force=True)
    assert not report.written
    assert all(path.read_bytes() == data for path, data in files.items())
