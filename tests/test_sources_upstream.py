"""kind: feed against a real server on 127.0.0.1: RSS 2.0, Atom 1.0, JSON Feed 1.1, category
mapping and filters, stable ids, and hostile or broken feeds."""

from __future__ import annotations

import html
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import feedparser
import pytest

from swfeed.config import FeedSourceConfig
from swfeed.errors import ContentError, SourceError
from swfeed.models import Article
from swfeed.sources import FetchResult, WorkBudget
from swfeed.sources.http import FetchSession
from swfeed.sources.upstream import FeedSource
from tests.httpfixture import (
    DATA,
    FAST_HTTP,
    FakeClock,
    FixtureServer,
    body,
    bounded,
    conditional,
    fixture,
    make_config,
    running,
    sequence,
)
from tests.test_sources_html import example_source

NOW = datetime(2026, 1, 10, 12, tzinfo=UTC)
RSS = "application/rss+xml; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
MEDIATORS = "https://partners.example.org/news/women-mediators-zurich"


def source(
    server: FixtureServer, path: str, timezone: str = "Europe/London", **options: Any
) -> FeedSource:
    entry = {
        "kind": "feed",
        "name": "partner",
        "url": server.url(path),
        "http": FAST_HTTP,
        **options,
    }
    config = make_config(entry, timezone=timezone)
    assert isinstance(config.sources[0], FeedSourceConfig)
    return FeedSource(
        config.sources[0], config, session=FetchSession("swfeed/test", clock=FakeClock())
    )


def fetch(src: FeedSource, state: dict[str, Any] | None = None) -> FetchResult:
    return bounded(20, lambda: src.fetch(state or {}, NOW))  # type: ignore[no-any-return]


def by_url(result: FetchResult, url: str) -> Article:
    return next(article for article in result.articles if article.url == url)


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with running() as started:
        started.serve("/feed.rss", fixture("feeds/partner.rss", RSS))
        started.serve("/feed.atom", fixture("feeds/partner.atom", ATOM))
        started.serve("/feed.json", fixture("feeds/partner.json", "application/feed+json"))
        yield started


def test_rss_items_become_articles(server: FixtureServer) -> None:
    """RSS 2.0 items: guid as id, aware dates, author, body, thumbnail."""
    result = fetch(source(server, "/feed.rss"))
    assert result.errors == []
    assert len(result.articles) == 4
    mediators = by_url(result, MEDIATORS)
    assert mediators.id == MEDIATORS
    assert mediators.title == "Women mediators meet in Zürich to review the Colombia peace accord"
    assert mediators.published == datetime(2026, 1, 8, 8, 30, tzinfo=UTC)
    assert mediators.authors == ("Amina Yusuf",)
    assert "<strong>Zürich</strong>" in mediators.body_html
    assert mediators.image is not None
    assert mediators.image.url == "https://partners.example.org/media/mediators-thumb.jpg"
    assert mediators.external_source == "PeaceWomen Partners – News"


def test_guid_that_is_no_uri_is_namespaced_by_source(server: FixtureServer) -> None:
    """A bare guid like 'partners-2026-0042' becomes 'partner:partners-2026-0042'."""
    result = fetch(source(server, "/feed.rss"))
    debate = by_url(result, "https://partners.example.org/news/unsc-open-debate-1325")
    assert debate.id == "partner:partners-2026-0042"


def test_escaped_html_description_gives_body_and_plain_summary(server: FixtureServer) -> None:
    """An entity-escaped HTML description is the body; the summary is its plain text."""
    debate = by_url(
        fetch(source(server, "/feed.rss")),
        "https://partners.example.org/news/unsc-open-debate-1325",
    )
    assert "<em>peacebuilding</em>" in debate.body_html
    assert (
        debate.summary
        == "The network called on member states to fund women-led peacebuilding organisations."
    )


