"""JSON Feed 1.0/1.1 read with typed models (pydantic), each item validated on its own.

One malformed item becomes a warning; the rest of the feed still publishes. Unknown keys
(extensions start with ``_``) are ignored.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from swfeed.sources.dates import DateNotUnderstood, parse_date
from swfeed.sources.upstream_entry import FeedEntry, NotAFeed, ParsedFeed

VERSION_PREFIX = "https://jsonfeed.org/version/"


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class JsonAuthor(_Lenient):
    name: str | None = None
    url: str | None = None


class JsonItem(_Lenient):
    id: str
    url: str | None = None
    external_url: str | None = None
    title: str | None = None
    content_html: str | None = None
    content_text: str | None = None
    summary: str | None = None
    image: str | None = None
    banner_image: str | None = None
    date_published: str | None = None
    date_modified: str | None = None
    authors: list[JsonAuthor] = Field(default_factory=list)
    author: JsonAuthor | None = None
    tags: list[str] = Field(default_factory=list)
    language: str | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        """The spec says string; numbers are common and unambiguous."""
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class JsonFeed(_Lenient):
    version: str
    title: str
    home_page_url: str | None = None
    feed_url: str | None = None
    language: str | None = None
    items: list[Any]

    @field_validator("version")
    @classmethod
    def _is_json_feed(cls, value: str) -> str:
        if not value.startswith(VERSION_PREFIX):
            raise ValueError(f"version must start with {VERSION_PREFIX}")
        return value


def _date(text: str | None, zone: ZoneInfo, now: datetime) -> tuple[datetime | None, str | None]:
    if not text:
        return None, None
    try:
        return parse_date(text, zone, now), None
    except DateNotUnderstood as exc:
        return None, exc.message


def _entry(item: JsonItem, zone: ZoneInfo, now: datetime) -> FeedEntry:
    published, problem = _date(item.date_published, zone, now)
    updated, problem2 = _date(item.date_modified, zone, now)
    body = item.content_html
    if body is None and item.content_text:
        body = "".join(f"<p>{html.escape(p)}</p>" for p in item.content_text.split("\n\n"))
    authors = [*item.authors, *([item.author] if item.author else [])]
    return FeedEntry(
        id=item.id,
        link=item.url,
        title=item.title or "",
        summary=item.summary or item.content_text or "",
        title_is_html=False,
        summary_is_html=False,
        body_html=body or "",
        published=published,
        updated=updated,
        date_problem=problem or problem2,
        authors=tuple(a.name for a in authors if a.name),
        categories=tuple(item.tags),
        image=item.image or item.banner_image,
        external_url=item.external_url,
        language=item.language,
    )


def parse_json_feed(text: str, zone: ZoneInfo, now: datetime) -> ParsedFeed:
    """A JSON Feed document; raise ``NotAFeed`` if it is not one."""
    try:
        feed = JsonFeed.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "document"
        raise NotAFeed(f"not a JSON Feed: {where}: {first['msg']}") from None
    parsed = ParsedFeed(title=feed.title, link=feed.home_page_url, language=feed.language)
    for number, raw in enumerate(feed.items, start=1):
        try:
            item = JsonItem.model_validate(raw)
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(part) for part in problem["loc"]) or "item"
            parsed.warnings.append(f"item {number}: {where}: {problem['msg']}")
            continue
        parsed.entries.append(_entry(item, zone, now))
    return parsed
