"""Sources yield articles. One module per kind; this file holds the protocol and registry.

A source is constructed from its config section plus the site config, and ``fetch`` is
called with the state it saved last time (a JSON-able dict the store keeps for it) and
``now``. It returns a ``FetchResult``: the articles that are new or may have changed, the
ids of articles that are gone, per-item errors (the rest still publish), and the new state.
The store commits articles and state in one transaction, so a crash never saves state for
articles that were not stored.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from swfeed.errors import SwfeedError
from swfeed.models import Article

if TYPE_CHECKING:  # a module of sources (``sources.files``) may be used without the models
    from swfeed.config import Config, SourceConfig
    from swfeed.sources.http import FetchSession

SourceState = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ItemTrace:
    """What each selector of a scraped item found, for ``swfeed fetch --dry-run``:
    (selector name, what it gave), the value None when it matched nothing."""

    url: str
    found: tuple[tuple[str, str | None], ...]


@dataclass
class FetchResult:
    """What one fetch of one source produced (``trace``: per article, what each selector
    found, for sources that scrape)."""

    articles: list[Article] = field(default_factory=list)
    removed_ids: list[str] = field(default_factory=list)
    errors: list[SwfeedError] = field(default_factory=list)
    state: SourceState = field(default_factory=dict)
    not_modified: bool = False
    trace: list[ItemTrace] = field(default_factory=list)


class WorkBudget:
    """How long one source may work (parsing and sanitizing included), and whether the run
    was asked to stop (SIGTERM): sources check it between articles and stop early."""

    def __init__(self, seconds: float | None = None, stop: threading.Event | None = None) -> None:
        self.ends = None if seconds is None else time.monotonic() + seconds
        self.seconds = seconds
        self.stop = stop

    def spent(self) -> bool:
        if self.stop is not None and self.stop.is_set():
            return True
        return self.ends is not None and time.monotonic() >= self.ends

    def why(self) -> str:
        """Why work stopped, for the source's error message."""
        if self.stop is not None and self.stop.is_set():
            return "swfeed was asked to stop"
        return f"its {self.seconds:g}-second deadline passed"


UNLIMITED = WorkBudget()


class Source(Protocol):
    """What every kind of source provides."""

    name: str

    def fetch(self, state: SourceState, now: datetime, *, force: bool = False) -> FetchResult:
        """Load what is new or changed since ``state``; never raise for one bad item.

        ``force`` ignores what ``state`` caches (validators, unchanged files) and loads
        everything again; what identifies articles (ids) is still taken from it.
        """
        ...


def build_source(
    source_config: SourceConfig,
    config: Config,
    session: FetchSession | None = None,
    budget: WorkBudget = UNLIMITED,
) -> Source:
    """Create the source object for one ``sources:`` entry.

    Remote sources share ``session`` (robots.txt answers, per-host pacing) within one run;
    ``budget`` bounds the source's work (content and feed sources stop early when spent).
    Only the module of the source's kind is imported.
    """
    from swfeed.config import ContentSourceConfig, HtmlSourceConfig

    if isinstance(source_config, ContentSourceConfig):
        from swfeed.sources.content import ContentSource

        return ContentSource(source_config, config, budget)
    if isinstance(source_config, HtmlSourceConfig):
        from swfeed.sources.html import HtmlSource

        return HtmlSource(source_config, config, session=session)
    from swfeed.sources.upstream import FeedSource

    return FeedSource(source_config, config, session=session, budget=budget)
