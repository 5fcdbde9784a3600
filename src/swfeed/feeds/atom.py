"""Atom 1.0 (RFC 4287), written directly rather than with feedgen.

feedgen 1.0.0 drops every entry link attribute but ``href`` in Atom (an enclosure would
become a second alternate link; upstream issue #135); writing the document ourselves keeps
every attribute and every byte stable.

Per entry: ``id`` (a canonical URI), ``title``, the alternate ``link``, ``published`` and
``updated`` (RFC 3339, UTC), ``author``s, ``category``s, ``summary`` (text), ``content``
(type html), the image as ``link rel="enclosure"`` (type, length, alt text as title) plus
``media:content``, and the story elsewhere as ``link rel="related"``. An entry in another
language than the feed's carries ``xml:lang``.
"""

from __future__ import annotations

from collections.abc import Sequence

from swfeed.feeds import FeedMeta
from swfeed.feeds.entry import Entry, Picture, feed_updated, prepare_all
from swfeed.feeds.values import clean_text, rfc3339, to_uri
from swfeed.feeds.xmlout import NS_ATOM, NS_MEDIA, XmlWriter, media_content
from swfeed.models import Article

MEDIA_TYPE = "application/atom+xml"
NAMESPACES = {"xmlns": NS_ATOM, "xmlns:media": NS_MEDIA}


def render(meta: FeedMeta, articles: Sequence[Article]) -> bytes:
    """The Atom 1.0 document for ``articles`` (see the module docstring)."""
    return render_entries(meta, prepare_all(meta, articles))


def render_entries(meta: FeedMeta, entries: Sequence[Entry]) -> bytes:
    """The Atom 1.0 document for entries already prepared and ordered."""
    out = XmlWriter(stylesheet=meta.stylesheet)
    out.start("feed", **NAMESPACES, **{"xml:lang": meta.language})
    _head(out, meta, entries)
    for entry in entries:
        _entry(out, entry, meta.language)
    out.end("feed")
    return out.document()


def _head(out: XmlWriter, meta: FeedMeta, entries: Sequence[Entry]) -> None:
    out.leaf("id", to_uri(meta.feed_id))
    out.leaf("title", clean_text(meta.title))
    if meta.description:
        out.leaf("subtitle", clean_text(meta.description))
    out.leaf("updated", rfc3339(feed_updated(meta, entries)))
    out.leaf("link", rel="self", type=MEDIA_TYPE, href=to_uri(meta.self_url))
    out.leaf("link", rel="alternate", type="text/html", href=to_uri(meta.link))
    for hub in meta.hubs:
        out.leaf("link", rel="hub", href=to_uri(hub))
    out.start("author")
    out.leaf("name", clean_text(meta.author_name))
    if meta.author_email:
        out.leaf("email", meta.author_email)
    out.leaf("uri", to_uri(meta.link))
    out.end("author")
    if meta.category:
        out.leaf("category", term=clean_text(meta.category))
    out.leaf("generator", meta.generator, version=meta.generator_version)
    if meta.icon:
        out.leaf("icon", to_uri(meta.icon))
    if meta.logo:
        out.leaf("logo", to_uri(meta.logo))


def _entry(out: XmlWriter, entry: Entry, feed_language: str) -> None:
    language = entry.language_besides(feed_language)
    out.start("entry", **({"xml:lang": language} if language else {}))
    out.leaf("id", entry.id)
    out.leaf("title", entry.title)
    out.leaf("link", rel="alternate", type="text/html", href=entry.url)
    out.leaf("published", rfc3339(entry.published))
    out.leaf("updated", rfc3339(entry.updated))
    for name in entry.authors:
        out.start("author")
        out.leaf("name", name)
        out.end("author")
    for category in entry.categories:
        out.leaf("category", term=category)
    if entry.summary:
        out.leaf("summary", entry.summary, type="text")
    if entry.content_html:
        out.leaf("content", entry.content_html, type="html")
    if entry.image is not None:
        _picture(out, entry.image)
    if entry.external_url:
        related = {"rel": "related", "type": "text/html", "href": entry.external_url}
        if entry.external_source:
            related["title"] = entry.external_source
        out.leaf("link", **related)
    out.end("entry")


def _picture(out: XmlWriter, picture: Picture) -> None:
    if picture.mime_type:
        link = {"rel": "enclosure", "type": picture.mime_type, "href": picture.url}
        if picture.length:
            link["length"] = str(picture.length)
        if picture.alt:
            link["title"] = picture.alt
        out.leaf("link", **link)
    media_content(out, picture)
