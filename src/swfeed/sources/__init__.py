"""Sources yield articles. One module per kind; this file holds the protocol and registry.

A source is constructed from its config section plus the site config, and ``fetch`` is
called with the state it saved last time (a JSON-able dict the store keeps for it) and
``now``. It returns a ``FetchResult``: the articles that are new or may have changed, the
ids of articles that are gone, per-item errors (the rest still publish), and the new state.
The store commits articles and state in one transaction, so a crash never saves state for
articles that were not stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from swfeed.config import Config, SourceConfig
from swfeed.errors import SwfeedError
from swfeed.models import Article

SourceState = dict[str, Any]


@dataclass
class FetchResult:
    """What one fetch of one source produced."""

    articles: list[Article] = field(default_factory=list)
    removed_ids: list[str] = field(default_factory=list)
    errors: list[SwfeedError] = field(default_factory=list)
    state: SourceState = field(default_factory=dict)
    not_modified: bool = False


class Source(Protocol):
    """What every kind of source provides."""

    name: str

    def fetch(self, state: SourceState, now: datetime) -> FetchResult:
        """Load what is new or changed since ``state``; never raise for one bad item."""
        ...


SourceFactory = Callable[[Any, Config], Source]


def build_source(source_config: SourceConfig, config: Config) -> Source:
    """Create the source object for one ``sources:`` entry."""
    factory = _registry()[source_config.kind]
    return factory(source_config, config)


def _registry() -> dict[str, SourceFactory]:
    from swfeed.sources.content import ContentSource

    registry: dict[str, SourceFactory] = {"content": ContentSource}
    try:
        from swfeed.sources.feed import FeedSource
        from swfeed.sources.html import HtmlSource
    except ImportError:  # pragma: no cover - remote sources are optional modules
        return registry
    registry["feed"] = FeedSource
    registry["html"] = HtmlSource
    return registry
