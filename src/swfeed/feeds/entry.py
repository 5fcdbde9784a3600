"""One article made ready for any feed format: cleaned text, canonical URIs, UTC dates.

The three serializers read ``Entry`` values only, so every format says the same thing:
the same id, the same summary (the article's, else an excerpt of its body), the same HTML
(the sanitized body plus a "Read the full story" line when the story lives elsewhere).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from swfeed.feeds import FeedMeta
from swfeed.feeds.times import Times
from swfeed.feeds.values import clean_text, is_http_url, to_uri
from swfeed.languages import other_language
from swfeed.models import Article, Image
from swfeed.plaintext import one_line
from swfeed.sanitize import plain_text

EXCERPT_CHARS = 280
UNTITLED = "Untitled"
_IMAGE_TYPES = {
    "avif": "image/avif",
    "gif": "image/gif",
    "jpeg": "image/jpeg",
    "jpg": "image/jpeg",
    "png": "image/png",
    "svg": "image/svg+xml",
    "webp": "image/webp",
}
_TAG_ID = re.compile(r"tag:[a-z0-9.-]+(@[a-z0-9.-]+)?,\d{4}(-\d\d(-\d\d)?)?:[\x21-\x7e]*\Z")
_URN_ID = re.compile(r"urn:[a-z0-9][a-z0-9-]{1,31}:[\x21-\x7e]+\Z", re.IGNORECASE)
_TAG_SAFE = ";/?:@&=+$-_.!~*'(),"


@dataclass(frozen=True, slots=True)
class Picture:
    """The lead image as feeds describe it; ``mime_type``/``length`` None when unknown."""

    url: str
    mime_type: str | None
    length: int | None
    alt: str
    credit: str
    width: int | None
    height: int | None


@dataclass(frozen=True, slots=True)
class Entry:
    """An article as every serializer writes it. ``content_html`` is "" when there is none."""

    id: str
    is_permalink: bool
    url: str
    title: str
    summary: str
    content_html: str
    published: datetime
    updated: datetime
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    image: Picture | None
    external_url: str | None
    external_source: str | None
    language: str | None = None

    def language_besides(self, feed_language: str) -> str | None:
        """The entry's language tag when it is not the feed's, else None."""
        return other_language(self.language, feed_language)


def image_type(url: str) -> str | None:
    """The image MIME type implied by the URL's file extension, if any."""
    path = urlsplit(url).path
    extension = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    return _IMAGE_TYPES.get(extension)


def entry_id(article: Article, url: str) -> str:
    """A stable URI for the article: its own id when that is a URI, else a tag: URI."""
    raw = clean_text(article.id).strip()
    if raw == article.url:
        return url
    candidate = to_uri(raw)
    scheme = candidate.split(":", 1)[0].lower()
    if scheme in ("http", "https") and is_http_url(candidate):
        return candidate
    if _TAG_ID.match(candidate) or _URN_ID.match(candidate):
        return candidate
    host = (urlsplit(url).hostname or "localhost").lower()
    day = article.published.astimezone(UTC).strftime("%Y-%m-%d")
    return f"tag:{host},{day}:{quote(raw, safe=_TAG_SAFE)}"


def _picture(image: Image | None) -> Picture | None:
    if image is None:
        return None
    url = to_uri(image.url)
    if not is_http_url(url):
        return None
    return Picture(
        url=url,
        mime_type=image.mime_type or image_type(url),
        length=image.length if image.length and image.length > 0 else None,
        alt=clean_text(one_line(image.alt)),
        credit=clean_text(one_line(image.credit)),
        width=image.width if image.width and image.width > 0 else None,
        height=image.height if image.height and image.height > 0 else None,
    )


def full_story_html(external_url: str, source: str | None) -> str:
    """The line that points readers to a story published elsewhere."""
    label = f"Read the full story at {source}" if source else "Read the full story"
    href = html.escape(external_url, quote=True)
    return f'<p><a href="{href}">{html.escape(label, quote=False)}</a></p>'


