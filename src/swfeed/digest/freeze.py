"""Making issues: ``ensure_issue`` freezes the period's issue once; ``preview_issue`` shows
exactly what it would freeze now, and freezes nothing.

The rule that keeps every article in at most one issue: an issue takes up the visible
articles that no earlier (unskipped) issue took up, as they stood at its cutoff. The cutoff
is the end of the period, or ``now`` while the period is still running (an issue is named
after the week it is made in, so the Monday issue carries the week before it). Because the
rule counts articles rather than hours, a missed week, a 167- or 169-hour DST week, or a
story that appears late with an older date can neither skip nor repeat an article.

Fresh news only: an issue shows only articles published within ``digest.max_age`` of its
cutoff. Older ones stay in the feeds but are taken up as left out (``too_old``), so neither
this issue nor a later one mails a back catalogue (a first issue, or a newly added source).
The newest ``max_articles`` fresh ones are shown; the rest count as taken up too.

A backfill: a week that is over, before the first issue ever made (or before any), takes
the articles *published* in that week, whenever swfeed first saw them, so the archive can
hold the weeks before swfeed ran. The sample's 2026-W02 holds the stories of 5 and 8
January 2026.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from swfeed.config import Config
from swfeed.digest.archive import archive_folder, feed_url, write_archive
from swfeed.digest.periods import cutoff_of, parse_period, period_bounds, period_of
from swfeed.digest.render import RenderedIssue, render_to_fit
from swfeed.digest.select import Selection, select_articles, split_by_age
from swfeed.digest.settings import digest_settings
from swfeed.digest.views import archive_url, article_view
from swfeed.errors import DigestError
from swfeed.models import Article, DigestIssue, Headline
from swfeed.store import Database
from swfeed.store.issues import IssueConflict, IssueStore

ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Plan:
    """What an issue will contain, before rendering. ``backfill``: a week before the first
    issue, taken by publication date; ``coming``: a week that has not started (preview)."""

    period: str
    cutoff: datetime
    previous_cutoff: datetime | None
    selection: Selection
    backfill: bool = False
    coming: bool = False


def plan_issue(
    config: Config, db: Database, now: datetime, period: str, *, coming: bool = False
) -> Plan:
    """Choose the articles of ``period``'s issue as of ``now``.

    A week that has not started is refused unless ``coming`` (a preview of it as things
    stand now: its cutoff is ``now``).
    """
    digest = digest_settings(config)
    store = IssueStore(db)
    start, end = period_bounds(period, config.site.zone)
    oldest, newest = store.oldest_period(), store.newest_period()
    backfill = end <= now and (oldest is None or period < oldest)
    if not backfill and newest is not None and newest > period:
        raise DigestError(
            f"{period} is older than the newest issue, {newest}",
            hint="Issues are made in order, one per week: build the current week "
            "(leave out --period) or a later one; only weeks before the first issue "
            f"({oldest}) can still be filled in from the archive.",
        )
    coming = coming and now < start
    cutoff = now if coming else cutoff_of(period, config.site.zone, now)
    if backfill:
        candidates = [a for a in store.untaken(now) if a.published < end]
        too_old_before = end - digest.max_age
        fresh, too_old = split_by_age(candidates, max(start, too_old_before), too_old_before)
    else:
        fresh, too_old = split_by_age(store.untaken(cutoff), cutoff - digest.max_age, cutoff)
    selection = select_articles(fresh, digest.max_articles, too_old)
    previous = store.previous_cutoff(period)
    return Plan(period, cutoff, previous, selection, backfill, coming)


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
        left_out=rendered.selection.more,
    )


@dataclass(frozen=True, slots=True)
class LeftOutLine:
    """An article the issue takes up without showing it, and why (see ``select.LEFT_OUT``)."""

    title: str
    published: datetime | None
    reason: str


@dataclass(frozen=True, slots=True)
class IssuePreview:
    """What ``digest freeze`` would freeze now (or has frozen), for ``digest preview``.

    ``refusal`` says why freezing it now would make no issue (None: it would be frozen as
    shown); ``plan`` is None for an issue that is already frozen.
    """

    issue: DigestIssue
    left_out: tuple[LeftOutLine, ...]
    frozen: bool
    refusal: str | None = None
    plan: Plan | None = None


def freeze_refusal(config: Config, store: IssueStore, period: str) -> str | None:
    """Why ``period``'s issue cannot be frozen at all, or None."""
    digest = digest_settings(config)
    if not digest.enabled:
        return "the digest is switched off (digest.enabled: false)"
    if store.get(period) is None and store.status_of(period) == "skipped":
        return f"{period} was skipped: its digest time passed long before it could be sent"
    return None