def test_naive_pubdate_takes_the_site_zone(server: FixtureServer) -> None:
    """A pubDate without a zone is read in the site's zone."""
    result = fetch(source(server, "/feed.rss", timezone="Europe/Zurich"))
    liberia = by_url(result, "https://partners.example.org/news/liberia-police-reform")
    assert liberia.published == datetime(2026, 1, 4, 9, tzinfo=UTC)
    assert liberia.image is not None
    assert liberia.image.url == "https://partners.example.org/media/liberia.jpg"


def test_atom_entries_become_articles(server: FixtureServer) -> None:
    """Atom 1.0: xml:base links, html titles as plain text, published and updated."""
    result = fetch(source(server, "/feed.atom", keep_unmapped_categories=True))
    ghana = by_url(result, "https://atom.example.net/posts/ghana-training")
    assert ghana.id == "tag:atom.example.net,2026:entry-17"
    assert ghana.title == "Training women peacekeepers in Ghana"
    assert ghana.published == datetime(2026, 1, 7, 9, tzinfo=UTC)
    assert ghana.updated == datetime(2026, 1, 9, 7, tzinfo=UTC)
    assert ghana.authors == ("Efua Mensah",)
    assert ghana.categories == ("Training", "Women, Peace and Security")
    assert 'href="https://atom.example.net/centres/kaiptc"' in ghana.body_html
    sahel = by_url(result, "https://atom.example.net/posts/sahel-survey")
    assert sahel.published == datetime(2026, 1, 2, 9, tzinfo=UTC)
    assert sahel.summary == "Findings from five countries."


def test_json_feed_items_become_articles(server: FixtureServer) -> None:
    """JSON Feed 1.1: typed items, numeric ids, content_text, external_url."""
    result = fetch(source(server, "/feed.json", keep_unmapped_categories=True))
    assert len(result.articles) == 2
    addis = by_url(result, "https://json.example.com/2026/01/focal-points")
    assert addis.id == "partner:2026-01-08-focal-points"
    assert addis.published == datetime(2026, 1, 8, 4, tzinfo=UTC)
    assert addis.categories == ("Women, Peace and Security", "African Union")
    assert addis.image is not None
    plans = by_url(result, "https://json.example.com/2026/01/national-action-plans")
    assert plans.id == "partner:1024"
    assert plans.body_html == "<p>A review of 12 plans.</p><p>Most now include budgets.</p>"
    assert plans.external_url == "https://www.un.org/en/nap-report"
    assert plans.updated == datetime(2026, 1, 4, 10, tzinfo=UTC)


def test_broken_json_feed_item_is_reported(server: FixtureServer) -> None:
    """A JSON Feed item with a wrong type is an error; the others publish."""
    result = fetch(source(server, "/feed.json"))
    [error] = result.errors
    assert isinstance(error, ContentError)
    assert "item 3: id" in str(error)
    assert server.url("/feed.json") in result.state["pages"]  # the document itself parsed


def test_category_map_and_filter_of_the_sample_config(server: FixtureServer) -> None:
    """The sample partner config maps categories and drops the fundraising gala."""
    sample = example_source("feed")
    options = {k: sample[k] for k in ("source_name", "category_map", "categories", "filter")}
    result = fetch(source(server, "/feed.rss", **options))
    assert len(result.articles) == 3
    assert all("gala" not in article.url for article in result.articles)
    mediators = by_url(result, MEDIATORS)
    assert mediators.categories == ("Women, Peace and Security", "Partners")
    assert mediators.external_source == "Partner Network"
    liberia = by_url(result, "https://partners.example.org/news/liberia-police-reform")
    assert liberia.categories == ("Security Sector", "Partners")


def test_include_filter_keeps_only_matching_entries(server: FixtureServer) -> None:
    """include: [Zürich] keeps the one entry mentioning it (whole words, any case)."""
    result = fetch(source(server, "/feed.rss", filter={"include": ["zürich"]}))
    assert [a.url for a in result.articles] == [MEDIATORS]


