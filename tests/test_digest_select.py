"""Choosing an issue's articles: newest first, capped, the top one featured, grouped."""

from __future__ import annotations

from datetime import UTC, datetime

from swfeed.digest.select import (
    OTHER_GROUP,
    group_by_category,
    keep_newest,
    newest_first,
    select_articles,
)
from tests.test_digest_support import make_article


def test_newest_first_with_stable_ties() -> None:
    """Newest published first; equal times fall back to the id, whatever the input order."""
    same = datetime(2026, 1, 1, 11, 30, tzinfo=UTC)
    articles = [make_article(1), make_article(3, same), make_article(2, same), make_article(4)]
    ordered = [a.id[-1] for a in newest_first(articles)]
    assert ordered == ["4", "2", "3", "1"]
    assert newest_first(reversed(articles)) == newest_first(articles)


def test_cap_keeps_the_newest_and_features_the_top() -> None:
    """Over max_articles, the oldest are left out; the newest is featured."""
    selection = select_articles([make_article(n) for n in range(1, 8)], 5)
    assert [a.id[-1] for a in selection.articles] == ["7", "6", "5", "4", "3"]
    assert [a.id[-1] for a in selection.left_out] == ["2", "1"]
    assert selection.featured is not None
    assert selection.featured.id.endswith("7")
    assert len(selection.rest) == 4


def test_empty_selection_has_no_featured_story() -> None:
    """No candidates: nothing featured, nothing left out."""
    selection = select_articles([], 5)
    assert selection.featured is None
    assert selection.articles == selection.left_out == ()


def test_keep_newest_moves_the_oldest_to_trimmed() -> None:
    """Trimming keeps the newest; the dropped ones are trimmed, the capped ones stay over."""
    selection = keep_newest(select_articles([make_article(n) for n in range(1, 6)], 4), 2)
    assert [a.id[-1] for a in selection.articles] == ["5", "4"]
    assert [a.id[-1] for a in selection.trimmed] == ["3", "2"]
    assert [a.id[-1] for a in selection.left_out] == ["1"]
    assert selection.more == 3
    reasons = {key[-1]: value for key, value in selection.reasons().items()}
    assert reasons == {"3": "too_big", "2": "too_big", "1": "over_cap"}


def test_groups_follow_their_newest_story_with_uncategorised_last() -> None:
    """Groups are ordered by their newest story; articles without category go last."""
    articles = newest_first(
        [
            make_article(1, categories=("Policing",)),
            make_article(2, categories=()),
            make_article(3, categories=("Peacekeeping", "Policing")),
            make_article(4, categories=("Policing",)),
        ]
    )
    groups = [(name, [a.id[-1] for a in members]) for name, members in group_by_category(articles)]
    assert groups == [("Policing", ["4", "1"]), ("Peacekeeping", ["3"]), (OTHER_GROUP, ["2"])]
