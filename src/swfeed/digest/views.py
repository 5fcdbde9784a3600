"""What the digest templates see: plain, display-ready values (pure).

Dates are formatted in the site's zone, URLs made absolute, summaries cut to length and the
"read more" link pointed at the full story elsewhere when the article says so. Templates
never reach into ``Config`` or ``Article`` directly, so admins' own templates stay simple.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from swfeed.config import Config
from swfeed.digest.periods import long_date, period_label
from swfeed.digest.select import Selection, group_by_category
from swfeed.digest.settings import digest_settings
from swfeed.languages import is_rtl, other_language
from swfeed.models import (
    PREFERENCES_URL_TOKEN,
    RECIPIENT_ADDRESS_TOKEN,
    UNSUBSCRIBE_URL_TOKEN,
    Article,
)
from swfeed.plaintext import truncate
from swfeed.sanitize import absolute_url, plain_text

SUMMARY_CHARS = 260
FEATURED_SUMMARY_CHARS = 420
LINK_TITLE_CHARS = 48
HERO_WIDTH = 552


@dataclass(frozen=True, slots=True)
class ImageView:
    url: str
    alt: str
    credit: str
    width: int | None
    height: int | None

    def height_at(self, width: int) -> int | None:
        """The picture's height when shown ``width`` pixels wide (None if unknown)."""
        if not self.width or not self.height:
            return None
        return round(width * self.height / self.width)


@dataclass(frozen=True, slots=True)
class ArticleView:
    """One story as the templates show it. ``short_title`` names the story in its "read
    more" link; ``lang`` is its language tag when not the site's, ``dir`` "rtl" when that
    language is written right to left (set on its title and summary)."""

    id: str
    title: str
    url: str
    read_more_url: str
    read_more_label: str
    short_title: str
    external: bool
    date: str
    iso_date: str
    summary: str
    categories: tuple[str, ...]
    image: ImageView | None
    lang: str | None = None
    dir: str | None = None


@dataclass(frozen=True, slots=True)
class IssueView:
    """Everything the HTML and text templates render."""

    period: str
    label: str
    date: str
    subject: str
    preheader: str
    intro: str
    count: int
    featured: ArticleView | None
    articles: tuple[ArticleView, ...]
    groups: tuple[tuple[str, tuple[ArticleView, ...]], ...]
    browser_url: str
    news_url: str
    postal_lines: tuple[str, ...]
    unsubscribe_url: str = UNSUBSCRIBE_URL_TOKEN
    recipient: str = RECIPIENT_ADDRESS_TOKEN
    preferences_url: str = PREFERENCES_URL_TOKEN


def archive_url(config: Config, period: str) -> str:
    """Where the web copy of an issue is published."""
    return f"{config.output_base_url}digest/{period}.html"


def issue_date(cutoff: datetime, zone: ZoneInfo) -> str:
    """The day an issue covers up to (a cutoff at midnight counts as the day before)."""
    return long_date((cutoff - timedelta(microseconds=1)).astimezone(zone).date())


def article_view(article: Article, config: Config, summary_chars: int) -> ArticleView:
    base = config.site.base_url
    url = absolute_url(article.url, base) or base
    external = absolute_url(article.external_url, base) if article.external_url else None
    label = "Read more"
    if external:
        where = article.external_source
        label = f"Full story at {where}" if where else "Read the full story"
    published = article.published.astimezone(config.site.zone)
    lang = other_language(article.language, config.site.language)
    return ArticleView(
        id=article.id,
        title=one_line(article.title),
        url=url,
        read_more_url=external or url,
        read_more_label=label,
        short_title=truncate(one_line(article.title), LINK_TITLE_CHARS),
        external=external is not None,
        date=long_date(published.date()),
        iso_date=published.isoformat(),
        summary=truncate(_summary_text(article), summary_chars),
        categories=tuple(one_line(name) for name in article.categories),
        image=_image_view(article, base),
        lang=lang,
        dir="rtl" if lang and is_rtl(lang) else None,
    )


def one_line(text: str) -> str:
    """Plain text folded onto one line (titles and summaries are plain text already)."""
    return " ".join(text.split())


def _summary_text(article: Article) -> str:
    return one_line(article.summary) or plain_text(article.body_html)


def _image_view(article: Article, base: str) -> ImageView | None:
    image = article.image
    url = absolute_url(image.url, base) if image else None
    if image is None or url is None:
        return None
    alt = one_line(image.alt) or one_line(article.title)
    return ImageView(url, alt, one_line(image.credit), image.width, image.height)


def issue_view(
    config: Config, selection: Selection, period: str, cutoff: datetime, subject: str
) -> IssueView:
    """The template context of one issue (``subject`` already rendered)."""
    digest = digest_settings(config)
    featured = selection.featured
    rest = tuple(article_view(a, config, SUMMARY_CHARS) for a in selection.rest)
    by_id = {view.id: view for view in rest}
    groups = tuple(
        (name, tuple(by_id[a.id] for a in members))
        for name, members in group_by_category(selection.rest)
    )
    return IssueView(
        period=period,
        label=period_label(period),
        date=issue_date(cutoff, config.site.zone),
        subject=subject,
        preheader=preheader(selection, config.site.title),
        intro=one_line(digest.intro),
        count=len(selection.articles),
        featured=article_view(featured, config, FEATURED_SUMMARY_CHARS) if featured else None,
        articles=rest,
        groups=groups if digest.group_by_category else (),
        browser_url=archive_url(config, period),
        news_url=config.site.base_url,
        postal_lines=tuple(filter(None, map(str.strip, digest.postal_address.splitlines()))),
    )


def preheader(selection: Selection, site_title: str) -> str:
    """The inbox preview line: the top story and how many more follow."""
    featured = selection.featured
    if featured is None:
        return f"No new stories from {site_title} this week."
    more = len(selection.rest)
    title = one_line(featured.title)
    if more == 0:
        return title
    return f"{title}, and {more} more {'story' if more == 1 else 'stories'} this week."