def test_exclude_filter_beats_include(server: FixtureServer) -> None:
    """An entry matching both include and exclude is dropped."""
    result = fetch(
        source(server, "/feed.rss", filter={"include": ["women"], "exclude": ["mediators"]})
    )
    assert MEDIATORS not in [a.url for a in result.articles]


def test_edited_entry_keeps_its_id(server: FixtureServer) -> None:
    """An upstream edit changes the title but not the id, so our article is updated."""
    original = (DATA / "feeds" / "partner.rss").read_bytes()
    edited = original.replace(b"Women mediators meet", b"Women mediators gather")
    server.serve("/edit.rss", sequence(body(original, RSS), body(edited, RSS)))
    src = source(server, "/edit.rss")
    first, second = by_url(fetch(src), MEDIATORS), by_url(fetch(src), MEDIATORS)
    assert first.id == second.id
    assert first.title != second.title


def test_not_modified_feed_writes_nothing(server: FixtureServer) -> None:
    """A 304 gives not_modified with the state unchanged and no articles."""
    data = (DATA / "feeds" / "partner.rss").read_bytes()
    server.serve("/cond.rss", conditional(data, RSS, '"f1"', "Thu, 08 Jan 2026 10:00:00 GMT"))
    src = source(server, "/cond.rss")
    first = fetch(src)
    second = fetch(src, first.state)
    assert second.not_modified
    assert second.articles == []
    assert second.state == first.state


def test_hostile_feed_is_sanitized(server: FixtureServer) -> None:
    """Scripts, handlers and javascript:/data:/file: links are stripped from every field."""
    server.serve("/hostile.rss", fixture("hostile/feed.rss", RSS))
    result = fetch(source(server, "/hostile.rss", keep_unmapped_categories=True))
    first = by_url(result, "https://hostile.example/1")
    assert first.title == "Safe words end"
    assert first.categories == ("Gender",)
    assert all("<" not in author and "onmouseover" not in author for author in first.authors)
    assert first.external_source == "Hostile Partner"
    lowered = first.body_html.lower()
    for bad in (
        "<script",
        "onerror",
        "onclick",
        "javascript:",
        "data:",
        "file:",
        "<iframe",
        "<style",
    ):
        assert bad not in lowered, bad
    assert 'href="https://ok.example/"' in first.body_html
    assert 'src="https://ok.example/a.jpg"' in first.body_html


def test_entries_with_unsafe_links_are_reported(server: FixtureServer) -> None:
    """Entries linking to file:, data: or javascript: are skipped with an error each."""
    server.serve("/hostile.rss", fixture("hostile/feed.rss", RSS))
    result = fetch(source(server, "/hostile.rss"))
    assert sorted(a.url for a in result.articles) == [
        "https://hostile.example/1",
        "https://hostile.example/fine",
    ]
    messages = [str(error) for error in result.errors]
    assert len(messages) == 3
    assert all("has no http(s) link" in m and server.url("/hostile.rss") in m for m in messages)


def test_entity_bomb_is_refused(server: FixtureServer) -> None:
    """A billion-laughs feed is refused quickly as a source error."""
    server.serve("/bomb.xml", fixture("hostile/bomb.xml", "application/xml"))
    with pytest.raises(SourceError, match="entity"):
        fetch(source(server, "/bomb.xml"))


def test_external_entity_is_refused(server: FixtureServer) -> None:
    """A feed declaring an external entity (file:///etc/passwd) is refused."""
    server.serve("/xxe.xml", fixture("hostile/external-entity.xml", "application/xml"))
    with pytest.raises(SourceError, match="external or nested entity"):
        fetch(source(server, "/xxe.xml"))


def test_feedparser_itself_does_not_expand_the_bomb() -> None:
    """Defence in depth: even unguarded, feedparser leaves the bomb unexpanded."""
    data = (DATA / "hostile" / "bomb.xml").read_bytes()
    result: Any = bounded(10, lambda: feedparser.parse(io.BytesIO(data)))
    sizes = [len(result.feed.get("title", ""))] + [len(e.get("title", "")) for e in result.entries]
    assert max(sizes) < 1000


