"""Pure scraping: a listing page's or an article page's HTML to typed pieces, by selectors.

No I/O here: ``html.HtmlSource`` fetches the pages and hands their text in. Every piece of
text goes through ``plain_text``, every URL through ``safe_url`` (absolute http(s) only, so
``javascript:``, ``data:`` and ``file:`` links vanish), and the article body through the
one allow-list sanitizer. A required selector that matches nothing, or a date that does not
parse, becomes a ``ContentError`` naming the source, the page URL and the selector; the
other items still publish.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from urllib.parse import urldefrag, urlsplit
from zoneinfo import ZoneInfo

import lxml.html
from cssselect import HTMLTranslator
from lxml import etree
from lxml.html import HtmlElement as Element

from swfeed.config import HtmlSelectors
from swfeed.errors import ContentError, Location, SwfeedError
from swfeed.models import Article, Image
from swfeed.plaintext import truncate
from swfeed.sanitize import plain_text, safe_url, sanitize_html
from swfeed.sources import ItemTrace
from swfeed.sources.dates import DateNotUnderstood, read_date

_IMAGE_ATTRIBUTES = ("src", "data-src", "data-lazy-src", "data-original")


class NotHtml(SwfeedError):
    """The page is empty or not HTML at all."""

    default_hint = "Check that the source's url is the listing page itself."


Selector = etree.XPath
_TRANSLATOR = HTMLTranslator()


def compile_selector(css: str) -> Selector:
    """A CSS selector as a reusable XPath (cssselect's, without lxml's extension functions,
    whose compiled form breaks when reused across documents in lxml 6)."""
    return etree.XPath(_TRANSLATOR.css_to_xpath(css))


def parse_document(text: str) -> Element:
    """Parse HTML text (any declared encoding is ignored: the text is already decoded)."""
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True)
    try:
        return lxml.html.document_fromstring(text.encode("utf-8"), parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise NotHtml(f"the page cannot be parsed as HTML ({exc})") from None


def base_url(document: Element, page_url: str) -> str:
    """The URL relative links resolve against: ``<base href>`` if usable, else the page's."""
    for base in document.iter("base"):
        href = safe_url(base.get("href"), page_url)
        if href:
            return href
    return page_url


def select(selector: Selector, element: Element) -> list[Element]:
    """The elements ``selector`` matches inside ``element``."""
    found = selector(element)
    return [item for item in found if isinstance(item, Element)] if isinstance(found, list) else []


def first(selector: Selector | None, element: Element) -> Element | None:
    if selector is None:
        return None
    found = select(selector, element)
    return found[0] if found else None


def text_of(element: Element) -> str:
    """The element's text; script and style contents are not text."""
    return plain_text(str(lxml.html.tostring(element, encoding="unicode", with_tail=False)))


def link_of(element: Element, base: str) -> str | None:
    """The href of ``element``, of the first link inside it, or of the link around it."""
    candidates = [element, *element.iter("a"), *element.iterancestors("a")]
    for candidate in candidates:
        url = safe_url(candidate.get("href"), base)
        if url:
            return urldefrag(url).url
    return None


def image_of(element: Element, base: str) -> Image | None:
    """The first usable image at or inside ``element``: src, lazy-load attributes, srcset."""
    for img in element.iter("img"):
        srcset = (img.get("srcset") or "").split(",")[0].strip().split(" ")[0]
        for value in [*(img.get(name) for name in _IMAGE_ATTRIBUTES), srcset]:
            url = safe_url(value, base)
            if url:
                return Image(url=url, alt=plain_text(img.get("alt") or ""))
    return None


@dataclass(frozen=True, slots=True)
class Compiled:
    """An ``HtmlSelectors`` section compiled once per source."""

    config: HtmlSelectors
    item: Selector
    title: Selector
    link: Selector
    date: Selector
    summary: Selector | None
    image: Selector | None
    category: Selector | None
    body: Selector | None
    credit: Selector | None
    full_story: Selector | None
    next_page: Selector | None
    remove: tuple[Selector, ...]

    @classmethod
    def of(cls, selectors: HtmlSelectors) -> Compiled:
        def compiled(css: str | None) -> Selector | None:
            return compile_selector(css) if css else None

        names = ("summary", "image", "category", "body", "credit", "full_story", "next_page")
        return cls(
            config=selectors,
            item=compile_selector(selectors.item),
            title=compile_selector(selectors.title),
            link=compile_selector(selectors.link),
            date=compile_selector(selectors.date),
            remove=tuple(compile_selector(css) for css in selectors.remove),
            **{name: compiled(getattr(selectors, name)) for name in names},
        )


@dataclass(frozen=True, slots=True)
class ListingItem:
    """One item of a listing page."""

    title: str
    url: str
    published: datetime
    summary: str = ""
    image: Image | None = None
    categories: tuple[str, ...] = ()
    day_only: bool = False
    raw_date: str = ""
    misses: tuple[str, ...] = ()
    """Optional selectors (summary, image, category) that matched nothing in this item."""


