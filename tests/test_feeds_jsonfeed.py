"""JSON Feed 1.1: valid against the schema written from the spec, stable key order and bytes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from swfeed.feeds import jsonfeed
from tests.feedcheck import (
    HOSTILE_TEXT,
    SITE,
    check_json_feed,
    sample_article,
    sample_meta,
    with_lead_figure,
)

META = sample_meta("feed.json")
ARTICLES = [sample_article(n) for n in (1, 2, 3)]


def test_feed_passes_the_schema_and_checks() -> None:
    """A full feed validates against the JSON Feed 1.1 schema, self URL included."""
    data = jsonfeed.render(META, ARTICLES)
    assert check_json_feed(data, META.self_url, now=datetime(2026, 2, 1, tzinfo=UTC)) == []


def test_empty_feed_is_valid() -> None:
    """A feed with no articles is valid and has an empty items list."""
    data = jsonfeed.render(META, [])
    assert check_json_feed(data, META.self_url) == []
    assert json.loads(data)["items"] == []


def test_items_read_back_exactly() -> None:
    """Every item field carries the article's value (dates in RFC 3339 UTC)."""
    article = sample_article(
        2, updated=datetime(2026, 1, 4, 10, 0, tzinfo=UTC), external_url="https://un.org/s"
    )
    item = json.loads(jsonfeed.render(META, [article]))["items"][0]
    assert item["id"] == item["url"] == article.url
    assert item["title"] == article.title
    assert item["summary"] == article.summary
    assert item["content_html"].startswith(with_lead_figure(article))
    assert item["image"] == f"{SITE}media/story-2.jpg"
    assert (item["date_published"], item["date_modified"]) == (
        "2026-01-02T09:00:00Z",
        "2026-01-04T10:00:00Z",
    )
    assert item["authors"] == [{"name": "Amina Diallo"}]
    assert item["tags"] == ["Peacekeeping", "Women in Security"]
    assert item["external_url"] == "https://un.org/s"


def test_keys_come_in_a_fixed_order() -> None:
    """Top-level and item keys follow the model's declaration order."""
    document = json.loads(jsonfeed.render(META, ARTICLES))
    assert list(document) == [
        "version",
        "title",
        "home_page_url",
        "feed_url",
        "description",
        "icon",
        "favicon",
        "authors",
        "language",
        "items",
    ]
    assert list(document["items"][0]) == [
        "id",
        "url",
        "title",
        "content_html",
        "summary",
        "image",
        "date_published",
        "date_modified",
        "authors",
        "tags",
    ]


def test_hostile_text_round_trips() -> None:
    """Markup-like text, quotes and non-ASCII come back unchanged, written as real UTF-8."""
    data = jsonfeed.render(META, [sample_article(1, title=HOSTILE_TEXT, summary="\x00x\ud800")])
    item = json.loads(data)["items"][0]
    assert item["title"] == HOSTILE_TEXT
    assert item["summary"] == "x"
    assert "Zürich".encode() in data


def test_without_full_content_the_summary_is_the_text() -> None:
    """full_content off: no content_html, content_text carries the summary (still valid)."""
    meta = sample_meta("feed.json", full_content=False)
    data = jsonfeed.render(meta, ARTICLES)
    item = json.loads(data)["items"][0]
    assert "content_html" not in item
    assert item["content_text"] == item["summary"]
    assert check_json_feed(data, meta.self_url) == []


def test_same_input_gives_identical_bytes() -> None:
    """Rendering twice, with the articles in another order, gives the same bytes."""
    assert jsonfeed.render(META, ARTICLES) == jsonfeed.render(META, list(reversed(ARTICLES)))
