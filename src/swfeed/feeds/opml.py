"""OPML 2.0 (http://opml.org/spec2.opml): the list of our feeds, for readers to import at once.

One ``outline`` per feed set (the site, then each category), each in one format (Atom), with
``type="rss"`` (the spec's word for any feed), ``text`` and ``title``, ``xmlUrl``,
``htmlUrl``, ``description`` and ``language``. The document carries no date, so the same
list gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from swfeed.feeds.values import clean_text, to_uri
from swfeed.feeds.xmlout import add, serialize

MEDIA_TYPE = "text/x-opml"


@dataclass(frozen=True, slots=True)
class Outline:
    """One subscription: the feed's title, address, home page and what it holds."""

    title: str
    xml_url: str
    html_url: str
    description: str
    language: str


def render(
    title: str, outlines: Sequence[Outline], *, owner: str, owner_email: str | None = None
) -> bytes:
    """The OPML 2.0 document listing ``outlines``."""
    root = etree.Element("opml", version="2.0")
    head = add(root, "head")
    add(head, "title", clean_text(title))
    add(head, "ownerName", clean_text(owner))
    if owner_email:
        add(head, "ownerEmail", owner_email)
    body = add(root, "body")
    for outline in outlines:
        element = add(body, "outline")
        for name, value in (
            ("type", "rss"),
            ("text", clean_text(outline.title)),
            ("title", clean_text(outline.title)),
            ("xmlUrl", to_uri(outline.xml_url)),
            ("htmlUrl", to_uri(outline.html_url)),
            ("description", clean_text(outline.description)),
            ("language", outline.language),
        ):
            element.set(name, value)
    return serialize(root)
