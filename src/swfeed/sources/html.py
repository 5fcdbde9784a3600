"""``kind: html``: a site's own listing pages, scraped with CSS selectors from the config.

One fetch: the first listing page, conditionally (a 304, or the very body processed last
time, ends the fetch with ``not_modified``); then the "next" pages up to ``max_pages``; then,
with ``follow_links``, each item's article page for its body, photo credit and full-story
link. The listing decides which articles exist; an article page that fails (or whose
selectors match nothing) is reported and its item publishes with what the listing gave.
The validators are saved only when the whole fetch had no error, so a failed item is tried
again on the next fetch instead of hiding behind a 304.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from swfeed.config import Config, HtmlSourceConfig
from swfeed.errors import SourceError, SwfeedError
from swfeed.models import Article
from swfeed.sources import FetchResult, SourceState
from swfeed.sources.http import (
    FetchError,
    FetchSession,
    HttpClient,
    RemoteSource,
    fetch_if_changed,
)
from swfeed.sources.netguard import AddressPolicy
from swfeed.sources.pages import Page, state_with
from swfeed.sources.scrape import (
    ArticlePage,
    Compiled,
    ListingItem,
    NotHtml,
    Scraper,
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

    def fetch(self, state: SourceState, now: datetime) -> FetchResult:
        """Load the listing; ``not_modified`` when its first page did not change."""
        url = str(self.source_config.url)
        with self.fetcher.client() as client:
            first = fetch_if_changed(client, url, state, ACCEPT_HTML)
            if first is None:
                return FetchResult(not_modified=True, state=state)
            items, errors = self._listing(client, first, now)
            articles = [self._article(client, item, errors) for item in items]
        new_state = state_with({url: first.validators}) if not errors else {}
        return FetchResult(articles=articles, errors=errors, state=new_state)

    def _text(self, page: Page) -> str:
        if page.media_type not in HTML_TYPES:
            raise SourceError(
                self.name,
                f"{page.url} is {page.media_type}, not an HTML page",
                hint="Point the source's url at the listing web page (for a feed use kind: feed).",
            )
        return page.text("html")

    def _listing(
        self, client: HttpClient, page: Page, now: datetime
    ) -> tuple[list[ListingItem], list[SwfeedError]]:
        """Items of the listing pages, at most ``max_items``, each URL once."""
        items: dict[str, ListingItem] = {}
        errors: list[SwfeedError] = []
        visited = {page.url}
        for number in range(1, self.source_config.max_pages + 1):
            try:
                listing = self.scraper.listing(self._text(page), page.url, now)
            except NotHtml as exc:
                raise SourceError(self.name, f"{page.url}: {exc.message}", exc.hint) from None
            if listing.item_count == 0:
                self._no_items(page.url, number, errors)
            errors += listing.errors
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
                errors.append(error)
                break
        return list(items.values())[: self.source_config.max_items], errors

    def _no_items(self, page_url: str, number: int, errors: list[SwfeedError]) -> None:
        error = self.scraper.error(page_url, f"page {number}: matched nothing", "item")
        if number == 1:
            raise SourceError(self.name, f"{error.location}: {error.message}", error.hint)
        errors.append(error)

    def _article(self, client: HttpClient, item: ListingItem, errors: list[SwfeedError]) -> Article:
        parts = ArticlePage()
        if self.source_config.follow_links:
            parts = self._article_page(client, item.url, errors)
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
            categories=tuple(dict.fromkeys([*item.categories, *self.source_config.categories])),
            image=image,
            external_url=parts.external_url,
            external_source=site_name(parts.external_url) if parts.external_url else None,
        )

    def _article_page(self, client: HttpClient, url: str, errors: list[SwfeedError]) -> ArticlePage:
        try:
            page = client.get(url, accept=ACCEPT_HTML)
            parts, problems = self.scraper.article(self._text(page), page.url)
        except (FetchError, SourceError) as exc:
            errors.append(exc)
            return ArticlePage()
        except NotHtml as exc:
            errors.append(SourceError(self.name, f"{url}: {exc.message}", exc.hint))
            return ArticlePage()
        errors += problems
        return parts
