"""Atom 1.0 (RFC 4287), built with lxml rather than feedgen.

feedgen 1.0.0 drops every link attribute but ``href`` in Atom (an enclosure would become a
second alternate link), defaults ``updated`` to the build time and writes CDATA content
that Atom forbids; building the tree directly keeps every attribute and every byte stable.

Per entry: ``id`` (a canonical URI), ``title``, the alternate ``link``, ``published`` and
``updated`` (RFC 3339, UTC), ``author``s, ``category``s, ``summary`` (text), ``content``
(type html), the image as ``link rel="enclosure"`` (type, length, alt text as title) plus
``media:content``, and the story elsewhere as ``link rel="related"``. An entry in another
language than the feed's carries ``xml:lang``.
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from swfeed.feeds import FeedMeta
from swfeed.feeds.entry import Entry, Picture, feed_updated, prepare_all
from swfeed.feeds.values import clean_text, rfc3339, to_uri
from swfeed.feeds.xmlout import NS_ATOM, NS_MEDIA, NS_XML, add, media_content, qname, serialize
from swfeed.models import Article

MEDIA_TYPE = "application/atom+xml"
NSMAP = {None: NS_ATOM, "media": NS_MEDIA}


def _atom(tag: str) -> str:
    return qname(NS_ATOM, tag)


def render(meta: FeedMeta, articles: Sequence[Article]) -> bytes:
    """The Atom 1.0 document for ``articles`` (see the module docstring)."""
    return render_entries(meta, prepare_all(meta, articles))


def render_entries(meta: FeedMeta, entries: Sequence[Entry]) -> bytes:
    """The Atom 1.0 document for entries already prepared and ordered."""
    root = etree.Element(qname(NS_ATOM, "feed"), nsmap=NSMAP)  # type: ignore[arg-type]
    root.set(qname(NS_XML, "lang"), meta.language)
    _head(root, meta, entries)
    for entry in entries:
        _entry(add(root, _atom("entry")), entry, meta.language)
    return serialize(root, meta.stylesheet)


def _head(root: etree._Element, meta: FeedMeta, entries: Sequence[Entry]) -> None:
    add(root, _atom("id"), to_uri(meta.feed_id))
    add(root, _atom("title"), clean_text(meta.title))
    if meta.description:
        add(root, _atom("subtitle"), clean_text(meta.description))
    add(root, _atom("updated"), rfc3339(feed_updated(meta, entries)))
    add(root, _atom("link"), rel="self", type=MEDIA_TYPE, href=to_uri(meta.self_url))
    add(root, _atom("link"), rel="alternate", type="text/html", href=to_uri(meta.link))
    for hub in meta.hubs:
        add(root, _atom("link"), rel="hub", href=to_uri(hub))
    author = add(root, _atom("author"))
    add(author, _atom("name"), clean_text(meta.author_name))
    if meta.author_email:
        add(author, _atom("email"), meta.author_email)
    add(author, _atom("uri"), to_uri(meta.link))
    if meta.category:
        add(root, _atom("category"), term=clean_text(meta.category))
    add(root, _atom("generator"), meta.generator, version=meta.generator_version)
    if meta.icon:
        add(root, _atom("icon"), to_uri(meta.icon))
    if meta.logo:
        add(root, _atom("logo"), to_uri(meta.logo))


def _entry(element: etree._Element, entry: Entry, feed_language: str) -> None:
    language = entry.language_besides(feed_language)
    if language:
        element.set(qname(NS_XML, "lang"), language)
    add(element, _atom("id"), entry.id)
    add(element, _atom("title"), entry.title)
    add(element, _atom("link"), rel="alternate", type="text/html", href=entry.url)
    add(element, _atom("published"), rfc3339(entry.published))
    add(element, _atom("updated"), rfc3339(entry.updated))
    for name in entry.authors:
        add(add(element, _atom("author")), _atom("name"), name)
    for category in entry.categories:
        add(element, _atom("category"), term=category)
    if entry.summary:
        add(element, _atom("summary"), entry.summary, type="text")
    if entry.content_html:
        add(element, _atom("content"), entry.content_html, type="html")
    if entry.image is not None:
        _picture(element, entry.image)
    if entry.external_url:
        related = add(
            element, _atom("link"), rel="related", type="text/html", href=entry.external_url
        )
        if entry.external_source:
            related.set("title", entry.external_source)


def _picture(element: etree._Element, picture: Picture) -> None:
    if picture.mime_type:
        link = add(
            element, _atom("link"), rel="enclosure", type=picture.mime_type, href=picture.url
        )
        if picture.length:
            link.set("length", str(picture.length))
        if picture.alt:
            link.set("title", picture.alt)
    media_content(element, picture)
