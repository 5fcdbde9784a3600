"""OPML 2.0 (http://opml.org/spec2.opml): the list of our feeds, for readers to import at once.

One ``outline`` per feed set (the site, then each category), each in one format (Atom), with
``type="rss"`` (the spec's word for any feed), ``text`` and ``title``, ``xmlUrl``,
``htmlUrl``, ``description`` and ``language``. The document carries no date, so the same
list gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from swfeed.feeds.values import clean_text, to_uri
from swfeed.feeds.xmlout import XmlWriter

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
    out = XmlWriter()
    out.start("opml", version="2.0")
    out.start("head")
    out.leaf("title", clean_text(title))
    out.leaf("ownerName", clean_text(owner))
    if owner_email:
        out.leaf("ownerEmail", owner_email)
    out.end("head")
    if not outlines:
        out.leaf("body")
        out.end("opml")
        return out.document()
    out.start("body")
    for outline in outlines:
        out.leaf(
            "outline",
            type="rss",
            text=clean_text(outline.title),
            title=clean_text(outline.title),
            xmlUrl=to_uri(outline.xml_url),
            htmlUrl=to_uri(outline.html_url),
            description=clean_text(outline.description),
            language=outline.language,
        )
    out.end("body")
    out.end("opml")
    return out.document()
