"""Articles made ready for every feed format: ids, summaries, content, images, order."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from swfeed.feeds.entry import (
    EXCERPT_CHARS,
    feed_updated,
    full_story_html,
    image_type,
    prepare,
    prepare_all,
)
from swfeed.models import Image
from tests.feedcheck import SITE, sample_article, sample_meta


def test_url_id_is_a_permalink() -> None:
    """An article whose id is its URL gets that URL as id and counts as a permalink."""
    entry = prepare(sample_article(1))
    assert entry.id == f"{SITE}news/story-1"
    assert entry.is_permalink


def test_plain_id_becomes_a_stable_tag_uri() -> None:
    """A non-URI id becomes tag:<site host>,<published date>:<id>, the same every time."""
    article = sample_article(3, id="front matter id/ü")
    entry = prepare(article)
    assert entry.id == "tag:news.example.org,2026-01-03:front%20matter%20id/%C3%BC"
    assert prepare(article).id == entry.id
    assert not entry.is_permalink


def test_uri_ids_are_kept_in_canonical_form() -> None:
    """tag:, urn: and http(s) ids stay themselves (normalised), never re-minted."""
    assert prepare(sample_article(1, id="tag:example.org,2026:a")).id == "tag:example.org,2026:a"
    urn = "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66"
    assert prepare(sample_article(1, id=urn)).id == urn
    assert prepare(sample_article(1, id="HTTPS://Example.org/a")).id == "https://example.org/a"


def test_unknown_scheme_id_is_re_minted_as_tag() -> None:
    """An id like 'sw:123' (unregistered scheme) becomes a tag: URI, which validators accept."""
    assert prepare(sample_article(2, id="sw:123")).id == "tag:news.example.org,2026-01-02:sw:123"


def test_missing_summary_falls_back_to_a_body_excerpt() -> None:
    """Without a summary, the body's text is cut at a word boundary with an ellipsis."""
    body = "<p>" + "word " * 200 + "</p>"
    entry = prepare(sample_article(1, summary="", body_html=body))
    assert entry.summary.endswith("word…")
    assert len(entry.summary) <= EXCERPT_CHARS + 1


def test_external_story_adds_a_full_story_line() -> None:
    """A story published elsewhere gets a link line at the end of the content."""
    article = sample_article(1, external_url="https://un.org/story", external_source="UN News")
    entry = prepare(article)
    assert entry.external_url == "https://un.org/story"
    assert entry.content_html.endswith(full_story_html("https://un.org/story", "UN News"))
    assert "Read the full story at UN News" in entry.content_html


def test_external_link_equal_to_the_article_url_is_ignored() -> None:
    """A 'full story' link pointing at the article itself adds nothing."""
    article = sample_article(1, external_url=f"{SITE}news/story-1")
    assert prepare(article).external_url is None


def test_non_http_external_link_is_dropped() -> None:
    """A javascript: or mailto: 'full story' link is not published."""
    article = sample_article(1, external_url="javascript:alert(1)")
    entry = prepare(article)
    assert entry.external_url is None
    assert "javascript" not in entry.content_html


def test_without_full_content_there_is_no_html() -> None:
    """full_content off leaves the content empty; the summary stays."""
    entry = prepare(sample_article(1), full_content=False)
    assert entry.content_html == ""
    assert entry.summary.startswith("Summary 1")


def test_image_type_comes_from_the_extension() -> None:
    """The image MIME type is taken from the file extension when the source gave none."""
    assert image_type("https://x.org/a/photo.JPG?size=2") == "image/jpeg"
    assert image_type("https://x.org/a/photo.webp") == "image/webp"
    assert image_type("https://x.org/a/photo") is None


def test_image_with_unknown_type_has_no_mime_type() -> None:
    """An image URL without a known extension gets no guessed type."""
    article = sample_article(1, image=Image("https://x.org/img?id=3", "alt", "", None, None))
    picture = prepare(article).image
    assert picture is not None
    assert picture.mime_type is None
    assert picture.length is None


def test_non_http_image_is_dropped() -> None:
    """An image that is not an http(s) URL is left out of the feeds."""
    article = sample_article(1, image=Image("data:image/png;base64,AAAA", "alt"))
    assert prepare(article).image is None


def test_entries_are_newest_first_with_ties_by_id() -> None:
    """Order: published time descending, then id ascending, whatever the input order."""
    same = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    articles = [
        sample_article(1),
        sample_article(5, id="b", published=same),
        sample_article(6),
        sample_article(5, id="a", published=same),
    ]
    ids = [e.id for e in prepare_all(sample_meta(), articles)]
    assert ids == [
        f"{SITE}news/story-6",
        "tag:news.example.org,2026-01-05:a",
        "tag:news.example.org,2026-01-05:b",
        f"{SITE}news/story-1",
    ]


def test_feed_updated_is_the_newest_modification() -> None:
    """The feed's updated time is the latest entry edit, even of an older article."""
    edited = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
    articles = [sample_article(9), sample_article(2, updated=edited)]
    entries = prepare_all(sample_meta(), articles)
    assert feed_updated(sample_meta(), entries) == edited


def test_empty_feed_updated_is_the_fixed_fallback() -> None:
    """With no entries the updated time is the meta's fixed fallback, never the clock."""
    meta = sample_meta()
    assert feed_updated(meta, []) == meta.empty_updated


def test_duplicate_categories_are_dropped() -> None:
    """Repeated or blank categories appear once, in their first order."""
    article = replace(sample_article(1), categories=("B", "A", "B", " ", "A"))
    assert prepare(article).categories == ("B", "A")


def test_lead_image_leads_the_content() -> None:
    """Readers that show only the content see the lead image, its alt text and credit."""
    entry = prepare(sample_article(3))
    assert entry.content_html.startswith(
        '<figure><img alt="Alt text 3" src="https://news.example.org/media/story-3.jpg">'
        "<figcaption>UN Photo</figcaption></figure>\n"
    )


def test_lead_image_already_in_body_is_not_repeated() -> None:
    """A body that already shows the lead image does not get it twice."""
    article = sample_article(3)
    body = f'<p><img alt="x" src="{article.image.url if article.image else ""}"></p>'
    entry = prepare(replace(article, body_html=body))
    assert entry.content_html.count("<img") == 1
