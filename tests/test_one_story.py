"""One story once: the content folder and the scraper of the same site publish each story once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from swfeed import pipeline
from swfeed.cli import main
from swfeed.config import Config, load_config
from swfeed.digest.freeze import ensure_issue
from swfeed.fetchreport import SourceReport
from swfeed.store import Database
from swfeed.store.articles import ArticleStore
from swfeed.stories import link_key, title_words
from tests.httpfixture import FixtureServer, example_entry, running, serve_wix
from tests.samplesite import copy_sample

NOW = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with running() as started:
        serve_wix(started)
        yield started


def scraper(server: FixtureServer) -> dict[str, Any]:
    """sources-example.yaml's Wix entry on the fixture server (no waits between requests)."""
    entry = example_entry("html")
    entry.update(url=server.url("/news"), change_feed=server.url("/blog-feed.xml"))
    entry["http"] = {**entry["http"], "min_interval": 0, "allow_private_addresses": True}
    return entry


def sample_with(tmp_path: Path, server: FixtureServer, *, scraper_first: bool = False) -> Path:
    """The sample config with the scraper on too, as its comments suggest."""
    path = copy_sample(tmp_path)
    data = yaml.safe_load(path.read_text(encoding="utf-8").replace("${", "$${"))
    content = data["sources"][0]
    data["sources"] = [scraper(server), content] if scraper_first else [content, scraper(server)]
    text = yaml.safe_dump(data, allow_unicode=True).replace("$${", "${")
    path.write_text(text, encoding="utf-8")
    return path


def fetch(config: Config, when: datetime = NOW) -> list[SourceReport]:
    with Database(config.store.path) as db:
        return pipeline.fetch(config, db, when)


def shown(config: Config, when: datetime = NOW) -> dict[str, str]:
    """id -> source of every article the feeds show."""
    with Database(config.store.path) as db:
        return {a.id: a.source for a in ArticleStore(db).latest(when, 100)}


def test_content_and_scraper_of_one_site_show_each_story_once(
    tmp_path: Path, server: FixtureServer
) -> None:
    """Nine stories from the folder, nine from the listing: nine articles, the folder's."""
    config = load_config(sample_with(tmp_path, server))
    site, news = fetch(config)
    assert site.counts.new == 9
    assert (news.counts.new, len(news.counts.merged)) == (0, 9)
    assert {m.reason for m in news.counts.merged} == {"same title on the same day"}
    assert set(shown(config).values()) == {"site"}
    assert len(shown(config)) == 9


def test_the_source_listed_first_wins(tmp_path: Path, server: FixtureServer) -> None:
    """With the scraper listed first, its copies are the ones shown."""
    config = load_config(sample_with(tmp_path, server, scraper_first=True))
    news, site = fetch(config)
    assert news.counts.new == 9
    assert len(site.counts.merged) == 9
    assert set(shown(config).values()) == {"site-news"}


def test_the_same_link_merges_whatever_its_spelling(tmp_path: Path, server: FixtureServer) -> None:
    """The folder links to the scraped pages (another case, a slash, tracking): same link."""
    path = sample_with(tmp_path, server)
    text = path.read_text(encoding="utf-8")
    pattern = "https://www.securitywomen.org/post/{slug}"
    upper = server.url("/post/{slug}/?utm_source=newsletter").replace("http://", "HTTP://")
    path.write_text(text.replace(pattern, upper), encoding="utf-8")
    config = load_config(path)
    _site, news = fetch(config)
    assert {m.reason for m in news.counts.merged} == {"same link"}
    assert len(shown(config)) == 9


def test_feeds_and_the_issue_carry_each_story_once(
    tmp_path: Path, server: FixtureServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """`swfeed publish` reports the merges; the feed and the week's issue have no twins."""
    path = sample_with(tmp_path, server)
    assert main(["--config", str(path), "publish"]) == 0
    out = capsys.readouterr().out
    assert "site-news: 0 new, 0 updated, 0 unchanged, 0 removed, 9 merged, 0 failed" in out
    assert "merged: 'Rwandan Women Peacekeepers Lead Action' is the same story as source" in out
    config = load_config(path)
    feed = json.loads((config.output.path / "feeds" / "feed.json").read_text(encoding="utf-8"))
    titles = [item["title"] for item in feed["items"]]
    assert len(titles) == len(set(titles)) == 9
    with Database(config.store.path) as db:
        visible = datetime.now(UTC) + timedelta(minutes=1)
        issue = ensure_issue(config, db, visible, "2026-W02")
    assert issue is not None
    assert len(issue.article_ids) == 4


def test_a_source_listed_first_added_later_takes_over_without_a_second_mail(
    tmp_path: Path, server: FixtureServer
) -> None:
    """The scraper alone first, its stories in an issue; then the folder, listed first:
    its copies are shown, and the issue that took the scraper's counts for them."""
    path = sample_with(tmp_path, server)
    full = load_config(path)
    alone = full.model_copy(update={"sources": full.sources[1:]})
    fetch(alone)
    with Database(full.store.path) as db:
        first = ensure_issue(alone, db, NOW + timedelta(hours=2))
    assert first is not None
    site, _news = fetch(full, NOW + timedelta(hours=3))
    assert sum(m.took_over for m in site.counts.merged) == 9
    assert set(shown(full, NOW + timedelta(days=1)).values()) == {"site"}
    with Database(full.store.path) as db:
        later = ensure_issue(full, db, NOW + timedelta(days=7))
    assert later is None  # nothing new: every story was mailed already


def test_a_removed_story_shows_its_other_copy_again(tmp_path: Path, server: FixtureServer) -> None:
    """Deleting a folder article shows the scraper's copy of it instead."""
    config = load_config(sample_with(tmp_path, server))
    fetch(config)
    news = tmp_path / "content" / "news"
    (news / "2025-10-10-resilient-leaders-powerful-mentors.md").unlink()
    site, _news = fetch(config, NOW + timedelta(hours=1))
    assert site.counts.removed == 1
    sources = list(shown(config, NOW + timedelta(hours=1)).values())
    assert (sources.count("site"), sources.count("site-news")) == (8, 1)


@pytest.mark.parametrize(
    "other",
    [
        "HTTPS://WWW.Example.ORG/post/a-story/",
        "http://www.example.org/post/a-story?utm_source=x&utm_medium=email#top",
        "https://www.example.org:443/post/a-story?fbclid=abc",
    ],
)
def test_links_compare_without_scheme_case_slash_or_tracking(other: str) -> None:
    """Scheme and host case, a trailing slash, tracking parameters make no difference."""
    assert link_key(other) == link_key("https://www.example.org/post/a-story")


def test_links_that_differ_in_a_real_parameter_or_path_are_not_the_same() -> None:
    """?page=2 or another path stays a different link."""
    base = link_key("https://www.example.org/post/a-story")
    assert link_key("https://www.example.org/post/a-story?page=2") != base
    assert link_key("https://www.example.org/post/another-story") != base


def test_titles_compare_by_their_words() -> None:
    """Case, punctuation, curly quotes and spacing do not count."""
    assert title_words("Women at the Center of Rwanda’s Peacebuilding") == title_words(
        "WOMEN AT THE CENTER OF RWANDA'S  PEACEBUILDING!"
    )
