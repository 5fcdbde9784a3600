"""RSS 2.0, written so the W3C Feed Validation Service reports no error and no warning.

What the validator (and the RSS Advisory Board profile it follows) asks for, and how:

- ``atom:link rel="self"`` with the feed's own URL (and ``rel="hub"`` for each WebSub hub);
  all channel metadata before the items.
- ``guid`` on every item: the article URL (a permalink) when that is the id, else a stable
  URI with ``isPermaLink="false"``.
- ``author`` must be an e-mail address, so article authors (names) go in ``dc:creator``;
  the channel's ``managingEditor`` is ``email (Name)`` when the config has an address.
- ``description`` (the summary, HTML-escaped: RSS descriptions are HTML) comes before
  ``content:encoded`` (the full sanitized body).
- Dates are RFC 822 with a numeric zone; ``atom:updated`` carries the edit time.
- The image is an ``enclosure`` (url, length, type; length 0 when unknown) plus
  ``media:content`` with the alt text (``media:description``) and ``media:credit``.
- The full story elsewhere is an ``atom:link rel="related"`` (and a line in the content).
- An item in another language than the channel's says so in ``dc:language``.
- ``&`` and ``<`` are written as hexadecimal character references (``&#x26;``,
  ``&#x3C;``), as the profile recommends, so titles like "Q&A" draw no warning.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from urllib.parse import urlsplit

from swfeed.feeds import FeedMeta
from swfeed.feeds.entry import Entry, Picture, feed_updated, prepare_all
from swfeed.feeds.values import clean_text, rfc822, rfc3339, to_uri
from swfeed.feeds.xmlout import NS_ATOM, NS_CONTENT, NS_DC, NS_MEDIA, XmlWriter, media_content
from swfeed.models import Article

MEDIA_TYPE = "application/rss+xml"
DOCS = "https://www.rssboard.org/rss-specification"
NAMESPACES = {
    "xmlns:atom": NS_ATOM,
    "xmlns:content": NS_CONTENT,
    "xmlns:dc": NS_DC,
    "xmlns:media": NS_MEDIA,
}
RSS_IMAGE_EXTENSIONS = ("gif", "jpeg", "jpg", "png")


def render(meta: FeedMeta, articles: Sequence[Article]) -> bytes:
    """The RSS 2.0 document for ``articles`` (see the module docstring)."""
    return render_entries(meta, prepare_all(meta, articles))


def render_entries(meta: FeedMeta, entries: Sequence[Entry]) -> bytes:
    """The RSS 2.0 document for entries already prepared and ordered."""
    out = XmlWriter(hex_refs=True, stylesheet=meta.stylesheet)
    out.start("rss", **NAMESPACES, version="2.0")
    out.start("channel")
    _channel(out, meta, entries)
    for entry in entries:
        _item(out, entry, meta)
    out.end("channel")
    out.end("rss")
    return out.document()


def _channel(out: XmlWriter, meta: FeedMeta, entries: Sequence[Entry]) -> None:
    title = clean_text(meta.title)
    link = to_uri(meta.link)
    out.leaf("title", title)
    out.leaf("link", link)
    out.leaf("description", clean_text(meta.description) or title)
    out.leaf("language", meta.language)
    if meta.author_email:
        out.leaf("managingEditor", f"{meta.author_email} ({clean_text(meta.author_name)})")
    else:
        out.leaf("dc:creator", clean_text(meta.author_name))
    out.leaf("lastBuildDate", rfc822(feed_updated(meta, entries)))
    if meta.category:
        out.leaf("category", clean_text(meta.category))
    out.leaf("generator", f"{meta.generator} {meta.generator_version}".strip())
    out.leaf("docs", DOCS)
    if meta.logo and _rss_image_ok(meta.logo):
        out.start("image")
        out.leaf("url", to_uri(meta.logo))
        out.leaf("title", title)
        out.leaf("link", link)
        out.end("image")
    out.leaf("atom:link", href=to_uri(meta.self_url), rel="self", type=MEDIA_TYPE)
    for hub in meta.hubs:
        out.leaf("atom:link", href=to_uri(hub), rel="hub")


def _rss_image_ok(url: str) -> bool:
    """RSS channel images should be GIF, JPEG or PNG (validators warn otherwise)."""
    return urlsplit(url).path.lower().endswith(RSS_IMAGE_EXTENSIONS)


def _item(out: XmlWriter, entry: Entry, meta: FeedMeta) -> None:
    """One item; without authors of its own, the site's author is its dc:creator (readers
    show an item's author, and RSS has no channel-level author to fall back to)."""
    out.start("item")
    if entry.title:
        out.leaf("title", entry.title)
    out.leaf("link", entry.url)
    if entry.summary:
        out.leaf("description", html.escape(entry.summary, quote=False))
    if entry.content_html:
        out.leaf("content:encoded", entry.content_html)
    for author in entry.authors or (meta.author_name,):
        out.leaf("dc:creator", author)
    language = entry.language_besides(meta.language)
    if language:
        out.leaf("dc:language", language)
    for category in entry.categories:
        out.leaf("category", category)
    if entry.is_permalink:
        out.leaf("guid", entry.url)
    else:
        out.leaf("guid", entry.id, isPermaLink="false")
    out.leaf("pubDate", rfc822(entry.published))
    out.leaf("atom:updated", rfc3339(entry.updated))
    if entry.image is not None:
        _picture(out, entry.image)
    if entry.external_url:
        related = {"href": entry.external_url, "rel": "related", "type": "text/html"}
        if entry.external_source:
            related["title"] = entry.external_source
        out.leaf("atom:link", **related)
    out.end("item")


def _picture(out: XmlWriter, picture: Picture) -> None:
    if picture.mime_type:
        length = str(picture.length or 0)
        out.leaf("enclosure", url=picture.url, length=length, type=picture.mime_type)
    media_content(out, picture)
