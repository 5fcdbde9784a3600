"""What the RSS/Atom and JSON Feed parsers both produce, before it becomes an ``Article``.

Strings here are still untrusted: ``title`` and ``summary`` may hold markup, ``body_html`` is
HTML to sanitize, URLs may be relative or hostile. ``feed.py`` cleans everything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from swfeed.errors import SwfeedError


class NotAFeed(SwfeedError):
    """The body is no RSS, Atom or JSON Feed document (or an unsafe one)."""

    default_hint = (
        "Check that the source's url is the feed itself (look for the RSS/Atom link on the "
        "partner's site); for a web page use kind: html."
    )


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One upstream entry, typed but not yet cleaned."""

    id: str | None
    link: str | None
    title: str = ""
    summary: str = ""
    #: Whether title and summary are HTML (RSS, Atom type="html") or text (JSON Feed, Atom
    #: type="text"): HTML loses its tags, text keeps every character.
    title_is_html: bool = True
    summary_is_html: bool = True
    body_html: str = ""
    published: datetime | None = None
    updated: datetime | None = None
    date_problem: str | None = None
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    image: str | None = None
    image_alt: str = ""
    external_url: str | None = None
    language: str | None = None


@dataclass
class ParsedFeed:
    """A whole upstream feed: its title, home page and language, entries, parse warnings."""

    title: str
    link: str | None
    entries: list[FeedEntry] = field(default_factory=list)
    language: str | None = None
    warnings: list[str] = field(default_factory=list)
    #: False when the document itself is broken (not well-formed XML) and was read leniently.
    well_formed: bool = True