def test_malformed_xml_is_read_leniently_and_reported(server: FixtureServer) -> None:
    """A truncated, not well-formed feed still yields its entries, with a warning."""
    server.serve("/sloppy.rss", fixture("hostile/malformed.rss", RSS))
    result = fetch(source(server, "/sloppy.rss"))
    assert {a.url for a in result.articles} == {
        "https://sloppy.example/1",
        "https://sloppy.example/2",
    }
    [warning] = result.errors
    assert "not well-formed XML" in str(warning)


def test_html_page_instead_of_feed_fails_the_source(server: FixtureServer) -> None:
    """A feed URL that serves a web page is a source error pointing to kind: html."""
    server.serve("/news", fixture("hostile/not-a-feed.html"))
    with pytest.raises(SourceError) as caught:
        fetch(source(server, "/news"))
    assert "serves an HTML page" in str(caught.value)
    assert "kind: html" in caught.value.hint


def test_invalid_json_feed_fails_the_source(server: FixtureServer) -> None:
    """JSON that is no JSON Feed is a source error naming the bad key."""
    server.serve(
        "/bad.json",
        body(
            '{"version": "https://jsonfeed.org/version/1.1", "title": "x", "items": 5}',
            "application/feed+json",
        ),
    )
    with pytest.raises(SourceError, match="not a JSON Feed: items"):
        fetch(source(server, "/bad.json"))


def test_latin1_feed_keeps_its_umlauts(server: FixtureServer) -> None:
    """An ISO-8859-1 feed declared in its XML declaration only keeps 'Zürich'."""
    text = (DATA / "feeds" / "partner.rss").read_text(encoding="utf-8")
    latin = text.replace('encoding="utf-8"', 'encoding="ISO-8859-1"').encode(
        "latin-1", "xmlcharrefreplace"
    )
    server.serve("/latin.rss", body(latin, "application/rss+xml"))
    assert "Zürich" in by_url(fetch(source(server, "/latin.rss")), MEDIATORS).title


def test_utf8_feed_mislabelled_as_latin1_keeps_its_umlauts(server: FixtureServer) -> None:
    """UTF-8 bytes served with charset=iso-8859-1 do not become 'ZÃ¼rich'."""
    data = (DATA / "feeds" / "partner.rss").read_bytes()
    server.serve("/mislabelled.rss", body(data, "application/rss+xml; charset=iso-8859-1"))
    assert "Zürich" in by_url(fetch(source(server, "/mislabelled.rss")), MEDIATORS).title


UNDATED_RSS = (
    '<rss version="2.0"><channel><title>T</title><link>https://t.example/</link>'
    "<item><title>Undated</title><link>https://t.example/1</link></item>"
    "<item><title>Dated</title><link>https://t.example/2</link>"
    "<pubDate>Thu, 08 Jan 2026 10:00:00 GMT</pubDate></item></channel></rss>"
)


def test_undated_entry_is_reported_and_others_publish(server: FixtureServer) -> None:
    """An entry without any date is skipped with an error naming it."""
    server.serve("/undated.rss", body(UNDATED_RSS, RSS))
    result = fetch(source(server, "/undated.rss"))
    assert [a.url for a in result.articles] == ["https://t.example/2"]
    [error] = result.errors
    assert "has no usable date" in str(error)


def test_feed_with_a_bad_entry_is_still_fetched_conditionally(server: FixtureServer) -> None:
    """A permanently undated entry does not stop the validators being saved: next is a 304."""
    stamp = "Thu, 08 Jan 2026 10:00:00 GMT"
    server.serve("/undated.rss", conditional(UNDATED_RSS.encode(), RSS, '"u1"', stamp))
    src = source(server, "/undated.rss")
    first = fetch(src)
    assert len(first.errors) == 1
    assert first.state["pages"][server.url("/undated.rss")]["etag"] == '"u1"'
    second = fetch(src, first.state)
    assert server.requests[-1].headers.get("if-none-match") == '"u1"'
    assert second.not_modified
    assert second.articles == []
    assert second.state == first.state


