"""A story in another language than its feed's is marked so in every format."""

from __future__ import annotations

import json

import feedparser
from lxml import etree

from swfeed.feeds import atom, jsonfeed, rss
from tests.feedcheck import (
    ATOM,
    DC,
    XML,
    check_atom,
    check_json_feed,
    check_rss,
    sample_article,
    sample_meta,
)

ARTICLES = [sample_article(1), sample_article(2, language="ar"), sample_article(3, language="EN")]


def test_atom_entry_carries_xml_lang() -> None:
    """Only the Arabic entry gets xml:lang; feed readers see its text as Arabic."""
    data = atom.render(sample_meta("atom.xml"), ARTICLES)
    entries = etree.fromstring(data).findall(f"{{{ATOM}}}entry")
    assert [entry.get(f"{{{XML}}}lang") for entry in entries] == [None, "ar", None]
    parsed = feedparser.parse(data)
    assert [e.title_detail.language for e in parsed.entries] == ["en", "ar", "en"]
    assert check_atom(data, sample_meta("atom.xml").self_url) == []


def test_rss_item_carries_dc_language() -> None:
    """Only the Arabic item says dc:language (RSS has no per-item language of its own)."""
    data = rss.render(sample_meta("rss.xml"), ARTICLES)
    items = etree.fromstring(data).findall("channel/item")
    assert [item.findtext(f"{{{DC}}}language") for item in items] == [None, "ar", None]
    assert [e.get("language") for e in feedparser.parse(data).entries] == [None, "ar", None]
    assert check_rss(data, sample_meta("rss.xml").self_url) == []


def test_json_feed_item_carries_language() -> None:
    """JSON Feed 1.1 items say their language when it is not the feed's."""
    data = jsonfeed.render(sample_meta("feed.json"), ARTICLES)
    items = json.loads(data)["items"]
    assert [item.get("language") for item in items] == [None, "ar", None]
    assert check_json_feed(data, sample_meta("feed.json").self_url) == []