@dataclass
class ListingPage:
    """What one listing page yielded."""

    items: list[ListingItem] = field(default_factory=list)
    errors: list[SwfeedError] = field(default_factory=list)
    next_url: str | None = None
    item_count: int = 0


@dataclass(frozen=True, slots=True)
class ArticlePage:
    """What an article page adds to its listing item; ``missing``: selectors matching nothing."""

    body_html: str = ""
    credit: str = ""
    external_url: str | None = None
    image: Image | None = None
    missing: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Scraper:
    """Scrapes pages of one source: its name, compiled selectors, date format and zone."""

    source: str
    selectors: Compiled
    zone: ZoneInfo
    date_format: str | None = None

    def error(
        self, page_url: str, message: str, field: str, hint: str | None = None
    ) -> ContentError:
        css = getattr(self.selectors.config, field)
        return ContentError(
            f"source {self.source!r}: {message} (selectors.{field}: {css!r})",
            location=Location(page_url),
            hint=hint
            or f"Compare selectors.{field} of source {self.source!r} with the page's HTML; "
            "the other items still publish.",
        )

    def listing(self, text: str, page_url: str, now: datetime) -> ListingPage:
        """Every item of a listing page, plus the errors of the items that failed."""
        document = parse_document(text)
        base = base_url(document, page_url)
        elements = select(self.selectors.item, document)
        page = ListingPage(item_count=len(elements))
        for index, element in enumerate(elements, start=1):
            found = self.item(element, index, page_url, base, now)
            if isinstance(found, ListingItem):
                page.items.append(found)
            else:
                page.errors.append(found)
        page.errors += self._optional_misses(elements, page_url)
        next_link = first(self.selectors.next_page, document)
        page.next_url = link_of(next_link, base) if next_link is not None else None
        return page

    def item(
        self, element: Element, index: int, page_url: str, base: str, now: datetime
    ) -> ListingItem | ContentError:
        """One listing item, or the error saying which selector failed."""
        title_el = first(self.selectors.title, element)
        title = text_of(title_el) if title_el is not None else ""
        label = f"item {index}" + (f" ({title[:60]!r})" if title else "")
        if not title:
            return self.error(page_url, f"{label}: no title text", "title")
        link_el = first(self.selectors.link, element)
        url = link_of(link_el, base) if link_el is not None else None
        if url is None:
            return self.error(page_url, f"{label}: no http(s) link", "link")
        date_el = first(self.selectors.date, element)
        if date_el is None:
            return self.error(page_url, f"{label}: matched nothing", "date")
        date_text = date_el.get("datetime") or str(date_el.text_content())
        try:
            published, day_only = read_date(date_text, self.zone, now, self.date_format)
        except DateNotUnderstood as exc:
            return self.error(page_url, f"{label}: date {exc.message}", "date", exc.hint)
        summary_el = first(self.selectors.summary, element)
        image_el = first(self.selectors.image, element)
        return ListingItem(
            title=title,
            url=url,
            published=published,
            summary=text_of(summary_el) if summary_el is not None else "",
            image=image_of(image_el, base) if image_el is not None else None,
            categories=self._categories(element),
            day_only=day_only,
            raw_date=" ".join(date_text.split()),
            misses=self._misses(element),
        )

    def _misses(self, element: Element) -> tuple[str, ...]:
        names = ("summary", "image", "category")
        return tuple(
            name
            for name in names
            if (selector := getattr(self.selectors, name)) is not None
            and not select(selector, element)
        )

    def _categories(self, element: Element) -> tuple[str, ...]:
        if self.selectors.category is None:
            return ()
        names = (text_of(found) for found in select(self.selectors.category, element))
        return tuple(dict.fromkeys(name for name in names if name))

    def _optional_misses(self, elements: list[Element], page_url: str) -> list[SwfeedError]:
        """An optional selector that matches in none of the items is a changed layout."""
        misses: list[SwfeedError] = []
        for name in ("summary", "image", "category"):
            selector = getattr(self.selectors, name)
            if selector is None or not elements:
                continue
            if not any(select(selector, element) for element in elements):
                message = f"matched nothing in any of the {len(elements)} items"
                misses.append(self.error(page_url, message, name))
        return misses

    def article(self, text: str, page_url: str) -> tuple[ArticlePage, list[SwfeedError]]:
        """Body, photo credit and full-story link of an article page.

        A body matching nothing is an error; the optional parts (a credit, a full-story
        link) are only listed in ``missing``: many a post has neither, so it is the source
        that reports a selector matching on none of its pages (``optional_page_misses``).
        """
        document = parse_document(text)
        base = base_url(document, page_url)
        errors: list[SwfeedError] = []
        found: dict[str, Element | None] = {}
        missing: set[str] = set()
        for name in ("body", "credit", "full_story"):
            selector = getattr(self.selectors, name)
            found[name] = first(selector, document)
            if selector is not None and found[name] is None:
                missing.add(name)
        if "body" in missing:
            errors.append(self.error(page_url, "matched nothing on the article page", "body"))
        body = found["body"]
        credit, story = found["credit"], found["full_story"]
        phrase = self.selectors.config.full_story_text
        if phrase is not None:
            story = link_by_text(body if body is not None else document, phrase)
            if story is None:
                missing.add("full_story_text")
        return ArticlePage(
            body_html=self._body_html(body, base, story) if body is not None else "",
            credit=text_of(credit) if credit is not None else "",
            external_url=link_of(story, base) if story is not None else None,
            image=image_of(body, base) if body is not None else None,
            missing=frozenset(missing),
        ), errors

    def optional_page_misses(
        self, pages: Sequence[ArticlePage], listing_url: str
    ) -> list[SwfeedError]:
        """A credit or full-story selector that matched on none of the article pages read
        (so probably not at all any more): one error each."""
        message = f"matched nothing on any of the {len(pages)} article pages read"
        return [
            self.error(listing_url, message, name)
            for name in ("credit", "full_story", "full_story_text")
            if pages
            and getattr(self.selectors.config, name) is not None
            and all(name in page.missing for page in pages)
        ]

    def trace(self, item: ListingItem, parts: ArticlePage, article: Article) -> ItemTrace:
        """What each configured selector found for ``item`` (None: matched nothing)."""
        config = self.selectors.config
        kind = "a day without a time" if item.day_only else "a date and time"
        when = f"{item.raw_date!r} -> {article.published:%Y-%m-%d %H:%M:%S} UTC ({kind})"
        image = item.image
        optional: dict[str, str | None] = {
            "summary": truncate(item.summary, 80) or None,
            "image": f"{image.url} (alt {image.alt!r})" if image else None,
            "category": ", ".join(item.categories) or None,
            "body": f"{len(parts.body_html):,} characters of HTML" if parts.body_html else None,
            "credit": parts.credit or None,
            "full_story": parts.external_url,
            "full_story_text": parts.external_url,
        }
        found: list[tuple[str, str | None]] = [
            ("title", article.title),
            ("link", article.url),
            ("date", when),
        ]
        found += [(name, value) for name, value in optional.items() if getattr(config, name)]
        found.append(("categories stored", ", ".join(article.categories) or "(none)"))
        return ItemTrace(article.url, tuple(found))

    def _body_html(self, body: Element, base: str, story: Element | None) -> str:
        """The body without the ``remove`` parts and the full-story link's paragraph."""
        for selector in self.selectors.remove:
            for unwanted in select(selector, body):
                unwanted.drop_tree()
        if story is not None and any(story is part for part in body.iter("a")):
            block = block_of(story, body)
            if block is not story and len(_words(block)) <= FULL_STORY_BLOCK_CHARS:
                block.drop_tree()
        markup = lxml.html.tostring(body, encoding="unicode", with_tail=False)
        return sanitize_html(str(markup), base_url=base)


