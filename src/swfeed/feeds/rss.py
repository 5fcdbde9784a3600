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
- In plain-text elements ``&`` and ``<`` are written as hexadecimal character references
  (``&#x26;``, ``&#x3C;``), as the profile recommends, so titles like "Q&A" draw no warning.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from lxml import etree

from swfeed.feeds import FeedMeta
from swfeed.feeds.entry import Entry, Picture, feed_updated, prepare_all
from swfeed.feeds.values import clean_text, rfc822, rfc3339, to_uri
from swfeed.feeds.xmlout import (
    NS_ATOM,
    NS_CONTENT,
    NS_DC,
    NS_MEDIA,
    add,
    media_content,
    qname,
    serialize,
)
from swfeed.models import Article

MEDIA_TYPE = "application/rss+xml"
DOCS = "https://www.rssboard.org/rss-specification"
NSMAP = {"atom": NS_ATOM, "content": NS_CONTENT, "dc": NS_DC, "media": NS_MEDIA}
RSS_IMAGE_EXTENSIONS = ("gif", "jpeg", "jpg", "png")
_ENTITY = re.compile(rb"&(amp|lt);")
_HEX = {b"amp": b"&#x26;", b"lt": b"&#x3C;"}


def render(meta: FeedMeta, articles: Sequence[Article]) -> bytes:
    """The RSS 2.0 document for ``articles`` (see the module docstring)."""
    return render_entries(meta, prepare_all(meta, articles))


def render_entries(meta: FeedMeta, entries: Sequence[Entry]) -> bytes:
    """The RSS 2.0 document for entries already prepared and ordered."""
    root = etree.Element("rss", nsmap=NSMAP)
    root.set("version", "2.0")
    channel = add(root, "channel")
    _channel(channel, meta, entries)
    for entry in entries:
        _item(add(channel, "item"), entry, meta)
    data = serialize(root, meta.stylesheet)
    return _ENTITY.sub(lambda match: _HEX[match.group(1)], data)


def _channel(channel: etree._Element, meta: FeedMeta, entries: Sequence[Entry]) -> None:
    title = clean_text(meta.title)
    link = to_uri(meta.link)
    add(channel, "title", title)
    add(channel, "link", link)
    add(channel, "description", clean_text(meta.description) or title)
    add(channel, "language", meta.language)
    if meta.author_email:
        add(channel, "managingEditor", f"{meta.author_email} ({clean_text(meta.author_name)})")
    else:
        add(channel, qname(NS_DC, "creator"), clean_text(meta.author_name))
    add(channel, "lastBuildDate", rfc822(feed_updated(meta, entries)))
    if meta.category:
        add(channel, "category", clean_text(meta.category))
    add(channel, "generator", f"{meta.generator} {meta.generator_version}".strip())
    add(channel, "docs", DOCS)
    if meta.logo and _rss_image_ok(meta.logo):
        image = add(channel, "image")
        add(image, "url", to_uri(meta.logo))
        add(image, "title", title)
        add(image, "link", link)
    self_link = add(channel, qname(NS_ATOM, "link"), href=to_uri(meta.self_url), rel="self")
    self_link.set("type", MEDIA_TYPE)
    for hub in meta.hubs:
        add(channel, qname(NS_ATOM, "link"), href=to_uri(hub), rel="hub")


def _rss_image_ok(url: str) -> bool:
    """RSS channel images should be GIF, JPEG or PNG (validators warn otherwise)."""
    return urlsplit(url).path.lower().endswith(RSS_IMAGE_EXTENSIONS)


def _item(item: etree._Element, entry: Entry, meta: FeedMeta) -> None:
    """One item; without authors of its own, the site's author is its dc:creator (readers
    show an item's author, and RSS has no channel-level author to fall back to)."""
    if entry.title:
        add(item, "title", entry.title)
    add(item, "link", entry.url)
    if entry.summary:
        add(item, "description", html.escape(entry.summary, quote=False))
    if entry.content_html:
        add(item, qname(NS_CONTENT, "encoded"), entry.content_html)
    for author in entry.authors or (meta.author_name,):
        add(item, qname(NS_DC, "creator"), author)
    language = entry.language_besides(meta.language)
    if language:
        add(item, qname(NS_DC, "language"), language)
    for category in entry.categories:
        add(item, "category", category)
    guid = add(item, "guid", entry.url if entry.is_permalink else entry.id)
    if not entry.is_permalink:
        guid.set("isPermaLink", "false")
    add(item, "pubDate", rfc822(entry.published))
    add(item, qname(NS_ATOM, "updated"), rfc3339(entry.updated))
    if entry.image is not None:
        _picture(item, entry.image)
    if entry.external_url:
        related = add(item, qname(NS_ATOM, "link"), href=entry.external_url, rel="related")
        related.set("type", "text/html")
        if entry.external_source:
            related.set("title", entry.external_source)


def _picture(item: etree._Element, picture: Picture) -> None:
    if picture.mime_type:
        length = str(picture.length or 0)
        add(item, "enclosure", url=picture.url, length=length, type=picture.mime_type)
    media_content(item, picture)
