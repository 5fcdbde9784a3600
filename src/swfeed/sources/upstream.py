"""``kind: feed``: a partner's RSS 2.0, Atom 1.0 or JSON Feed 1.1, fetched by our own client.

Each entry is cleaned on the way in: titles and summaries that are HTML (RSS, Atom
``type="html"``) through ``plain_text`` (tags dropped, words and alt text kept), those that
are text (JSON Feed, Atom ``type="text"``) through ``one_line`` (every character kept),
names through ``plain_text``, bodies through the allow-list sanitizer (which sees the raw
markup: feedparser's own cleaning is off), every URL through ``safe_url`` (``file:``,
``javascript:`` and ``data:`` links are dropped). Ids are the entry's id, else its link, so
an edited entry updates our article instead of duplicating it. Upstream categories are
mapped (``category_map``) and entries are kept or dropped by the source's ``filter``.

The validators (and body hash) are saved only after a successful parse: a well-formed
document, even if some entries were unusable (those faults are upstream and come back with
the same bytes, so the next fetch may as well be a 304). A document that is not well-formed
(a truncated or broken response, read leniently) or does not parse at all saves none, so the
next fetch reads it whole again instead of hearing "not modified" for ever.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

from swfeed.config import FeedFilter, FeedSourceConfig
from swfeed.errors import ContentError, Location, SourceError, SwfeedError
from swfeed.languages import clean_tag, other_language
from swfeed.models import Article, Image
from swfeed.plaintext import one_line, truncate
from swfeed.sanitize import plain_text, safe_url, sanitize_html
from swfeed.sources import FetchResult, SourceState
from swfeed.sources.categories import merge_categories
from swfeed.sources.http import RemoteSource, fetch_if_changed
from swfeed.sources.pages import Page, state_with
from swfeed.sources.scrape import site_name
from swfeed.sources.upstream_entry import FeedEntry, NotAFeed, ParsedFeed
from swfeed.sources.upstream_json import parse_json_feed
from swfeed.sources.upstream_xml import parse_xml_feed

ACCEPT_FEED = (
    "application/atom+xml, application/rss+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.1"
)
JSON_TYPES = frozenset({"application/feed+json", "application/json"})
SUMMARY_CHARS = 400
_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def map_categories(upstream: tuple[str, ...], source: FeedSourceConfig) -> tuple[str, ...]:
    """Upstream categories through ``category_map``, plus the source's own categories."""
    mapping = {key.casefold(): value for key, value in source.category_map.items()}
    mapped: list[str] = []
    for name in upstream:
        if name.casefold() in mapping:
            mapped.append(mapping[name.casefold()])
        elif source.keep_unmapped_categories:
            mapped.append(name)
    return merge_categories(
        (plain_text(name) for name in mapped), (plain_text(name) for name in source.categories)
    )


def _words(words: list[str]) -> re.Pattern[str] | None:
    if not words:
        return None
    alternatives = "|".join(re.escape(word.strip()) for word in words if word.strip())
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE) if alternatives else None


def wanted(text: str, rules: FeedFilter) -> bool:
    """Does the filter keep an entry whose title, text and categories are ``text``?"""
    include, exclude = _words(rules.include), _words(rules.exclude)
    if exclude is not None and exclude.search(text):
        return False
    return include is None or include.search(text) is not None


def article_id(entry: FeedEntry, source: str) -> str | None:
    """The entry's id (namespaced by source when it is no URI), else its link."""
    if entry.id and entry.id.strip():
        raw = entry.id.strip()
        return raw if _URI_SCHEME.match(raw) else f"{source}:{raw}"
    return entry.link.strip() if entry.link and entry.link.strip() else None


def _http_id(entry_id: str | None) -> str | None:
    """An id that is itself an absolute http(s) URL (Atom ids often are), as the link."""
    if not entry_id or urlsplit(entry_id.strip()).scheme not in ("http", "https"):
        return None
    return safe_url(entry_id, entry_id)


def _as_text(value: str, is_html: bool) -> str:
    """A title or summary as one line of text: HTML loses its tags (keeping words and alt
    text); text keeps every character, ``<`` included."""
    return plain_text(value) if is_html else one_line(value)


def _missing(identifier: str | None, url: str | None, entry: FeedEntry, title: str) -> str:
    if identifier is None:
        return "has neither id nor link; skipped"
    if url is None:
        return "has no http(s) link; skipped"
    if not title:
        return "has no title; skipped"
    return f"has no usable date ({entry.date_problem or 'none given'}); skipped"


