"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1) from typed models.

feedgen has no JSON Feed, so the document is a tree of frozen dataclasses, turned into JSON
with keys in declaration order (absent values left out), two-space indents and real UTF-8:
the same input always gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

from swfeed.feeds import FeedMeta
from swfeed.feeds.entry import Entry, prepare_all
from swfeed.feeds.values import clean_text, rfc3339, to_uri
from swfeed.models import Article

VERSION = "https://jsonfeed.org/version/1.1"
MEDIA_TYPE = "application/feed+json"


@dataclass(frozen=True, slots=True)
class JsonAuthor:
    name: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class JsonItem:
    id: str
    url: str
    title: str
    content_html: str | None
    content_text: str | None
    summary: str | None
    image: str | None
    date_published: str
    date_modified: str
    authors: tuple[JsonAuthor, ...]
    tags: tuple[str, ...]
    external_url: str | None
    language: str | None


@dataclass(frozen=True, slots=True)
class JsonHub:
    type: str
    url: str


@dataclass(frozen=True, slots=True)
class JsonFeed:
    version: str
    title: str
    home_page_url: str
    feed_url: str
    description: str | None
    icon: str | None
    favicon: str | None
    authors: tuple[JsonAuthor, ...]
    language: str
    hubs: tuple[JsonHub, ...]
    items: tuple[JsonItem, ...]


def _item(entry: Entry, feed_language: str) -> JsonItem:
    return JsonItem(
        id=entry.id,
        url=entry.url,
        title=entry.title,
        content_html=entry.content_html or None,
        content_text=None if entry.content_html else entry.summary,
        summary=entry.summary or None,
        image=entry.image.url if entry.image else None,
        date_published=rfc3339(entry.published),
        date_modified=rfc3339(entry.updated),
        authors=tuple(JsonAuthor(name) for name in entry.authors),
        tags=entry.categories,
        external_url=entry.external_url,
        language=entry.language_besides(feed_language),
    )


def document(meta: FeedMeta, entries: Sequence[Entry]) -> JsonFeed:
    """The JSON Feed model of prepared, ordered entries."""
    icon = to_uri(meta.icon) if meta.icon else None
    return JsonFeed(
        version=VERSION,
        title=clean_text(meta.title),
        home_page_url=to_uri(meta.link),
        feed_url=to_uri(meta.self_url),
        description=clean_text(meta.description) or None,
        icon=icon,
        favicon=icon,
        authors=(JsonAuthor(clean_text(meta.author_name), to_uri(meta.link)),),
        language=meta.language,
        hubs=tuple(JsonHub("WebSub", to_uri(hub)) for hub in meta.hubs),
        items=tuple(_item(entry, meta.language) for entry in entries),
    )


def _plain(value: Any) -> Any:
    """Dataclasses -> dicts in field order, dropping None and empty tuples (not items)."""
    if is_dataclass(value) and not isinstance(value, type):
        result: dict[str, Any] = {}
        for field in fields(value):
            item = getattr(value, field.name)
            if item is None or (item == () and field.name != "items"):
                continue
            result[field.name] = _plain(item)
        return result
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value


def render(meta: FeedMeta, articles: Sequence[Article]) -> bytes:
    """The JSON Feed 1.1 document for ``articles``, as UTF-8 bytes."""
    return render_entries(meta, prepare_all(meta, articles))


def render_entries(meta: FeedMeta, entries: Sequence[Entry]) -> bytes:
    """The JSON Feed 1.1 document for entries already prepared and ordered."""
    text = json.dumps(_plain(document(meta, entries)), ensure_ascii=False, indent=2)
    return (text + "\n").encode("utf-8")
