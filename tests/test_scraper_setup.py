"""A scraper an admin can set up: a dry run, edits that take effect, Wix's dates and feed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from swfeed.cli import main
from swfeed.config import HtmlSourceConfig
from swfeed.sources import FetchResult
from swfeed.sources.categories import merge_categories
from swfeed.sources.html import HtmlSource
from swfeed.sources.http import FetchSession
from tests.conftest import MINIMAL_CONFIG
from tests.httpfixture import (
    DATA,
    EXAMPLE,
    FAST_HTTP,
    FakeClock,
    FixtureServer,
    body,
    conditional,
    example_entry,
    make_config,
    running,
    sequence,
    serve_wix,
)

NOW = datetime(2026, 1, 12, 9, tzinfo=UTC)
WPS = "/post/wps-in-peacekeeping-gender-perceptions-and-gaps-in-mandate-integration"
FEED_TYPE = "application/rss+xml"


def example_html() -> dict[str, Any]:
    """config/sources-example.yaml's html entry, as written."""
    return example_entry("html")


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with running() as started:
        serve_wix(started)
        yield started


def pointed_at(server: FixtureServer, entry: dict[str, Any]) -> dict[str, Any]:
    """The entry with its URLs on the fixture server and the loopback opt-in, nothing else."""
    http = {**entry.get("http", {}), "allow_private_addresses": True}
    return {
        **entry,
        "url": server.url("/news"),
        "change_feed": server.url("/blog-feed.xml"),
        "http": http,
    }