class FeedSource(RemoteSource[FeedSourceConfig]):
    """One upstream feed."""

    def fetch(self, state: SourceState, now: datetime, *, force: bool = False) -> FetchResult:
        """Load the feed; ``not_modified`` on a 304 or the very body processed last time."""
        url = str(self.source_config.url)
        with self.fetcher.client() as client:
            page = fetch_if_changed(
                client, url, state, ACCEPT_FEED, trusted=self.trusts(state, force)
            )
        if page is None:
            return FetchResult(not_modified=True, state=state)
        feed = self._parse(page, now)
        errors: list[SwfeedError] = [self._error(page.url, w) for w in feed.warnings]
        articles: dict[str, Article] = {}
        complete = feed.well_formed
        for number, entry in enumerate(feed.entries, start=1):
            if self.budget.spent():
                errors.append(self._postponed(page.url, len(feed.entries) - number + 1))
                complete = False
                break
            found = self._article(entry, number, feed, page.url)
            if isinstance(found, ContentError):
                errors.append(found)
            elif found is not None:
                articles.setdefault(found.id, found)
        new_state = state_with({url: page.validators}, self.fingerprint) if complete else {}
        return FetchResult(articles=list(articles.values()), errors=errors, state=new_state)

    def _parse(self, page: Page, now: datetime) -> ParsedFeed:
        text = page.text("xml")
        is_json = page.media_type in JSON_TYPES or text.lstrip("\ufeff \t\r\n").startswith("{")
        try:
            if is_json:
                return parse_json_feed(text, self.zone, now)
            return parse_xml_feed(text, page.url, self.zone, now)
        except NotAFeed as exc:
            served = f" (served as {page.media_type})" if page.media_type else ""
            raise SourceError(self.name, f"{page.url}: {exc.message}{served}", exc.hint) from None

    def _postponed(self, feed_url: str, left: int) -> SourceError:
        return SourceError(
            self.name,
            f"{feed_url}: stopped after {self.budget.why()}; {left} entries are left for the "
            "next fetch (which reads the whole feed again)",
            hint="Nothing was lost. If this repeats, the feed is unusually large: raise "
            "http.total_timeout or ask the publisher to shorten it.",
        )

    def _error(self, feed_url: str, message: str) -> ContentError:
        return ContentError(
            f"source {self.name!r}: {message}",
            location=Location(feed_url),
            hint="The partner's feed has a fault; the other entries still publish. "
            "Tell the publisher if it persists.",
        )

    def _article(
        self, entry: FeedEntry, number: int, feed: ParsedFeed, feed_url: str
    ) -> Article | ContentError | None:
        """The entry as an article; None if the filter drops it; an error if it is unusable."""
        label = f"entry {number}" + (f" ({entry.id})" if entry.id else "")
        identifier = article_id(entry, self.name)
        url = safe_url(entry.link, feed_url) or _http_id(entry.id)
        published = entry.published or entry.updated
        summary_text = _as_text(entry.summary, entry.summary_is_html)
        title = _as_text(entry.title, entry.title_is_html) or truncate(summary_text, 80)
        if identifier is None or url is None or published is None or not title:
            return self._error(feed_url, f"{label} {_missing(identifier, url, entry, title)}")
        body = sanitize_html(entry.body_html, base_url=url) if entry.body_html else ""
        summary = truncate(summary_text or plain_text(body), SUMMARY_CHARS)
        categories = map_categories(entry.categories, self.source_config)
        text = " ".join([title, summary, plain_text(body), *entry.categories, *categories])
        if not wanted(text, self.source_config.filter):
            return None
        return Article(
            id=identifier,
            url=url,
            title=title,
            published=published,
            updated=entry.updated if entry.updated and entry.updated != published else None,
            source=self.name,
            summary=summary,
            body_html=body,
            authors=tuple(a for a in (plain_text(name) for name in entry.authors) if a),
            categories=categories,
            image=self._image(entry, url),
            external_url=safe_url(entry.external_url, url),
            external_source=self._origin(feed, url),
            language=other_language(clean_tag(entry.language or feed.language), self.site_language),
        )

    def _image(self, entry: FeedEntry, base: str) -> Image | None:
        url = safe_url(entry.image, base)
        return Image(url=url, alt=plain_text(entry.image_alt)) if url else None

    def _origin(self, feed: ParsedFeed, url: str) -> str:
        named = self.source_config.source_name or plain_text(feed.title)
        return named or site_name(url) or urlsplit(url).netloc