def _excerpt(body_html: str) -> str:
    text = plain_text(body_html)
    if len(text) <= EXCERPT_CHARS:
        return text
    cut = text[:EXCERPT_CHARS].rsplit(" ", 1)[0].rstrip(" ,.;:")
    return f"{cut}…"


def _external(article: Article, url: str) -> str | None:
    if not article.external_url:
        return None
    external = to_uri(article.external_url)
    return external if is_http_url(external) and external != url else None


def lead_figure_html(picture: Picture) -> str:
    """The lead image as a figure, so readers that show only the content show it too."""
    src = html.escape(picture.url, quote=True)
    alt = html.escape(picture.alt, quote=True)
    caption = f"<figcaption>{html.escape(picture.credit)}</figcaption>" if picture.credit else ""
    return f'<figure><img alt="{alt}" src="{src}">{caption}</figure>'


def _content(
    article: Article,
    picture: Picture | None,
    external: str | None,
    source: str | None,
    full: bool,
) -> str:
    if not full:
        return ""
    body = clean_text(article.body_html).strip()
    if picture is not None and html.escape(picture.url, quote=True) not in body:
        body = f"{lead_figure_html(picture)}\n{body}"
    if external:
        body = f"{body}\n{full_story_html(external, source)}".strip()
    return body


def prepare(article: Article, full_content: bool = True) -> Entry:
    """``article`` ready for serializing (see the module docstring)."""
    url = to_uri(article.url)
    external = _external(article, url)
    source = clean_text(one_line(article.external_source or "")) or None
    picture = _picture(article.image)
    return Entry(
        id=entry_id(article, url),
        is_permalink=article.id == article.url and is_http_url(url),
        url=url,
        title=clean_text(article.title).strip() or UNTITLED,
        summary=clean_text(article.summary).strip() or _excerpt(clean_text(article.body_html)),
        content_html=_content(article, picture, external, source, full_content),
        published=article.published.astimezone(UTC),
        updated=article.modified.astimezone(UTC),
        authors=tuple(a for a in (clean_text(n).strip() for n in article.authors) if a),
        categories=_unique(clean_text(c).strip() for c in article.categories),
        image=picture,
        external_url=external,
        external_source=source,
        language=article.language,
    )


def _unique(names: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for name in names:
        if name:
            seen.setdefault(name, None)
    return tuple(seen)


def newest_first(articles: Iterable[Article]) -> list[Article]:
    """Articles by published time, newest first; equal times by id (the store's order)."""
    ordered = sorted(articles, key=lambda a: a.id)
    ordered.sort(key=lambda a: a.published, reverse=True)
    return ordered


EntryCache = dict[tuple[Article, bool], Entry]
"""Prepared entries by (article, full_content): an article shared by several feeds of one
build (main, categories, three formats) is prepared once."""


def prepare_all(
    meta: FeedMeta,
    articles: Sequence[Article],
    cache: EntryCache | None = None,
    times: Mapping[str, Times] | None = None,
) -> list[Entry]:
    """Entries newest first (published time, then id), ready for ``meta``'s feed.

    ``times`` (by article id) are the distinct times to show (see ``feeds.times``); the
    entry ids are made from the stored ones.
    """
    memo: EntryCache = {} if cache is None else cache
    entries = []
    for article in newest_first(articles):
        key = (article, meta.full_content)
        if key not in memo:
            entry = prepare(article, meta.full_content)
            shown = times.get(article.id) if times is not None else None
            if shown is not None:
                entry = replace(entry, published=shown.published, updated=shown.updated)
            memo[key] = entry
        entries.append(memo[key])
    return entries


def feed_updated(meta: FeedMeta, entries: Sequence[Entry]) -> datetime:
    """The feed's updated time: its newest entry's (``meta.empty_updated`` when empty)."""
    if not entries:
        return meta.empty_updated.astimezone(UTC)
    return max(entry.updated for entry in entries)