def test_malformed_feed_without_articles_saves_no_validators(server: FixtureServer) -> None:
    """A broken 200 with no usable entry keeps no ETag: the next fetch reads it again."""
    broken = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><titl'
    stamp = "Thu, 08 Jan 2026 10:00:00 GMT"
    server.serve("/broken.rss", conditional(broken, RSS, '"b1"', stamp))
    src = source(server, "/broken.rss")
    first = fetch(src)
    assert first.articles == []
    assert "not well-formed XML" in str(first.errors[0])
    assert server.url("/broken.rss") not in first.state.get("pages", {})
    second = fetch(src, first.state)
    assert server.requests[-1].headers.get("if-none-match") is None
    assert not second.not_modified


MARKUP_TITLE = "The <video> element and <b>bold</b> claims: a<b"


def one_item_rss(title: str, description: str) -> str:
    """An RSS document with one dated item (``title`` and ``description`` already escaped)."""
    return (
        '<rss version="2.0"><channel><title>T</title><link>https://t.example/</link>'
        f"<item><title>{title}</title><link>https://t.example/1</link>"
        f"<description>{description}</description>"
        "<pubDate>Thu, 08 Jan 2026 10:00:00 GMT</pubDate></item></channel></rss>"
    )


def one_entry_atom(title: str, title_type: str) -> str:
    return (
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><id>urn:t</id>'
        "<updated>2026-01-08T10:00:00Z</updated><entry><id>https://t.example/1</id>"
        f'<title type="{title_type}">{html.escape(title)}</title>'
        '<link href="https://t.example/1"/><updated>2026-01-08T10:00:00Z</updated></entry></feed>'
    )


def test_atom_text_title_keeps_what_looks_like_markup(server: FixtureServer) -> None:
    """An Atom title of type text stays text: every word, '<' included."""
    server.serve("/text.atom", body(one_entry_atom(MARKUP_TITLE, "text"), ATOM))
    [article] = fetch(source(server, "/text.atom")).articles
    assert article.title == MARKUP_TITLE


def test_json_feed_title_keeps_what_looks_like_markup(server: FixtureServer) -> None:
    """A JSON Feed title is text: every word, '<' included."""
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "T",
        "items": [
            {
                "id": "1",
                "url": "https://t.example/1",
                "title": MARKUP_TITLE,
                "content_text": "Body.",
                "date_published": "2026-01-08T10:00:00Z",
            }
        ],
    }
    server.serve("/text.json", body(json.dumps(document), "application/feed+json"))
    [article] = fetch(source(server, "/text.json")).articles
    assert article.title == MARKUP_TITLE


def test_atom_html_title_becomes_text_keeping_its_words(server: FixtureServer) -> None:
    """An Atom title of type html loses its tags but none of its words."""
    server.serve("/html.atom", body(one_entry_atom("<b>Bold</b> &amp; <i>brave</i>", "html"), ATOM))
    [article] = fetch(source(server, "/html.atom")).articles
    assert article.title == "Bold & brave"


def test_script_and_style_contents_go_with_their_tags(server: FixtureServer) -> None:
    """The allow-list sees the raw markup: nothing of a script or style survives."""
    markup = (
        '<p>Story<script>var s = "<i>"; track("JS source visible");</script>'
        "<style>.x { color: red }</style> ends.</p>"
    )
    server.serve("/script.rss", body(one_item_rss("News", html.escape(markup)), RSS))
    [article] = fetch(source(server, "/script.rss")).articles
    assert article.body_html == "<p>Story ends.</p>"
    assert article.summary == "Story ends."


def test_html_title_of_only_an_image_keeps_its_alt_text(server: FixtureServer) -> None:
    """An RSS title that is only an image becomes its alt text, not a dropped entry."""
    title = html.escape('<img src="https://t.example/w.png" alt="Women mediators meet">')
    server.serve("/image.rss", body(one_item_rss(title, "Text."), RSS))
    [article] = fetch(source(server, "/image.rss")).articles
    assert article.title == "Women mediators meet"


