"""RSS 2.0: valid by the W3C validator's rules, read back exactly by feedparser, stable bytes."""

from __future__ import annotations

import html
from calendar import timegm
from datetime import UTC, datetime

import feedparser
import time_machine
from lxml import etree

from swfeed.feeds import rss
from swfeed.models import Image
from tests.feedcheck import (
    HOSTILE_TEXT,
    SITE,
    check_rss,
    same_html,
    sample_article,
    sample_meta,
    with_lead_figure,
)

META = sample_meta("rss.xml")
ARTICLES = [sample_article(n) for n in (1, 2, 3)]
DC_CREATOR = "{http://purl.org/dc/elements/1.1/}creator"


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def test_feed_passes_the_validator_rules() -> None:
    """A full feed (images, categories, authors) has no validator error or warning."""
    data = rss.render(META, ARTICLES)
    assert check_rss(data, META.self_url, now=datetime(2026, 2, 1, tzinfo=UTC)) == []


def test_empty_feed_passes_the_validator_rules() -> None:
    """A feed with no articles is still a valid RSS 2.0 document."""
    data = rss.render(META, [])
    assert check_rss(data, META.self_url) == []
    assert etree.fromstring(data).find("channel/item") is None


def test_feedparser_reads_entries_back_exactly() -> None:
    """Titles, links, guids, dates, summaries, content, authors, categories round-trip."""
    parsed = feedparser.parse(rss.render(META, ARTICLES))
    assert parsed.bozo == 0
    assert parsed.version == "rss20"
    for entry, article in zip(parsed.entries, reversed(ARTICLES), strict=True):
        assert entry.title == article.title
        assert entry.link == article.url
        assert entry.id == article.id
        assert timegm(entry.published_parsed) == _epoch(article.published)
        assert timegm(entry.updated_parsed) == _epoch(article.modified)
        assert html.unescape(entry.summary) == article.summary
        assert same_html(entry.content[0].value, with_lead_figure(article))
        assert [a.name for a in entry.authors] == list(article.authors)
        assert [t.term for t in entry.tags] == list(article.categories)


def test_feedparser_reads_the_image_back() -> None:
    """The image is one enclosure (url, length, type) plus media:content with alt and credit."""
    parsed = feedparser.parse(rss.render(META, [sample_article(4)]))
    entry = parsed.entries[0]
    assert entry.enclosures == [
        {"href": f"{SITE}media/story-4.jpg", "length": "12345", "type": "image/jpeg"}
    ]
    assert entry.media_content[0]["url"] == f"{SITE}media/story-4.jpg"
    assert entry.media_credit[0]["content"] == "UN Photo"
    root = etree.fromstring(rss.render(META, [sample_article(4)]))
    description = root.find(".//{http://search.yahoo.com/mrss/}description")
    assert description is not None
    assert description.text == "Alt text 4"


def test_unknown_image_length_is_zero() -> None:
    """An enclosure whose size is unknown says length="0", as the RSS profile asks."""
    image = Image(f"{SITE}media/a.png", "alt", "", None, None)
    root = etree.fromstring(rss.render(META, [sample_article(1, image=image)]))
    enclosure = root.find("channel/item/enclosure")
    assert enclosure is not None
    assert (enclosure.get("length"), enclosure.get("type")) == ("0", "image/png")


def test_hostile_text_round_trips_and_validates() -> None:
    """'<', '&', ']]>', quotes and non-ASCII in titles, summaries, names survive exactly."""
    article = sample_article(
        1, title=HOSTILE_TEXT, summary=HOSTILE_TEXT, authors=(HOSTILE_TEXT,), categories=("A&B",)
    )
    data = rss.render(META, [article])
    assert check_rss(data, META.self_url) == []
    entry = feedparser.parse(data).entries[0]
    assert entry.title == HOSTILE_TEXT
    assert html.unescape(entry.summary) == HOSTILE_TEXT
    assert entry.author == HOSTILE_TEXT
    assert entry.tags[0].term == "A&B"


def test_plain_text_uses_hexadecimal_references() -> None:
    """'&' and '<' in plain text are written &#x26; and &#x3C; (RSS profile)."""
    data = rss.render(META, [sample_article(1, title="Q&A <now>")])
    assert b"<title>Q&#x26;A &#x3C;now&gt;</title>" in data


