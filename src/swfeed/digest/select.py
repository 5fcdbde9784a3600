"""Choosing an issue's articles: newest first, capped, the top one featured (pure).

The candidates are the articles no earlier issue took up (see ``IssueStore.untaken``);
this module only orders, caps and groups them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from swfeed.models import Article

OTHER_GROUP = "More news"


@dataclass(frozen=True, slots=True)
class Selection:
    """The articles an issue shows (newest first; the first is featured) and leaves out."""

    articles: tuple[Article, ...]
    left_out: tuple[Article, ...] = ()

    @property
    def featured(self) -> Article | None:
        return self.articles[0] if self.articles else None

    @property
    def rest(self) -> tuple[Article, ...]:
        return self.articles[1:]


def newest_first(articles: Iterable[Article]) -> list[Article]:
    """Published time, newest first; the id breaks ties so the order is stable."""
    by_id = sorted(articles, key=lambda article: article.id)
    return sorted(by_id, key=lambda article: article.published, reverse=True)


def select_articles(candidates: Iterable[Article], max_articles: int) -> Selection:
    """The newest ``max_articles`` candidates; the others are left out."""
    ordered = newest_first(candidates)
    return Selection(tuple(ordered[:max_articles]), tuple(ordered[max_articles:]))


def keep_newest(selection: Selection, count: int) -> Selection:
    """Only the newest ``count`` shown articles; the oldest join the left-out ones."""
    return Selection(selection.articles[:count], selection.articles[count:] + selection.left_out)


def group_by_category(articles: Sequence[Article]) -> list[tuple[str, list[Article]]]:
    """Articles grouped under their first category, groups in order of their newest story.

    Articles without a category go last, under "More news".
    """
    groups: dict[str, list[Article]] = {}
    for article in articles:
        name = article.categories[0] if article.categories else OTHER_GROUP
        groups.setdefault(name, []).append(article)
    if OTHER_GROUP in groups:
        groups[OTHER_GROUP] = groups.pop(OTHER_GROUP)
    return list(groups.items())