def listing_selectors(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry's selectors without the article-page ones (for follow_links: false)."""
    article_page = ("body", "credit", "full_story_text")
    return {k: v for k, v in entry["selectors"].items() if k not in article_page}


def html_source(entry: dict[str, Any]) -> HtmlSource:
    config = make_config(entry)
    assert isinstance(config.sources[0], HtmlSourceConfig)
    return HtmlSource(config.sources[0], config, session=FetchSession("t", clock=FakeClock()))


def test_the_example_entry_works_as_it_stands(server: FixtureServer) -> None:
    """sources-example.yaml's Wix entry (only its URLs moved to 127.0.0.1) reads all nine
    posts: bodies, credits, full-story links, one category, no problems."""
    result = html_source(pointed_at(server, example_html())).fetch({}, NOW)
    assert [str(error) for error in result.errors] == []
    assert len(result.articles) == 9
    assert {a.categories for a in result.articles} == {("News",)}
    assert all(a.body_html for a in result.articles)
    wps = next(a for a in result.articles if a.url.endswith(WPS))
    assert wps.external_url == (
        "https://peacekeeping.un.org/en/wps-in-peacekeeping-gender-perceptions-and-gaps-in-"
        "mandate-integration"
    )
    assert wps.image is not None
    assert wps.image.credit == "Photo MONUSCO/Kevin Jordan"
    assert "full story" not in wps.body_html
    assert ":contains(" not in EXAMPLE.read_text(encoding="utf-8")


def test_the_full_story_link_is_found_by_its_words_and_not_repeated(
    server: FixtureServer,
) -> None:
    """full_story_text: the link inside "To read the full story, see here" is the story's;
    the paragraph leaves the body, the rest stays."""
    entry = pointed_at(server, example_html())
    entry["selectors"] = {**entry["selectors"], "full_story_text": "READ the  Full Story"}
    result = html_source({**entry, "max_items": 1}).fetch({}, NOW)
    (wps,) = result.articles
    assert wps.external_url is not None
    assert wps.external_url.startswith("https://peacekeeping.un.org/")
    assert wps.external_source == "peacekeeping.un.org"
    assert "see <a" not in wps.body_html
    assert "persistent gap between policy and practice" in wps.body_html


def test_dry_run_prints_what_each_selector_found_and_stores_nothing(
    server: FixtureServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`fetch --source site-news --dry-run`: per item title, link, raw and parsed date,
    summary, image, category, body size, credit, full-story link; the misses; no store."""
    entry = pointed_at(server, example_html())
    entry["http"] = {**entry["http"], "min_interval": 0}
    config = yaml.safe_load(MINIMAL_CONFIG)
    config["sources"] = [entry]
    config["store"] = {"path": str(tmp_path / "var" / "store.sqlite3")}
    path = tmp_path / "swfeed.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    assert main(["--config", str(path), "fetch", "--source", "site-news", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "site-news: 9 items (a dry run: nothing stored)" in out
    assert "date:              'January 5, 2026' -> 2026-01-05 12:00:00 UTC (a day" in out
    assert "title:             WPS in Peacekeeping: Gender Perceptions" in out
    assert f"link:              {server.url(WPS)}" in out
    assert "category:          NEWS" in out
    assert "categories stored: News" in out
    assert "credit:            Photo MONUSCO/Kevin Jordan" in out
    assert "full_story_text:   https://peacekeeping.un.org/en/wps-in-peacekeeping" in out
    assert "characters of HTML" in out
    assert "summary:           -- matched nothing" in out  # Winnie's card has no teaser
    assert (
        "matched nothing: full_story_text in 6 of 9, summary in 1 of 9, image in 2 of 9, "
        "credit in 2 of 9"
    ) in out
    assert not (tmp_path / "var").exists()


def test_an_edited_source_config_takes_effect_at_the_next_fetch(server: FixtureServer) -> None:
    """Validators saved with other settings are not sent: new categories apply at once,
    though the page did not change; the same settings ask conditionally (304)."""
    page = (DATA / "wix" / "news.html").read_bytes()
    server.serve("/news", conditional(page, "text/html; charset=utf-8", '"v1"', "x"))
    entry = {**pointed_at(server, example_html()), "follow_links": False, "http": FAST_HTTP}
    entry.pop("change_feed")
    entry["selectors"] = listing_selectors(entry)
    first = html_source(entry).fetch({}, NOW)
    assert html_source(entry).fetch(first.state, NOW).not_modified
    edited = html_source({**entry, "categories": ["News", "Peacekeeping"]})
    second = edited.fetch(first.state, NOW)
    assert not second.not_modified
    assert {a.categories for a in second.articles} == {("News", "Peacekeeping")}
    assert server.requests[-1].headers.get("if-none-match") is None


def test_force_asks_unconditionally(server: FixtureServer) -> None:
    """--force sends no validators and reads the unchanged page again."""
    page = (DATA / "wix" / "news.html").read_bytes()
    server.serve("/news", conditional(page, "text/html; charset=utf-8", '"v1"', "x"))
    entry = {**pointed_at(server, example_html()), "follow_links": False, "max_items": 2}
    entry.pop("change_feed")
    entry["selectors"] = listing_selectors(entry)
    source = html_source(entry)
    first = source.fetch({}, NOW)
    forced = source.fetch(first.state, NOW, force=True)
    assert len(forced.articles) == 2
    assert server.requests[-1].headers.get("if-none-match") is None


def fetch_twice(server: FixtureServer, second_feed: bytes) -> tuple[FetchResult, FetchResult]:
    entry = pointed_at(server, example_html())
    feed = (DATA / "wix" / "blog-feed.xml").read_bytes()
    server.serve("/blog-feed.xml", sequence(body(feed, FEED_TYPE), body(second_feed, FEED_TYPE)))
    source = html_source({**entry, "max_items": 2})
    first = source.fetch({}, NOW)
    return first, source.fetch(first.state, NOW)


def test_an_unchanged_blog_feed_spares_the_listing(server: FixtureServer) -> None:
    """The same posts in Wix's feed (only its build date moved): the listing is not asked."""
    feed = (DATA / "wix" / "blog-feed.xml").read_bytes()
    rebuilt = feed.replace(b"Mon, 12 Jan 2026 08:00:00 GMT", b"Mon, 12 Jan 2026 09:30:00 GMT")
    first, second = fetch_twice(server, rebuilt)
    assert len(first.articles) == 2
    assert second.not_modified
    assert server.hits("/news") == 1


def test_a_new_post_in_the_blog_feed_reads_the_listing(server: FixtureServer) -> None:
    """A post added to Wix's feed makes the next fetch scrape the listing again."""
    feed = (DATA / "wix" / "blog-feed.xml").read_bytes()
    new_post = (
        b"<item><title>New</title><link>https://www.securitywomen.org/post/new</link>"
        b"<pubDate>Mon, 12 Jan 2026 08:00:00 GMT</pubDate></item></channel>"
    )
    _first, second = fetch_twice(server, feed.replace(b"</channel>", new_post))
    assert server.hits("/news") == 2
    assert (
        second.state["pages"][server.url("/blog-feed.xml")]
        != _first.state["pages"][server.url("/blog-feed.xml")]
    )


def test_a_date_that_does_not_parse_names_date_format(server: FixtureServer) -> None:
    """A card whose date is not understood is reported with date_format in the hint."""
    page = (DATA / "wix" / "news.html").read_text(encoding="utf-8")
    server.serve("/news", body(page.replace(">January 5, 2026<", ">Fifth of Januarius<")))
    entry = {**pointed_at(server, example_html()), "follow_links": False}
    entry.pop("change_feed")
    entry["selectors"] = listing_selectors(entry)
    result = html_source(entry).fetch({}, NOW)
    (error,) = result.errors
    assert "'Fifth of Januarius' is not a date swfeed understands" in str(error)
    assert "date_format" in error.hint


def test_category_labels_merge_with_the_configured_ones_whatever_their_case() -> None:
    """NEWS from the page and News from the config are one category, spelt as configured."""
    assert merge_categories(["NEWS", "Rwanda", "rwanda"], ["News"]) == ("News", "Rwanda")
