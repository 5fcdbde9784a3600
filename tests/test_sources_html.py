"""kind: html against a real server on 127.0.0.1 serving Wix-shaped listing and article pages,
with the selectors of the shipped sample config (config/sources-example.yaml)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from swfeed.config import HtmlSourceConfig, load_config
from swfeed.errors import ContentError, Location, SourceError
from swfeed.sources import FetchResult
from swfeed.sources.html import HtmlSource
from swfeed.sources.http import FetchError, FetchSession
from swfeed.store import Database, utc_text
from swfeed.store.articles import ArticleStore
from tests.conftest import ROOT
from tests.httpfixture import (
    DATA,
    FAST_HTTP,
    FakeClock,
    FixtureServer,
    body,
    conditional,
    example_entry,
    fixture,
    make_config,
    running,
    sequence,
    serve_wix,
    status,
)

NOW = datetime(2026, 1, 10, 12, tzinfo=UTC)
EXAMPLE = ROOT / "config" / "sources-example.yaml"
WPS = "/post/wps-in-peacekeeping-gender-perceptions-and-gaps-in-mandate-integration"
RWANDA_TITLE = "Women at the Center of Rwanda’s Peacebuilding and Recovery"


example_source = example_entry


def source(server: FixtureServer, path: str = "/news", **overrides: Any) -> HtmlSource:
    """The sample html source, pointed at ``path`` on the fixture server."""
    entry = {
        **example_source("html"),
        "url": server.url(path),
        "change_feed": server.url("/blog-feed.xml"),
        "http": FAST_HTTP,
        "max_pages": 1,
    }
    entry.update(overrides)
    config = make_config(entry)
    assert isinstance(config.sources[0], HtmlSourceConfig)
    session = FetchSession("swfeed/test", clock=FakeClock())
    return HtmlSource(config.sources[0], config, session=session)


def fetch(src: HtmlSource, state: dict[str, Any] | None = None) -> FetchResult:
    return src.fetch(state or {}, NOW)


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with running() as started:
        serve_wix(started)
        yield started


def test_sample_config_validates(tmp_path: Path) -> None:
    """config/sources-example.yaml loads as part of a real config file."""
    site = (ROOT / "tests" / "conftest.py").read_text(encoding="utf-8")
    header = site.split('MINIMAL_CONFIG = """\\\n', 1)[1].split("sources:", 1)[0]
    path = tmp_path / "swfeed.yaml"
    path.write_text(header + EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    config = load_config(path, environ={})
    assert [s.kind for s in config.sources] == ["html", "feed"]


def test_listing_items_become_articles(server: FixtureServer) -> None:
    """Every card of the listing becomes an article with absolute link and aware date."""
    result = fetch(source(server, follow_links=False, selectors=_listing_selectors()))
    assert result.errors == []
    assert len(result.articles) == 7
    rwanda = next(a for a in result.articles if a.title == RWANDA_TITLE)
    assert rwanda.url == server.url(
        "/post/women-at-the-center-of-rwanda-s-peacebuilding-and-recovery"
    )
    assert rwanda.id == rwanda.url
    assert rwanda.published == datetime(2026, 1, 8, 12, 0, 2, tzinfo=UTC)
    assert rwanda.day_only
    assert rwanda.summary.startswith("Women have been central to Rwanda’s peacebuilding")
    assert rwanda.categories == ("News",)  # the page's NEWS and the config's News
    assert rwanda.image is not None
    assert rwanda.image.url.endswith("/kigali.jpg")  # the lazy data-src, not the data: GIF
    assert rwanda.image.alt == "Women at a community meeting in Kigali"


def test_item_without_summary_or_image_still_publishes(server: FixtureServer) -> None:
    """Optional parts missing from one card are no error."""
    result = fetch(source(server, follow_links=False, selectors=_listing_selectors()))
    winnie = next(a for a in result.articles if a.title.startswith("Winnie’s Story"))
    assert winnie.summary == ""
    assert winnie.image is None
    assert winnie.published == datetime(2025, 12, 18, 12, tzinfo=UTC)


def test_article_pages_add_body_credit_and_full_story(server: FixtureServer) -> None:
    """follow_links reads the body, the photo credit and the external full-story link."""
    result = fetch(source(server, max_items=3))
    assert result.errors == []
    wps = next(a for a in result.articles if a.url.endswith(WPS))
    assert wps.image is not None
    assert wps.image.credit == "Photo MONUSCO/Kevin Jordan"
    assert wps.external_url is not None
    assert wps.external_url.startswith("https://peacekeeping.un.org/en/wps-in-peacekeeping")
    assert wps.external_source == "peacekeeping.un.org"
    assert "<p>A recent Women Peace and Security (WPS) Office" in wps.body_html
    assert "To read the full story" not in wps.body_html  # the link is not repeated
    assert "Share on Facebook" not in wps.body_html  # selectors.remove
    assert "<figcaption>Photo MONUSCO/Kevin Jordan</figcaption>" in wps.body_html


def test_pagination_stops_at_max_pages(server: FixtureServer) -> None:
    """The next link is followed up to max_pages; page 3 is never asked for."""
    result = fetch(source(server, follow_links=False, selectors=_listing_selectors(), max_pages=2))
    assert len(result.articles) == 9
    assert any(a.published.year == 2018 for a in result.articles)
    assert server.hits("/news/page/2") == 1
    assert server.hits("/news/page/3") == 0


def test_failed_article_page_is_reported_and_its_item_left_out(server: FixtureServer) -> None:
    """A 404 article page is an error naming its URL; its item waits for the next fetch."""
    server.serve("/post/the-continuing-challenge-of-violence-against-women-in-rwanda", status(404))
    server.serve("/post/winnie-s-story-choosing-policing-as-my-career", status(404))
    result = fetch(source(server, max_items=5))
    assert len(result.articles) == 3
    assert "/post/the-continuing-challenge" not in " ".join(a.url for a in result.articles)
    assert len(result.errors) == 2
    assert all(isinstance(e, FetchError) and e.status == 404 for e in result.errors)
    assert "/post/the-continuing-challenge" in str(result.errors[0])
    assert result.state == {}  # validators are not saved, so the next fetch retries


def test_failed_article_page_keeps_the_stored_body(server: FixtureServer, tmp_path: Path) -> None:
    """A 500 on a stored article's page leaves its body and updated time in the store as is."""
    page = (DATA / "wix" / "news.html").read_bytes()
    server.serve("/news", sequence(body(page), body(page + b"<!-- edited -->")))
    server.serve(WPS, sequence(fixture(f"wix{WPS}.html"), status(500)))
    src = source(server, max_items=3, change_feed=None)
    store = ArticleStore(Database(tmp_path / "store.sqlite3"))
    first = fetch(src)
    store.apply_fetch(src.name, first.articles, [], first.state, NOW)
    stored = store.get(server.url(WPS))
    assert stored is not None
    assert "A recent Women Peace and Security (WPS) Office" in stored.body_html
    later = NOW + timedelta(days=1)
    second = src.fetch(store.source_status(src.name).state, later)
    assert not second.not_modified
    assert [e.status for e in second.errors if isinstance(e, FetchError)] == [500]
    store.apply_fetch(src.name, second.articles, [], second.state, later)
    assert store.get(server.url(WPS)) == stored
    row = store.db.conn.execute("SELECT updated FROM articles WHERE id = ?", (server.url(WPS),))
    assert row.fetchone()["updated"] == utc_text(stored.modified)


def test_failed_article_page_is_retried_despite_an_unchanged_listing(
    server: FixtureServer,
) -> None:
    """The listing's validators stay unsaved, so the next fetch asks for the article again."""
    page = (DATA / "wix" / "news.html").read_bytes()
    server.serve("/news", conditional(page, "text/html; charset=utf-8", '"w1"', "x"))
    server.serve(WPS, sequence(status(500), fixture(f"wix{WPS}.html")))
    src = source(server, max_items=3)
    first = fetch(src)
    assert server.url(WPS) not in [a.url for a in first.articles]
    assert first.state == {}
    second = fetch(src, first.state)
    assert server.url(WPS) in [a.url for a in second.articles]
    assert second.errors == []
    assert second.state["pages"][server.url("/news")]["etag"] == '"w1"'


def test_article_page_without_body_leaves_its_item_out(server: FixtureServer) -> None:
    """selectors.body matching nothing on an article page is reported; the item waits."""
    text = (DATA / f"wix{WPS}.html").read_text(encoding="utf-8")
    server.serve(WPS, body(text.replace('data-hook="post-description"', 'data-hook="other"')))
    result = fetch(source(server, max_items=3))
    assert server.url(WPS) not in [a.url for a in result.articles]
    assert len(result.articles) == 2
    assert any("selectors.body" in str(e) and server.url(WPS) in str(e) for e in result.errors)
    assert result.state == {}


def test_article_page_without_credit_still_publishes(server: FixtureServer) -> None:
    """A post without a credit (an optional part) publishes, and is no problem."""
    text = (DATA / f"wix{WPS}.html").read_text(encoding="utf-8")
    server.serve(WPS, body(text.replace('data-hook="image-caption"', 'data-hook="caption"')))
    result = fetch(source(server, max_items=3))
    wps = next(a for a in result.articles if a.url == server.url(WPS))
    assert "A recent Women Peace and Security (WPS) Office" in wps.body_html
    assert result.errors == []
    assert server.url("/news") in result.state["pages"]


def test_credit_selector_matching_on_no_article_page_is_reported(server: FixtureServer) -> None:
    """An optional article selector that matches on none of the pages read: one problem."""
    result = fetch(source(server, max_items=3, selectors=_selectors(credit=".photo-credit")))
    [error] = result.errors
    assert "selectors.credit" in str(error)
    assert "none of the 3 article pages" in str(error) or "any of the 3 article pages" in str(error)
    assert len(result.articles) == 3


def test_broken_listing_cards_do_not_block_saving_validators(server: FixtureServer) -> None:
    """Card faults repeat with the same listing bytes, so its validators are still saved."""
    server.serve("/hostile", fixture("hostile/listing.html"))
    src = source(server, "/hostile", follow_links=False, selectors=_listing_selectors())
    first = fetch(src)
    assert first.errors
    assert server.url("/hostile") in first.state["pages"]
    assert fetch(src, first.state).not_modified


def test_not_modified_listing_ends_the_fetch(server: FixtureServer) -> None:
    """The second fetch gets a 304 for the listing and asks for no article page."""
    page = (DATA / "wix" / "news.html").read_bytes()
    stamp = "Thu, 08 Jan 2026 10:00:00 GMT"
    server.serve("/news", conditional(page, "text/html; charset=utf-8", '"w1"', stamp))
    src = source(server, max_items=3)
    first = fetch(src)
    second = fetch(src, first.state)
    assert second.not_modified
    assert second.articles == []
    assert second.state == first.state
    assert first.state["pages"][server.url("/news")]["etag"] == '"w1"'
    assert server.hits(WPS) == 1


def test_not_modified_fetch_writes_nothing_to_the_store(
    server: FixtureServer, tmp_path: Path
) -> None:
    """Stored through the real store, a 304 fetch changes no row of the SQLite file."""
    page = (DATA / "wix" / "news.html").read_bytes()
    server.serve("/news", conditional(page, "text/html; charset=utf-8", '"w1"', "x"))
    src = source(server, follow_links=False, selectors=_listing_selectors())
    store = ArticleStore(Database(tmp_path / "store.sqlite3"))
    first = fetch(src)
    counts = store.apply_fetch(src.name, first.articles, [], first.state, NOW)
    assert counts.new == 7
    changes = store.db.conn.total_changes
    second = fetch(src, store.source_status(src.name).state)
    assert second.not_modified
    again = store.apply_fetch(src.name, second.articles, [], second.state, NOW)
    assert not again.changed
    assert store.db.conn.total_changes == changes


def test_unchanged_listing_without_validators_is_not_modified(server: FixtureServer) -> None:
    """A server without ETag/Last-Modified: the same body again counts as unchanged."""
    src = source(server, follow_links=False, selectors=_listing_selectors())
    first = fetch(src)
    assert fetch(src, first.state).not_modified


def test_ids_are_stable_across_fetches(server: FixtureServer) -> None:
    """Two fetches from scratch give the same ids and content."""
    src = source(server, follow_links=False, selectors=_listing_selectors())
    assert fetch(src).articles == fetch(src).articles


def test_broken_items_are_reported_and_the_rest_publish(server: FixtureServer) -> None:
    """Hostile or broken cards are errors naming source, page URL and selector."""
    server.serve("/hostile", fixture("hostile/listing.html"))
    result = fetch(source(server, "/hostile", follow_links=False, selectors=_listing_selectors()))
    assert sorted(a.title for a in result.articles) == ["A fine item", "Scripted title"]
    messages = [str(e) for e in result.errors]
    assert all(isinstance(e, ContentError) for e in result.errors)
    assert all(e.location == Location(server.url("/hostile")) for e in result.errors)  # type: ignore[attr-defined]
    assert all("source 'site-news'" in m for m in messages)
    links = [m for m in messages if "no http(s) link" in m]
    assert len(links) == 3  # javascript:, file:, data:
    assert "selectors.link: '[data-hook=\"post-title\"] a'" in links[0]
    assert any("'Someday soon'" in m and "selectors.date" in m for m in messages)
    assert any("No date at all" in m and "matched nothing" in m for m in messages)


def test_hostile_listing_markup_is_neutralised(server: FixtureServer) -> None:
    """Scripts, handlers and javascript: image sources do not survive the listing."""
    server.serve("/hostile", fixture("hostile/listing.html"))
    result = fetch(source(server, "/hostile", follow_links=False, selectors=_listing_selectors()))
    scripted = next(a for a in result.articles if a.title == "Scripted title")
    assert scripted.summary == "Summary bold"
    assert scripted.image is not None
    assert scripted.image.url == "https://img.example/ok.jpg"
    assert scripted.image.alt == "ok"


def test_hostile_article_page_is_sanitized(server: FixtureServer) -> None:
    """An article page full of scripts, handlers and bad links yields a clean body."""
    server.serve("/hostile", fixture("hostile/listing.html"))
    server.serve("/post/fine", fixture("hostile/article.html"))
    selectors = {**example_source("html")["selectors"], "remove": []}
    result = fetch(source(server, "/hostile", selectors=selectors))
    fine = next(a for a in result.articles if a.title == "A fine item")
    lowered = fine.body_html.lower()
    for bad in (
        "<script",
        "onerror",
        "onmouseover",
        "javascript:",
        "data:",
        "file:",
        "<iframe",
        "<form",
        "<svg",
        "style=",
        "owned",
    ):
        assert bad not in lowered, bad
    assert f'href="{server.url("/relative/ok")}"' in fine.body_html
    assert fine.image is not None
    assert fine.image.credit == "Photo Agency/Name"
    assert fine.external_url is None  # the full-story link was javascript:


def test_listing_in_windows_1252_without_header_charset(server: FixtureServer) -> None:
    """<meta charset=windows-1252> is honoured when the header names no charset."""
    text = (DATA / "wix" / "news.html").read_text(encoding="utf-8")
    legacy = text.replace('<meta charset="utf-8">', '<meta charset="windows-1252">')
    server.serve("/legacy", body(legacy.encode("cp1252", errors="replace"), "text/html"))
    result = fetch(source(server, "/legacy", follow_links=False, selectors=_listing_selectors()))
    assert RWANDA_TITLE in [a.title for a in result.articles]


def test_utf8_listing_mislabelled_as_latin1(server: FixtureServer) -> None:
    """UTF-8 bytes served as ISO-8859-1 keep their curly quotes (no mojibake)."""
    page = (DATA / "wix" / "news.html").read_bytes()
    server.serve("/mislabelled", body(page, "text/html; charset=iso-8859-1"))
    result = fetch(
        source(server, "/mislabelled", follow_links=False, selectors=_listing_selectors())
    )
    titles = [a.title for a in result.articles]
    assert RWANDA_TITLE in titles
    assert not any("â€" in title for title in titles)


def test_item_selector_matching_nothing_fails_the_source(server: FixtureServer) -> None:
    """A listing where selectors.item finds nothing is a source error naming the selector."""
    server.serve("/empty", body("<html><body><p>Redesigned!</p></body></html>"))
    with pytest.raises(SourceError) as caught:
        fetch(source(server, "/empty", follow_links=False, selectors=_listing_selectors()))
    assert "selectors.item" in str(caught.value)
    assert server.url("/empty") in str(caught.value)


def test_robots_disallow_fails_the_source(server: FixtureServer) -> None:
    """A listing robots.txt forbids is a source error; the page is not requested."""
    server.serve("/robots.txt", body("User-agent: swfeed\nDisallow: /news\n", "text/plain"))
    with pytest.raises(FetchError) as caught:
        fetch(source(server, follow_links=False, selectors=_listing_selectors()))
    assert caught.value.reason == "robots"
    assert server.hits("/news") == 0


def test_non_html_response_fails_the_source(server: FixtureServer) -> None:
    """A listing URL that serves JSON is a source error with a hint."""
    server.serve("/api", body('{"posts": []}', "application/json"))
    with pytest.raises(SourceError, match="not an HTML page"):
        fetch(source(server, "/api", follow_links=False, selectors=_listing_selectors()))


def test_article_selectors_need_follow_links() -> None:
    """selectors.body without follow_links: true is a config error that says so."""
    entry = {**example_source("html"), "follow_links": False}
    with pytest.raises(ValidationError, match="set follow_links: true"):
        make_config(entry)


def test_invalid_css_selector_is_a_config_error() -> None:
    """A selector that is not CSS is refused when the config is loaded."""
    entry = example_source("html")
    entry["selectors"] = {**entry["selectors"], "item": "article[[broken"}
    with pytest.raises(ValidationError, match="not a valid CSS selector"):
        make_config(entry)


def _listing_selectors() -> dict[str, Any]:
    """The sample selectors without the article-page ones (for follow_links: false)."""
    selectors = dict(example_source("html")["selectors"])
    for name in ("body", "credit", "full_story_text"):
        selectors.pop(name)
    return selectors


def _selectors(**changes: Any) -> dict[str, Any]:
    """The sample selectors with ``changes``."""
    return {**example_source("html")["selectors"], **changes}