FULL_STORY_BLOCK_CHARS = 200
"""A full-story link's paragraph up to this long is the link's own line, dropped from the
body; a longer one is prose that merely contains the link, and stays."""
_BLOCKS = frozenset({"p", "li", "div", "figure", "blockquote", "section", "td", "dd"})


def _words(element: Element) -> str:
    return " ".join(str(element.text_content()).split()).casefold()


def block_of(element: Element, root: Element) -> Element:
    """The paragraph (or other block) holding ``element`` inside ``root``, else itself."""
    for ancestor in element.iterancestors():
        if ancestor is root:
            break
        if isinstance(ancestor.tag, str) and ancestor.tag in _BLOCKS:
            return ancestor
    return element


def link_by_text(root: Element, phrase: str) -> Element | None:
    """The first link whose text, or whose paragraph's text, contains ``phrase`` (any case,
    any spacing): "To read the full story, see <a>here</a>" is found by "full story"."""
    wanted = " ".join(phrase.split()).casefold()
    for anchor in root.iter("a"):
        if anchor.get("href") and (
            wanted in _words(anchor) or wanted in _words(block_of(anchor, root))
        ):
            return anchor
    return None


def in_listing_order(items: Sequence[ListingItem]) -> list[ListingItem]:
    """Items sharing a time (a day without a time of day) get one second each, counted up
    from the lowest in the listing, so the feeds keep the site's order: newest first.

    Counting from the bottom keeps the times stable when a newer post joins the top.
    """
    counts: dict[datetime, int] = {}
    later: list[ListingItem] = []
    for item in reversed(items):
        step = counts.get(item.published, 0)
        counts[item.published] = step + 1
        later.append(replace(item, published=item.published + timedelta(seconds=step)))
    return later[::-1]


def site_name(url: str) -> str:
    """``https://www.un.org/x`` -> ``un.org``: how a full-story link's origin is shown."""
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")