def test_feed_past_its_deadline_stops_and_saves_no_validators(server: FixtureServer) -> None:
    """A source whose deadline passed stops between entries and reads it all next time."""
    stamp = "Thu, 08 Jan 2026 10:00:00 GMT"
    server.serve("/slow.rss", conditional(UNDATED_RSS.encode(), RSS, '"s1"', stamp))
    configured = source(server, "/slow.rss")
    late = FeedSource(
        configured.source_config,
        make_config(configured.source_config.model_dump(mode="json")),
        session=FetchSession("swfeed/test", clock=FakeClock()),
        budget=WorkBudget(0),
    )
    result = fetch(late)
    assert result.articles == []
    assert "deadline passed; 2 entries are left for the next fetch" in str(result.errors[0])
    assert result.state == {}


FRENCH_RSS = (
    '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>T</title>'
    "<link>https://t.example/</link><language>fr-FR</language>"
    "<item><title>Paix</title><link>https://t.example/1</link>"
    "<pubDate>Thu, 08 Jan 2026 10:00:00 GMT</pubDate></item>"
    "<item><title>Salam</title><link>https://t.example/2</link><dc:language>ar</dc:language>"
    "<pubDate>Thu, 08 Jan 2026 11:00:00 GMT</pubDate></item></channel></rss>"
)
MIXED_ATOM = (
    '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en"><title>T</title><id>urn:x:t</id>'
    "<updated>2026-01-08T10:00:00Z</updated>"
    '<entry xml:lang="es"><title>Paz</title><id>urn:x:1</id><link href="https://t.example/1"/>'
    "<updated>2026-01-08T10:00:00Z</updated></entry>"
    '<entry><title>Peace</title><id>urn:x:2</id><link href="https://t.example/2"/>'
    "<updated>2026-01-08T11:00:00Z</updated></entry></feed>"
)
MIXED_JSON = (
    '{"version": "https://jsonfeed.org/version/1.1", "title": "T", "language": "en",'
    ' "items": [{"id": "1", "url": "https://t.example/1", "title": "Pace", "language": "it",'
    ' "date_published": "2026-01-08T10:00:00Z"},'
    ' {"id": "2", "url": "https://t.example/2", "title": "Peace",'
    ' "date_published": "2026-01-08T11:00:00Z"}]}'
)


def languages(result: FetchResult) -> dict[str, str | None]:
    return {article.title: article.language for article in result.articles}


def test_rss_channel_and_item_languages_are_kept(server: FixtureServer) -> None:
    """An item takes its dc:language, else the channel's language."""
    server.serve("/fr.rss", body(FRENCH_RSS, RSS))
    assert languages(fetch(source(server, "/fr.rss"))) == {"Paix": "fr-FR", "Salam": "ar"}


def test_atom_entry_language_other_than_the_sites_is_kept(server: FixtureServer) -> None:
    """xml:lang on an entry counts; an entry in the site's language carries none."""
    server.serve("/mixed.atom", body(MIXED_ATOM, ATOM))
    assert languages(fetch(source(server, "/mixed.atom"))) == {"Paz": "es", "Peace": None}


def test_json_feed_item_language_is_kept(server: FixtureServer) -> None:
    """JSON Feed 1.1 items may say their language."""
    server.serve("/mixed.json", body(MIXED_JSON, "application/feed+json"))
    assert languages(fetch(source(server, "/mixed.json"))) == {"Pace": "it", "Peace": None}


def test_feed_in_the_sites_language_stores_no_language(server: FixtureServer) -> None:
    """The partner feed says <language>en</language>, as the site does: nothing to mark, and
    the articles hash as they did before languages were kept (no edit after an upgrade)."""
    result = fetch(source(server, "/feed.rss"))
    assert {article.language for article in result.articles} == {None}
    assert all("language" not in article.to_json_dict() for article in result.articles)
