"""RSS 0.9x/1.0/2.0 and Atom 1.0 read with feedparser, from text our own client fetched.

feedparser is handed a byte stream, never a string: given a string it may fetch a URL or
open a local file of that name. Documents that declare external entities, parameter
entities or entities built from other entities (the "billion laughs") are refused before
any parser sees them; feeds have no use for them. The text was decoded by ``charset`` and is
passed on as UTF-8 with a matching declaration.
"""

from __future__ import annotations

import html
import io
import re
import time
from datetime import UTC, datetime
from typing import Any
from xml.sax import SAXParseException
from zoneinfo import ZoneInfo

import feedparser

from swfeed.sources.dates import DateNotUnderstood, parse_date
from swfeed.sources.upstream_entry import FeedEntry, NotAFeed, ParsedFeed

_XML_DECL = re.compile(r"\A\s*<\?xml[^>]*\?>")
_UNSAFE_ENTITY = re.compile(
    r"""<!ENTITY\s+(?:%|[^\s>]+\s+(?:SYSTEM|PUBLIC)\b|[^\s>]+\s+(?:"[^"]*[&%]|'[^']*[&%]))""",
    re.IGNORECASE,
)
_HTML_TYPES = ("text/html", "application/xhtml+xml")


def refuse_unsafe_dtd(text: str) -> None:
    """Raise ``NotAFeed`` for entity declarations that could expand or reach out."""
    match = _UNSAFE_ENTITY.search(text)
    if match is not None:
        line = text.count("\n", 0, match.start()) + 1
        raise NotAFeed(
            f"line {line}: the document declares an external or nested entity "
            "(an XML entity bomb or external entity); refused",
            hint="A real feed needs no entity declarations: ask the publisher to remove them.",
        )


def parse_xml_feed(text: str, page_url: str, zone: ZoneInfo, now: datetime) -> ParsedFeed:
    """An RSS or Atom document; raise ``NotAFeed`` if it is none (or unsafe)."""
    refuse_unsafe_dtd(text)
    data = _XML_DECL.sub("", text.lstrip("\ufeff"), count=1)
    result: Any = feedparser.parse(
        io.BytesIO(('<?xml version="1.0" encoding="utf-8"?>' + data).encode("utf-8")),
        response_headers={
            "content-type": "application/xml; charset=utf-8",
            "content-location": page_url,
        },
        sanitize_html=False,  # the one allow-list (``sanitize``) sees the raw markup
        resolve_relative_uris=True,
    )
    if not result.get("version"):
        looks_html = re.search(r"<html[\s>]", data[:2048], re.IGNORECASE) is not None
        what = "an HTML page" if looks_html else "no RSS or Atom document"
        raise NotAFeed(f"the URL serves {what}, not a feed")
    feed = result.get("feed", {})
    parsed = ParsedFeed(
        title=str(feed.get("title", "")), link=feed.get("link"), language=feed.get("language")
    )
    problem = result.get("bozo_exception")
    if isinstance(problem, SAXParseException):
        parsed.well_formed = False
        parsed.warnings.append(
            f"not well-formed XML (line {problem.getLineNumber()}: {problem.getMessage()}); "
            "entries were read leniently"
        )
    is_rss = str(result.get("version", "")).startswith("rss")
    parsed.entries = [_entry(entry, zone, now, is_rss) for entry in result.get("entries", [])]
    return parsed


def _date(entry: Any, key: str, zone: ZoneInfo, now: datetime) -> tuple[datetime | None, str]:
    text = dict.get(entry, key)  # not entry.get: feedparser maps updated -> published
    if not text:
        return None, ""
    try:
        return parse_date(str(text), zone, now), ""
    except DateNotUnderstood as exc:
        parsed = dict.get(entry, f"{key}_parsed")
        if isinstance(parsed, time.struct_time):
            return datetime(*parsed[:6], tzinfo=UTC), ""
        return None, exc.message


def _body(entry: Any) -> str:
    for content in entry.get("content", []):
        if content.get("type") in _HTML_TYPES:
            return str(content.get("value", ""))
    for content in entry.get("content", []):
        value = str(content.get("value", ""))
        paragraphs = (p.strip() for p in value.split("\n\n"))
        return "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs if p)
    detail = entry.get("summary_detail", {})
    if detail.get("type") in _HTML_TYPES:
        return str(entry.get("summary", ""))
    return ""


def _image(entry: Any) -> str | None:
    for key in ("media_thumbnail", "media_content"):
        for media in entry.get(key, []):
            medium = media.get("medium") or media.get("type", "image/")
            if media.get("url") and str(medium).startswith("image"):
                return str(media["url"])
    links = [*entry.get("enclosures", []), *entry.get("links", [])]
    for link in links:
        is_image = str(link.get("type", "")).startswith("image/")
        if is_image and link.get("href") and link.get("rel", "enclosure") == "enclosure":
            return str(link["href"])
    return None


def _is_html(entry: Any, key: str, is_rss: bool) -> bool:
    """RSS titles and descriptions are HTML as feeds write them; Atom says (type)."""
    return is_rss or entry.get(f"{key}_detail", {}).get("type") in _HTML_TYPES


def _entry(entry: Any, zone: ZoneInfo, now: datetime, is_rss: bool) -> FeedEntry:
    published, problem = _date(entry, "published", zone, now)
    updated, problem2 = _date(entry, "updated", zone, now)
    names = [a.get("name") for a in entry.get("authors", []) if a.get("name")]
    tags = [t.get("label") or t.get("term") for t in entry.get("tags", [])]
    return FeedEntry(
        id=entry.get("id") or None,
        link=entry.get("link") or None,
        title=str(entry.get("title", "")),
        summary=str(entry.get("summary", "")),
        title_is_html=_is_html(entry, "title", is_rss),
        summary_is_html=_is_html(entry, "summary", is_rss),
        body_html=_body(entry),
        published=published,
        updated=updated,
        date_problem=problem or problem2 or None,
        authors=tuple(str(name) for name in names),
        categories=tuple(str(tag) for tag in tags if tag),
        image=_image(entry),
        language=entry.get("language") or entry.get("title_detail", {}).get("language"),
    )
