"""Making issues: ``ensure_issue`` freezes the period's issue once; ``preview_issue`` shows it.

The rule that keeps every article in exactly one issue: an issue takes up the visible
articles that no earlier (unskipped) issue took up, as they stood at its cutoff. The cutoff
is the end of the period, or ``now`` while the period is still running (an issue is named
after the week it is made in, so the Monday issue carries the week before it). Because the
rule counts articles rather than hours, a missed week, a 167- or 169-hour DST week, or a
story that appears late with an older date can neither skip nor repeat an article. The
newest ``max_articles`` are shown; the rest count as taken up too (they are not carried
forward), and the issue links to the site for everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from swfeed.config import Config
from swfeed.digest.archive import write_archive
from swfeed.digest.periods import cutoff_of, parse_period, period_of
from swfeed.digest.render import RenderedIssue, render_to_fit
from swfeed.digest.select import Selection, select_articles
from swfeed.digest.settings import digest_settings
from swfeed.digest.views import archive_url, article_view
from swfeed.errors import DigestError
from swfeed.models import DigestIssue, Headline
from swfeed.store import Database
from swfeed.store.issues import IssueConflict, IssueStore

ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Plan:
    """What an issue will contain, before rendering."""

    period: str
    cutoff: datetime
    previous_cutoff: datetime | None
    selection: Selection


def plan_issue(config: Config, db: Database, now: datetime, period: str) -> Plan:
    """Choose the articles of ``period``'s issue as of ``now``."""
    digest = digest_settings(config)
    store = IssueStore(db)
    newest = store.newest_period()
    if newest is not None and newest > period:
        raise DigestError(
            f"{period} is older than the newest issue, {newest}",
            hint="Issues are made in order, one per week: build the current week "
            "(leave out --period) or a later one.",
        )
    cutoff = cutoff_of(period, config.site.zone, now)
    selection = select_articles(store.untaken(cutoff), digest.max_articles)
    return Plan(period, cutoff, store.previous_cutoff(period), selection)


def issue_of(config: Config, plan: Plan, rendered: RenderedIssue, now: datetime) -> DigestIssue:
    """The issue to freeze: rendered content plus what the archive needs later."""
    shown = rendered.selection.articles
    views = [article_view(article, config, 0) for article in shown]
    return DigestIssue(
        period=plan.period,
        cutoff=plan.cutoff,
        subject=rendered.subject,
        html=rendered.html,
        text=rendered.text,
        article_ids=tuple(article.id for article in shown),
        created=now,
        previous_cutoff=plan.previous_cutoff,
        archive_url=archive_url(config, plan.period),
        headlines=tuple(Headline(view.title, view.url) for view in views),
        left_out=len(rendered.selection.left_out),
    )


def preview_issue(
    config: Config, db: Database, now: datetime, period: str | None = None
) -> DigestIssue:
    """The issue as recipients would get it, without freezing anything.

    A period that is already frozen shows its frozen issue (that is what gets sent).
    """
    period = period or period_of(now, config.site.zone)
    parse_period(period)
    frozen = IssueStore(db).get(period)
    if frozen is not None:
        return frozen
    plan = plan_issue(config, db, now, period)
    rendered = render_to_fit(config, plan.selection, plan.period, plan.cutoff)
    return issue_of(config, plan, rendered, now)


def ensure_issue(
    config: Config, db: Database, now: datetime, period: str | None = None
) -> DigestIssue | None:
    """The frozen issue of ``period`` (default: the week of ``now``), made if missing.

    Also (re)writes its web copy, the archive index and the issues feed. Returns None, and
    freezes nothing, when nothing is new and ``skip_when_empty`` is set. Idempotent.
    """
    digest = digest_settings(config)
    if not digest.enabled:
        raise DigestError(
            "the digest is switched off (digest.enabled: false)",
            hint="Set digest.enabled: true in the config; `swfeed digest preview` works meanwhile.",
        )
    period = period or period_of(now, config.site.zone)
    parse_period(period)
    store = IssueStore(db)
    if store.get(period) is None and store.status_of(period) == "skipped":
        raise DigestError(
            f"{period} was skipped: its digest time passed long before it could be sent",
            hint="Its stories go into the next issue; leave out --period to make that one.",
        )
    issue = store.get(period) or _freeze(config, db, now, period)
    if issue is not None:
        write_archive(config, issue, store.list())
    return issue


def _freeze(config: Config, db: Database, now: datetime, period: str) -> DigestIssue | None:
    store = IssueStore(db)
    for _attempt in range(ATTEMPTS):
        plan = plan_issue(config, db, now, period)
        if not plan.selection.articles and digest_settings(config).skip_when_empty:
            return None
        rendered = render_to_fit(config, plan.selection, plan.period, plan.cutoff)
        left_out = [article.id for article in rendered.selection.left_out]
        try:
            return store.create(issue_of(config, plan, rendered, now), left_out)
        except IssueConflict:
            continue
    raise DigestError(
        f"could not freeze {period}: other processes kept taking its articles",
        hint="Stop the other swfeed processes making digests, then run this again.",
    )
