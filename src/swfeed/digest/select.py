"""Choosing an issue's articles: fresh ones only, newest first, capped, the top one featured
(pure).

The candidates are the articles no earlier issue took up (see ``IssueStore.untaken``); this
module splits off the ones too old for the issue (``split_by_age``), then orders, caps and
groups the rest. Every article an issue takes up without showing it is left out for a
reason (``LEFT_OUT``), recorded in the store, so no later issue offers it again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from swfeed.models import Article

OTHER_GROUP = "More news"

OVER_CAP = "over_cap"
TOO_BIG = "too_big"
TOO_OLD = "too_old"
LEFT_OUT = {
    OVER_CAP: "more than digest.max_articles",
    TOO_BIG: "dropped to fit digest.max_html_bytes",
    TOO_OLD: "published more than digest.max_age before the cutoff",
}
"""Why an issue took an article up without showing it, and what that means."""


@dataclass(frozen=True, slots=True)
class Selection:
    """The articles an issue shows (newest first; the first is featured) and the ones it
    takes up without showing: over the cap (``left_out``), dropped to fit the size budget
    (``trimmed``), or too old for it (``too_old``)."""

    articles: tuple[Article, ...]
    left_out: tuple[Article, ...] = ()
    too_old: tuple[Article, ...] = ()
    trimmed: tuple[Article, ...] = ()

    @property
    def featured(self) -> Article | None:
        return self.articles[0] if self.articles else None

    @property
    def rest(self) -> tuple[Article, ...]:
        return self.articles[1:]

    @property
    def more(self) -> int:
        """How many fresh stories the issue does not show (the cap, the size budget)."""
        return len(self.left_out) + len(self.trimmed)

    def reasons(self) -> dict[str, str]:
        """Article id -> why it is left out, for every article taken up but not shown."""
        found = {article.id: TOO_OLD for article in self.too_old}
        found.update({article.id: OVER_CAP for article in self.left_out})
        found.update({article.id: TOO_BIG for article in self.trimmed})
        return found


def newest_first(articles: Iterable[Article]) -> list[Article]:
    """Published time, newest first; the id breaks ties so the order is stable."""
    by_id = sorted(articles, key=lambda article: article.id)
    return sorted(by_id, key=lambda article: article.published, reverse=True)


def split_by_age(
    candidates: Iterable[Article], fresh_since: datetime, too_old_before: datetime
) -> tuple[list[Article], list[Article]]:
    """(fresh: published at or after ``fresh_since``, too old: published before
    ``too_old_before``); anything in between belongs to neither (an earlier week's)."""
    fresh: list[Article] = []
    too_old: list[Article] = []
    for article in candidates:
        if article.published >= fresh_since:
            fresh.append(article)
        elif article.published < too_old_before:
            too_old.append(article)
    return fresh, too_old


def select_articles(
    candidates: Iterable[Article], max_articles: int, too_old: Sequence[Article] = ()
) -> Selection:
    """The newest ``max_articles`` candidates; the others are left out (so are ``too_old``)."""
    ordered = newest_first(candidates)
    shown, over = tuple(ordered[:max_articles]), tuple(ordered[max_articles:])
    return Selection(shown, over, tuple(newest_first(too_old)))


def keep_newest(selection: Selection, count: int) -> Selection:
    """Only the newest ``count`` shown articles; the others count as trimmed (to fit)."""
    return Selection(
        selection.articles[:count],
        selection.left_out,
        selection.too_old,
        selection.articles[count:] + selection.trimmed,
    )


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
