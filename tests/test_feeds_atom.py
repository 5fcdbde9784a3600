"""Atom 1.0: valid against RFC 4287's RELAX NG schema and the validator's rules, read back
exactly by feedparser, stable bytes."""

from __future__ import annotations

from calendar import timegm
from datetime import UTC, datetime

import feedparser
import time_machine
from lxml import etree

from swfeed.feeds import atom
from tests.feedcheck import (
    HOSTILE_TEXT,
    SITE,
    check_atom,
    same_html,
    sample_article,
    sample_meta,
    with_lead_figure,
)

META = sample_meta("atom.xml")
ARTICLES = [sample_article(n) for n in (1, 2, 3)]
A = "{http://www.w3.org/2005/Atom}"


def test_feed_passes_schema_and_validator_rules() -> None:
    """A full feed is valid RFC 4287 and draws no validator error or warning."""
    data = atom.render(META, ARTICLES)
    assert check_atom(data, META.self_url, now=datetime(2026, 2, 1, tzinfo=UTC)) == []


def test_empty_feed_is_valid_with_a_fixed_updated_time() -> None:
    """With no entries the feed is still valid and its updated time is the fixed fallback."""
    data = atom.render(META, [])
    assert check_atom(data, META.self_url) == []
    assert etree.fromstring(data).findtext(f"{A}updated") == "2000-01-01T00:00:00Z"


def test_feedparser_reads_entries_back_exactly() -> None:
    """Titles, links, ids, dates, summaries, content, authors, categories round-trip."""
    parsed = feedparser.parse(atom.render(META, ARTICLES))
    assert parsed.bozo == 0
    assert parsed.version == "atom10"
    for entry, article in zip(parsed.entries, reversed(ARTICLES), strict=True):
        assert entry.title == article.title
        assert entry.link == article.url
        assert entry.id == article.id
        assert timegm(entry.published_parsed) == int(article.published.timestamp())
        assert timegm(entry.updated_parsed) == int(article.modified.timestamp())
        assert entry.summary == article.summary
        assert same_html(entry.content[0].value, with_lead_figure(article))
        assert entry.content[0].type == "text/html"
        assert [a.name for a in entry.authors] == list(article.authors)
        assert [t.term for t in entry.tags] == list(article.categories)


def test_enclosure_link_keeps_type_length_and_alt() -> None:
    """The image link keeps rel, type, length and the alt text (what feedgen drops)."""
    entry = feedparser.parse(atom.render(META, [sample_article(5)])).entries[0]
    assert [link for link in entry.links if link.rel == "enclosure"] == [
        {
            "rel": "enclosure",
            "type": "image/jpeg",
            "href": f"{SITE}media/story-5.jpg",
            "length": "12345",
            "title": "Alt text 5",
        }
    ]
    alternates = [link for link in entry.links if link.rel == "alternate"]
    assert [link.href for link in alternates] == [f"{SITE}news/story-5"]


def test_external_story_is_a_related_link() -> None:
    """A story published elsewhere is a rel=related link with the source as title."""
    article = sample_article(1, external_url="https://un.org/story", external_source="UN News")
    entry = feedparser.parse(atom.render(META, [article])).entries[0]
    related = [link for link in entry.links if link.rel == "related"]
    assert [(link.href, link.title) for link in related] == [("https://un.org/story", "UN News")]


def test_hostile_text_round_trips_and_validates() -> None:
    """'<', '&', ']]>', quotes and non-ASCII survive as text (never CDATA)."""
    article = sample_article(
        1, title=HOSTILE_TEXT, summary=HOSTILE_TEXT, authors=(HOSTILE_TEXT,), categories=("A&B",)
    )
    data = atom.render(META, [article])
    assert b"CDATA" not in data
    assert check_atom(data, META.self_url) == []
    entry = feedparser.parse(data).entries[0]
    assert (entry.title, entry.summary, entry.author) == (HOSTILE_TEXT,) * 3
    assert entry.tags[0].term == "A&B"


def test_feed_metadata_reads_back() -> None:
    """Self and alternate links, language, logo, icon, author and generator are present."""
    feed = feedparser.parse(atom.render(META, ARTICLES)).feed
    links = {link.rel: link.href for link in feed.links}
    assert links == {"self": META.self_url, "alternate": SITE}
    assert (feed.language, feed.logo, feed.icon) == ("en", META.logo, META.icon)
    assert feed.author_detail.email == "desk@example.org"
    assert feed.generator == "swfeed"


def test_feed_updated_is_the_newest_edit() -> None:
    """The feed's updated time is the latest entry edit, not the newest publication."""
    edited = datetime(2026, 3, 1, 7, 30, tzinfo=UTC)
    data = atom.render(META, [sample_article(9), sample_article(2, updated=edited)])
    assert etree.fromstring(data).findtext(f"{A}updated") == "2026-03-01T07:30:00Z"


def test_iri_ids_are_written_as_canonical_uris() -> None:
    """An id with non-ASCII characters is percent-encoded so validators accept it."""
    article = sample_article(1, id="https://News.example.org/zürich", url=f"{SITE}zürich")
    data = atom.render(META, [article])
    assert etree.fromstring(data).findtext(f"{A}entry/{A}id") == f"{SITE}z%C3%BCrich"
    assert check_atom(data, META.self_url) == []


def test_same_input_gives_identical_bytes_whatever_the_clock() -> None:
    """Rendering at another time or with the input reordered gives the same bytes."""
    first = atom.render(META, ARTICLES)
    with time_machine.travel(datetime(2031, 1, 1, tzinfo=UTC), tick=False):
        assert atom.render(META, list(reversed(ARTICLES))) == first
