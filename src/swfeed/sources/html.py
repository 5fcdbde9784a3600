"""``kind: html``: a site's own listing pages, scraped with CSS selectors from the config.

One fetch: the first listing page, conditionally (a 304, or the very body processed last
time, ends the fetch with ``not_modified``); then the "next" pages up to ``max_pages``; then,
with ``follow_links``, each item's article page for its body, photo credit and full-story
link. The listing decides which articles exist.

An article page that fails (network error, HTTP error, not HTML, ``selectors.body`` matching
nothing) is reported and its item is left out of this fetch: the stored version stays as it
was, rather than being replaced by a body-less copy. The listing's validators are then not
saved, nor when a "next" page failed, so the next fetch reads everything again and retries.
Faults that follow from the listing's own bytes (a card without a date, an optional selector
matching nothing) are reported but do not block saving: reading the same page again would
only repeat them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from swfeed.config import Config, HtmlSourceConfig
from swfeed.errors import SourceError, SwfeedError
from swfeed.models import Article
from swfeed.sources import FetchResult, ItemTrace, SourceState
from swfeed.sources.categories import merge_categories
from swfeed.sources.changefeed import changed_posts
from swfeed.sources.http import (
    FetchError,
    FetchSession,
    HttpClient,
    RemoteSource,
    fetch_if_changed,
)
from swfeed.sources.netguard import AddressPolicy
from swfeed.sources.pages import Page, Validators, page_validators, state_with
from swfeed.sources.scrape import (
    ArticlePage,
    Compiled,
    ListingItem,
    NotHtml,
    Scraper,
    in_listing_order,
    site_name,
)

ACCEPT_HTML = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
HTML_TYPES = frozenset({"", "text/html", "application/xhtml+xml"})


class HtmlSource(RemoteSource[HtmlSourceConfig]):
    """Scrapes one site's listing pages (and, optionally, its article pages)."""

    def __init__(
        self,
        source_config: HtmlSourceConfig,
        config: Config,
        *,
        session: FetchSession | None = None,
        policy: AddressPolicy | None = None,
    ) -> None:
        super().__init__(source_config, config, session=session, policy=policy)
        self.scraper = Scraper(
            source=self.name,
            selectors=Compiled.of(source_config.selectors),
            zone=self.zone,
            date_format=source_config.date_format,
        )

    def fetch(self, state: SourceState, now: datetime, *, force: bool = False) -> FetchResult:
        """Load the listing; ``not_modified`` when the change feed's posts or the listing's
        first page did not change."""
        url = str(self.source_config.url)
        harvest = Harvest()
        trusted = self.trusts(state, force)
        pages: dict[str, Validators] = {}
        with self.fetcher.client() as client:
            signal = self.source_config.change_feed
            if signal is not None:
                mark = changed_posts(client, str(signal), state, self.zone, now, trusted=trusted)
                if mark is None:
                    return FetchResult(not_modified=True, state=state)
                pages[str(signal)] = mark
            first = fetch_if_changed(client, url, state, ACCEPT_HTML, trusted=trusted)
            if first is None:
                pages[url] = page_validators(state, url) or Validators()
                return FetchResult(not_modified=True, state=state_with(pages, self.fingerprint))
            read: list[ArticlePage] = []
            for item in self._listing(client, first, now, harvest):
                parts = self._article_parts(client, item, harvest)
                if parts is not None:
                    article = self._article(item, parts)
                    harvest.add(article, self.scraper.trace(item, parts, article))
                    read += [parts] if self.source_config.follow_links else []
            harvest.errors += self.scraper.optional_page_misses(read, url)
        pages[url] = first.validators
        new_state = state_with(pages, self.fingerprint) if harvest.complete else {}
        return FetchResult(
            articles=harvest.articles, errors=harvest.errors, state=new_state, trace=harvest.trace
        )

    def _text(self, page: Page) -> str:
        if page.media_type not in HTML_TYPES:
            raise SourceError(
                self.name,
                f"{page.url} is {page.media_type}, not an HTML page",
                hint="Point the source's url at the listing web page (for a feed use kind: feed).",
            )
        return page.text("html")

    def _listing(
        self, client: HttpClient, page: Page, now: datetime, harvest: Harvest
    ) -> list[ListingItem]:
        """Items of the listing pages, at most ``max_items``, each URL once."""
        items: dict[str, ListingItem] = {}
        visited = {page.url}
        for number in range(1, self.source_config.max_pages + 1):
            try:
                listing = self.scraper.listing(self._text(page), page.url, now)
            except NotHtml as exc:
                raise SourceError(self.name, f"{page.url}: {exc.message}", exc.hint) from None
            if listing.item_count == 0:
                harvest.retry(self._no_items(page.url, number))
            harvest.errors += listing.errors
            for item in listing.items:
                items.setdefault(item.url, item)
            next_url = listing.next_url
            last = number == self.source_config.max_pages
            enough = len(items) >= self.source_config.max_items
            if next_url is None or next_url in visited or last or enough:
                break
            visited.add(next_url)
            try:
                page = client.get(next_url, accept=ACCEPT_HTML)
            except FetchError as error:
                harvest.retry(error)
                break
        return in_listing_order(list(items.values())[: self.source_config.max_items])

    def _no_items(self, page_url: str, number: int) -> SwfeedError:
        """A listing page without items: the source fails on page 1, page 2+ is reported."""
        error = self.scraper.error(page_url, f"page {number}: matched nothing", "item")
        if number == 1:
            raise SourceError(self.name, f"{error.location}: {error.message}", error.hint)
        return error

    def _article_parts(
        self, client: HttpClient, item: ListingItem, harvest: Harvest
    ) -> ArticlePage | None:
        """What the item's article page adds; None when it failed (left for next time)."""
        if not self.source_config.follow_links:
            return ArticlePage()
        return self._article_page(client, item.url, harvest)

    def _article(self, item: ListingItem, parts: ArticlePage) -> Article:
        """The listing item and its article page's parts as an article."""
        image = item.image or parts.image
        if image is not None and parts.credit:
            image = replace(image, credit=parts.credit)
        return Article(
            id=item.url,
            url=item.url,
            title=item.title,
            published=item.published,
            source=self.name,
            summary=item.summary,
            body_html=parts.body_html,
            categories=merge_categories(item.categories, self.source_config.categories),
            image=image,
            external_url=parts.external_url,
            external_source=site_name(parts.external_url) if parts.external_url else None,
            day_only=item.day_only,
        )

    def _article_page(self, client: HttpClient, url: str, harvest: Harvest) -> ArticlePage | None:
        """Body, credit and full-story link; None (reported) when the page gave no body."""
        try:
            page = client.get(url, accept=ACCEPT_HTML)
            parts, problems = self.scraper.article(self._text(page), page.url)
        except (FetchError, SourceError) as exc:
            harvest.retry(exc)
            return None
        except NotHtml as exc:
            harvest.retry(SourceError(self.name, f"{url}: {exc.message}", exc.hint))
            return None
        harvest.errors += problems
        if "body" in parts.missing:
            harvest.complete = False
            return None
        return parts


@dataclass
class Harvest:
    """What one fetch gathered; ``complete`` is False when the next fetch must try again.
    ``trace``: what each selector found, per article (for ``fetch --dry-run``)."""

    articles: list[Article] = field(default_factory=list)
    errors: list[SwfeedError] = field(default_factory=list)
    complete: bool = True
    trace: list[ItemTrace] = field(default_factory=list)

    def add(self, article: Article, trace: ItemTrace) -> None:
        self.articles.append(article)
        self.trace.append(trace)

    def retry(self, error: SwfeedError) -> None:
        """Report ``error`` and keep the validators unsaved, so the next fetch reads it all."""
        self.errors.append(error)
        self.complete = False
