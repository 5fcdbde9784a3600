"""Topic variants of an issue: what the subscribers with one topic set get (pure rendering).

An issue is chosen and frozen for everyone (its web copy is the whole issue). When sending
starts, each distinct topic set among the recipients gets its version: the issue's shown
stories whose categories are among the topics, rendered once with the same templates and
shared by everyone with that set. A set that takes every story gets the issue itself; a
set with nothing new that week gets nothing. ``delivery.send`` freezes the versions with
the recipient list, so they never change after.
"""

from __future__ import annotations

from swfeed.config import Config
from swfeed.digest.render import render_issue
from swfeed.digest.select import Selection
from swfeed.models import Article, DigestIssue
from swfeed.slug import slugify
from swfeed.store import Database
from swfeed.store.articles import ArticleStore
from swfeed.store.deliveries import Variant


def on_topics(articles: tuple[Article, ...], topics: str) -> tuple[Article, ...]:
    """The articles with a category among ``topics`` (all of them for '')."""
    if not topics:
        return articles
    wanted = set(topics.split(","))
    return tuple(a for a in articles if wanted & {slugify(name) for name in a.categories})


class TopicVariants:
    """Makes the variants of one frozen issue (``delivery.send.Variants``)."""

    def __init__(self, config: Config, db: Database, issue: DigestIssue) -> None:
        self.config = config
        self.issue = issue
        store = ArticleStore(db)
        found = (store.get(article_id) for article_id in issue.article_ids)
        self.articles = tuple(article for article in found if article is not None)

    def __call__(self, topics: str) -> Variant | None:
        if not topics:
            return Variant("")  # every topic: the issue as it was frozen
        chosen = on_topics(self.articles, topics)
        if not chosen:
            return None
        if len(chosen) == len(self.issue.article_ids):
            return Variant("")
        rendered = render_issue(
            self.config, Selection(chosen), self.issue.period, self.issue.cutoff
        )
        ids = tuple(article.id for article in chosen)
        return Variant(topics, rendered.subject, rendered.html, rendered.text, ids)