def test_characters_illegal_in_xml_do_not_break_the_feed() -> None:
    """NUL, C1 controls and lone surrogates are dropped; the document stays well-formed."""
    article = sample_article(1, title="Bad\x00 \x1b\x85chars\ud800 here", summary="a\x0cb")
    data = rss.render(META, [article])
    assert check_rss(data, META.self_url) == []
    assert feedparser.parse(data).entries[0].title == "Bad chars here"


def test_authors_are_dc_creator_not_rss_author() -> None:
    """Author names (no e-mail) go in dc:creator; RSS <author> would need an address."""
    root = etree.fromstring(rss.render(META, [sample_article(1, authors=("A", "B"))]))
    item = root.find("channel/item")
    assert item is not None
    assert item.find("author") is None
    assert [e.text for e in item.findall(DC_CREATOR)] == ["A", "B"]


def test_item_without_authors_names_the_site_author() -> None:
    """An item with no authors of its own carries the site's author as dc:creator."""
    root = etree.fromstring(rss.render(META, [sample_article(1, authors=())]))
    item = root.find("channel/item")
    assert item is not None
    assert [e.text for e in item.findall(DC_CREATOR)] == [META.author_name]


def test_managing_editor_is_email_with_name() -> None:
    """The channel's managingEditor is 'email (Name)'; without an e-mail, dc:creator."""
    root = etree.fromstring(rss.render(META, []))
    assert root.findtext("channel/managingEditor") == "desk@example.org (Test Desk)"
    no_email = etree.fromstring(rss.render(sample_meta(author_email=None), []))
    assert no_email.find("channel/managingEditor") is None
    assert no_email.findtext(f"channel/{DC_CREATOR}") == "Test Desk"


def test_guid_is_a_permalink_only_for_url_ids() -> None:
    """guid is the URL (isPermaLink default) for URL ids, else isPermaLink="false"."""
    root = etree.fromstring(rss.render(META, [sample_article(2), sample_article(1, id="x-1")]))
    first, second = root.findall("channel/item/guid")
    assert (first.text, first.get("isPermaLink")) == (f"{SITE}news/story-2", None)
    assert (second.text, second.get("isPermaLink")) == (
        "tag:news.example.org,2026-01-01:x-1",
        "false",
    )


def test_external_story_is_a_related_link() -> None:
    """A story published elsewhere is an atom:link rel=related and a line in the content."""
    article = sample_article(1, external_url="https://un.org/s?a=1&b=2", external_source="UN")
    entry = feedparser.parse(rss.render(META, [article])).entries[0]
    related = [link for link in entry.links if link.rel == "related"]
    assert related == [
        {"href": "https://un.org/s?a=1&b=2", "rel": "related", "type": "text/html", "title": "UN"}
    ]
    assert "Read the full story at UN" in entry.content[0].value


def test_without_full_content_there_is_no_content_encoded() -> None:
    """full_content off: description only, and still valid."""
    meta = sample_meta(full_content=False)
    data = rss.render(meta, ARTICLES)
    assert b"content:encoded>" not in data
    assert check_rss(data, meta.self_url) == []


def test_svg_logo_is_not_an_rss_image() -> None:
    """RSS channel images must be GIF, JPEG or PNG, so an SVG logo is left out."""
    root = etree.fromstring(rss.render(sample_meta(logo=f"{SITE}logo.svg"), []))
    assert root.find("channel/image") is None


def test_same_input_gives_identical_bytes() -> None:
    """Rendering twice, with the articles in another order, gives the same bytes."""
    assert rss.render(META, ARTICLES) == rss.render(META, list(reversed(ARTICLES)))


def test_build_time_never_appears_in_the_feed() -> None:
    """lastBuildDate is the newest entry's edit time; the clock does not matter."""
    with time_machine.travel(datetime(2030, 5, 5, tzinfo=UTC), tick=False):
        later = rss.render(META, ARTICLES)
    assert later == rss.render(META, ARTICLES)
    root = etree.fromstring(later)
    assert root.findtext("channel/lastBuildDate") == "Sat, 03 Jan 2026 09:00:00 +0000"


def test_channel_metadata_precedes_items() -> None:
    """All channel elements come before the first item (validator: MisplacedItem)."""
    channel = etree.fromstring(rss.render(META, ARTICLES)).find("channel")
    assert channel is not None
    tags = [child.tag for child in channel]
    first_item = tags.index("item")
    assert set(tags[first_item:]) == {"item"}
