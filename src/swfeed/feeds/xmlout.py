"""Building and serializing the XML feeds (RSS and Atom) with lxml.

lxml escapes text and attributes itself; values reach it already cleaned of characters XML
forbids (``values.clean_text``), so no input can break the document or be misread as markup.
"""

from __future__ import annotations

import html

from lxml import etree

from swfeed.feeds.entry import Picture

NS_ATOM = "http://www.w3.org/2005/Atom"
NS_CONTENT = "http://purl.org/rss/1.0/modules/content/"
NS_DC = "http://purl.org/dc/elements/1.1/"
NS_MEDIA = "http://search.yahoo.com/mrss/"
NS_XML = "http://www.w3.org/XML/1998/namespace"

_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def add(
    parent: etree._Element, tag: str, text: str | None = None, **attributes: str
) -> etree._Element:
    """Append a child element with optional text and attributes (in the given order)."""
    child = etree.SubElement(parent, tag)
    for name, value in attributes.items():
        child.set(name, value)
    if text is not None:
        child.text = text
    return child


def qname(namespace: str, name: str) -> str:
    """``{namespace}name`` for lxml."""
    return f"{{{namespace}}}{name}"


def serialize(root: etree._Element, stylesheet: str | None = None) -> bytes:
    """The document as UTF-8 bytes with an XML declaration, indented; with ``stylesheet``
    (a URL) an ``<?xml-stylesheet?>`` tells browsers the CSS to show it with."""
    body: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=False, pretty_print=True)
    return _DECLARATION + stylesheet_instruction(stylesheet) + body


def stylesheet_instruction(url: str | None) -> bytes:
    """``<?xml-stylesheet type="text/css" href="..."?>`` and a newline (empty without url)."""
    if not url:
        return b""
    href = html.escape(url, quote=True)
    return f'<?xml-stylesheet type="text/css" href="{href}"?>\n'.encode()


def media_content(parent: etree._Element, picture: Picture) -> etree._Element:
    """Media RSS ``media:content`` for the image, with alt text and credit."""
    media = add(parent, qname(NS_MEDIA, "content"), url=picture.url, medium="image")
    if picture.mime_type:
        media.set("type", picture.mime_type)
    if picture.length:
        media.set("fileSize", str(picture.length))
    if picture.width and picture.height:
        media.set("width", str(picture.width))
        media.set("height", str(picture.height))
    if picture.alt:
        add(media, qname(NS_MEDIA, "description"), picture.alt, type="plain")
    if picture.credit:
        add(media, qname(NS_MEDIA, "credit"), picture.credit)
    return media
