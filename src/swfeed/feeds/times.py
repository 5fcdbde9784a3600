"""The times feeds show: distinct to the second, in the store's order (pure).

Feeds write whole seconds, and readers (and the W3C validator's DuplicateUpdated check) need
every entry's ``updated`` to differ. Same-day articles that give only their day all sit at
noon UTC, and edits seen in one fetch share its moment; so, over every visible article (not
per feed, so an entry shows the same times in every feed):

- published: newest first, equal times in id order (the order feeds list them); each time
  is at least one second before the one above it;
- updated: an unedited article's is its shown published time; an edit's keeps its time
  unless it ties with one above it, then moves one second earlier (never before the
  article's published time).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

STEP = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class Times:
    """An article's stored times, or the ones feeds show."""

    published: datetime
    updated: datetime


def _second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def distinct_times(stored: Iterable[tuple[str, Times]]) -> dict[str, Times]:
    """(article id, stored times) of every visible article -> the times feeds show."""
    items = sorted(stored, key=lambda item: item[0])
    items.sort(key=lambda item: item[1].published, reverse=True)
    shown: dict[str, Times] = {}
    above: datetime | None = None
    for article_id, times in items:
        published = _second(times.published)
        if above is not None and published > above - STEP:
            published = above - STEP
        above = published
        edited = times.updated > times.published
        updated = max(_second(times.updated), published) if edited else published
        shown[article_id] = Times(published, updated)
    return _distinct_updates(shown)


def _distinct_updates(shown: dict[str, Times]) -> dict[str, Times]:
    """Edits that tie with another updated time move one second earlier each (unedited
    articles keep theirs: it is their published time, already distinct)."""

    def newest_first(article_id: str) -> tuple[float, bool, float, str]:
        times = shown[article_id]
        edited = times.updated > times.published
        return (-times.updated.timestamp(), edited, -times.published.timestamp(), article_id)

    above: datetime | None = None
    for article_id in sorted(shown, key=newest_first):
        times = shown[article_id]
        updated = times.updated
        if above is not None and updated > above - STEP:
            updated = max(above - STEP, times.published)
        shown[article_id] = Times(times.published, updated)
        above = updated
    return shown