def preview_issue(
    config: Config, db: Database, now: datetime, period: str | None = None
) -> IssuePreview:
    """The issue as recipients would get it, and what it leaves out; freezes nothing.

    A frozen period shows its frozen issue (that is what gets sent); a coming week shows
    what it would hold as things stand now.
    """
    period = period or period_of(now, config.site.zone)
    parse_period(period)
    store = IssueStore(db)
    frozen = store.get(period)
    if frozen is not None:
        lines = tuple(
            LeftOutLine(
                item.article.title if item.article else item.article_id,
                item.article.published if item.article else None,
                item.reason or "over_cap",
            )
            for item in store.left_out(period)
        )
        return IssuePreview(frozen, lines, frozen=True)
    plan = plan_issue(config, db, now, period, coming=True)
    rendered = render_to_fit(config, plan.selection, plan.period, plan.cutoff)
    refusal = freeze_refusal(config, store, period) or _empty_refusal(config, plan)
    if plan.coming:
        refusal = refusal or f"{period} has not started: it can be frozen from its first day"
    return IssuePreview(
        issue_of(config, plan, rendered, now),
        _lines(rendered.selection),
        frozen=False,
        refusal=refusal,
        plan=plan,
    )


def _lines(selection: Selection) -> tuple[LeftOutLine, ...]:
    articles: dict[str, Article] = {
        a.id: a for a in (*selection.left_out, *selection.trimmed, *selection.too_old)
    }
    return tuple(
        LeftOutLine(articles[i].title, articles[i].published, reason)
        for i, reason in selection.reasons().items()
    )


def _empty_refusal(config: Config, plan: Plan) -> str | None:
    if plan.selection.articles or not digest_settings(config).skip_when_empty:
        return None
    return "nothing new, so no issue would be made (digest.skip_when_empty)"


def ensure_issue(
    config: Config, db: Database, now: datetime, period: str | None = None
) -> DigestIssue | None:
    """The frozen issue of ``period`` (default: the week of ``now``), made if missing.

    Also (re)writes its web copy, the archive index and the issues feed (and owes the
    WebSub hubs a ping when that feed changed). Returns None, and
    freezes nothing, when nothing is new and ``skip_when_empty`` is set. Idempotent.
    """
    period = period or period_of(now, config.site.zone)
    parse_period(period)
    store = IssueStore(db)
    refusal = freeze_refusal(config, store, period)
    if refusal is not None:
        hint = (
            "Set digest.enabled: true in the config; `swfeed digest preview` works meanwhile."
            if "switched off" in refusal
            else "Its stories go into the next issue; leave out --period to make that one."
        )
        raise DigestError(refusal, hint=hint)
    issue = store.get(period) or _freeze(config, db, now, period)
    if issue is not None:
        _owe_pings(config, db, write_archive(config, issue, store.list()), now)
    return issue


def _owe_pings(config: Config, db: Database, written: Sequence[Path], now: datetime) -> None:
    """Owe each WebSub hub a ping when the issues feed changed (``notify_hubs`` sends it)."""
    if config.feeds.websub.hubs and archive_folder(config) / "feed.xml" in written:
        from swfeed import websub

        websub.queue(config, db, [feed_url(config)], now)


def _freeze(config: Config, db: Database, now: datetime, period: str) -> DigestIssue | None:
    store = IssueStore(db)
    for _attempt in range(ATTEMPTS):
        plan = plan_issue(config, db, now, period)
        if _empty_refusal(config, plan) is not None:
            return None
        rendered = render_to_fit(config, plan.selection, plan.period, plan.cutoff)
        try:
            return store.create(issue_of(config, plan, rendered, now), rendered.selection.reasons())
        except IssueConflict:
            continue
    raise DigestError(
        f"could not freeze {period}: other processes kept taking its articles",
        hint="Stop the other swfeed processes making digests, then run this again.",
    )
