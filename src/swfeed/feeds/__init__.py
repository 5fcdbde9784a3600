"""Articles -> feeds: the vocabulary the three serializers share.

Each format module (``rss``, ``atom``, ``jsonfeed``) has one pure function,
``render(meta: FeedMeta, articles: Sequence[Article]) -> bytes``: the same input always gives
the same bytes, entries newest first, and the feed's own updated time is the newest entry's
(never the build time). ``build`` turns the config into ``FeedMeta`` values and writes the
files with ``write.atomic_write``; its entry points are re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from swfeed import __version__
from swfeed.models import Article

EMPTY_FEED_UPDATED = datetime(2000, 1, 1, tzinfo=UTC)
"""The updated time of a feed with no entries: fixed, so an empty feed is byte-stable too."""


@dataclass(frozen=True, slots=True)
class FeedMeta:
    """What a feed says about itself. ``self_url`` is where this very file is served;
    ``stylesheet`` the CSS browsers show the XML formats with, ``hubs`` the WebSub hubs."""

    title: str
    link: str
    self_url: str
    description: str
    feed_id: str
    author_name: str
    language: str = "en"
    author_email: str | None = None
    logo: str | None = None
    icon: str | None = None
    category: str | None = None
    full_content: bool = True
    generator: str = "swfeed"
    generator_version: str = __version__
    empty_updated: datetime = EMPTY_FEED_UPDATED
    stylesheet: str | None = None
    hubs: tuple[str, ...] = ()


class Renderer(Protocol):
    """The shared interface of the serializers."""

    def __call__(self, meta: FeedMeta, articles: Sequence[Article]) -> bytes: ...


# The entry points, importable from the package (after FeedMeta, which they import).
from swfeed.feeds.build import (  # noqa: E402
    CategoryFeed,
    WriteReport,
    autodiscovery_tags,
    feed_times,
    load_feed_articles,
    render_feeds,
    write_feeds,
)

__all__ = [
    "EMPTY_FEED_UPDATED",
    "CategoryFeed",
    "FeedMeta",
    "Renderer",
    "WriteReport",
    "autodiscovery_tags",
    "feed_times",
    "load_feed_articles",
    "render_feeds",
    "write_feeds",
]
