"""``swfeed status``: what the service did last and will do next, gathered from the store.

``gather_status`` reads the store (sources, articles, issues and their delivery ledger, the
WebSub hubs' last pings), each source's last poll (``store.polls``) and the daemon's lock
and info file; ``render_text`` and ``to_json`` present it. With a config that does not load,
``gather_store_status`` shows what the store alone knows, and the config's errors. Nothing
here writes anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from swfeed.config import Config
from swfeed.daemon.lock import DaemonInfo, running_daemon
from swfeed.digest.due import digest_enabled, next_digest_time
from swfeed.models import Article
from swfeed.plaintext import plural
from swfeed.store import Database
from swfeed.store.articles import ArticleStore
from swfeed.store.bounces import BounceStore, Rates
from swfeed.store.deliveries import DeliveryStore, State
from swfeed.store.issues import IssueRecord, IssueStore, SkippedPeriod
from swfeed.store.pings import HubSummary, PingStore
from swfeed.store.polls import Poll, read_polls

COUNTED_STATES = ("sent", "deferred", "failed", "unknown", "pending")


@dataclass(frozen=True, slots=True)
class SourceLine:
    name: str
    kind: str
    last_fetch: datetime | None
    last_ok: datetime | None
    last_result: str | None
    failures: int
    next_attempt: datetime | None
    last_poll: Poll | None = None


@dataclass(frozen=True, slots=True)
class IssueLine:
    period: str
    status: str
    created: datetime
    articles: int
    note: str | None
    deliveries: dict[str, int]
    next_retry: datetime | None = None
    rates: Rates | None = None


@dataclass(frozen=True, slots=True)
class Status:
    now: datetime
    zone: ZoneInfo
    sources: list[SourceLine]
    article_count: int
    newest: Article | None
    daemon: DaemonInfo | None
    next_fetch: datetime | None
    next_digest: datetime | None
    digest_schedule: str | None
    issues: list[IssueLine]
    hubs: list[HubSummary] = field(default_factory=list)
    config_errors: list[str] = field(default_factory=list)


def gather_status(config: Config, db: Database, now: datetime, issue_limit: int = 5) -> Status:
    """Everything ``swfeed status`` shows, read from the store and the daemon lock."""
    articles = ArticleStore(db)
    daemon = running_daemon(config.store.path)
    enabled = digest_enabled(config)
    next_digest = next_digest_time(config.schedule, config.site.zone, now) if enabled else None
    if daemon is not None and daemon.next_digest is not None:
        next_digest = daemon.next_digest
    newest = articles.latest(now, 1)
    polls = read_polls(config.store.path)
    return Status(
        now=now,
        zone=config.site.zone,
        sources=[
            _source_line(articles, source.name, source.kind, polls.get(source.name))
            for source in config.sources
        ],
        article_count=articles.count(),
        newest=newest[0] if newest else None,
        daemon=daemon,
        next_fetch=daemon.next_fetch if daemon else None,
        next_digest=next_digest,
        digest_schedule=f"{config.schedule.digest} {config.site.timezone}" if enabled else None,
        issues=_issue_lines(db, issue_limit),
        hubs=[PingStore(db).summary(str(hub)) for hub in config.feeds.websub.hubs],
    )


def gather_store_status(
    db: Database, store: Path, now: datetime, errors: list[str], issue_limit: int = 5
) -> Status:
    """What the store alone knows when the config does not load (times in UTC), and the
    config's ``errors``: its sources' last fetches, articles, issues, the daemon."""
    articles = ArticleStore(db)
    polls = read_polls(store)
    daemon = running_daemon(store)
    newest = articles.latest(now, 1)
    return Status(
        now=now,
        zone=ZoneInfo("UTC"),
        sources=[_source_line(articles, name, "", polls.get(name)) for name in articles.sources()],
        article_count=articles.count(),
        newest=newest[0] if newest else None,
        daemon=daemon,
        next_fetch=daemon.next_fetch if daemon else None,
        next_digest=daemon.next_digest if daemon else None,
        digest_schedule=None,
        issues=_issue_lines(db, issue_limit),
        config_errors=errors,
    )


def _source_line(articles: ArticleStore, name: str, kind: str, poll: Poll | None) -> SourceLine:
    state = articles.source_status(name)
    return SourceLine(
        name=name,
        kind=kind,
        last_fetch=state.last_fetch,
        last_ok=state.last_ok,
        last_result=state.last_result,
        failures=state.failures,
        next_attempt=state.next_attempt,
        last_poll=poll,
    )


def _issue_lines(db: Database, limit: int) -> list[IssueLine]:
    """The newest ``limit`` issues, then any older one still being finished."""
    ledger = DeliveryStore(db)
    issues = IssueStore(db)
    records = issues.list(limit)
    shown = {record.issue.period for record in records}
    for period in reversed(ledger.unfinished_periods()):
        record = issues.record(period)
        if period not in shown and record is not None:
            records.append(record)
    bounces = BounceStore(db)
    lines = [_issue_line(ledger, bounces, record) for record in records]
    lines += [_skipped_line(skip) for skip in issues.skipped(limit)]
    lines.sort(key=lambda line: line.period, reverse=True)
    return lines


def _skipped_line(skip: SkippedPeriod) -> IssueLine:
    return IssueLine(
        period=skip.period,
        status="skipped",
        created=skip.decided,
        articles=0,
        note=f"not sent: {skip.reason}",
        deliveries=dict.fromkeys(COUNTED_STATES, 0),
    )


def _issue_line(ledger: DeliveryStore, bounces: BounceStore, record: IssueRecord) -> IssueLine:
    counts = ledger.counts(record.issue.period)
    return IssueLine(
        period=record.issue.period,
        status=record.status,
        created=record.issue.created,
        articles=len(record.issue.article_ids),
        note=record.note,
        deliveries={state: counts.get(State(state), 0) for state in COUNTED_STATES},
        next_retry=ledger.next_retry(record.issue.period),
        rates=bounces.rates(record.issue.period),
    )


def render_text(status: Status) -> str:
    """The report for a terminal, times in the site's zone."""
    lines = [*_config_lines(status), _daemon_text(status)]
    lines.append("sources:")
    lines += [f"  {_source_text(source, status.zone)}" for source in status.sources]
    lines.append(f"articles: {status.article_count}")
    if status.newest is not None:
        newest = status.newest
        lines.append(f"  newest: {newest.title} ({_when(newest.published, status.zone)})")
    lines.append(f"next fetch: {_next_fetch_text(status)}")
    lines.append(f"next digest: {_next_digest_text(status)}")
    lines.append("issues:" if status.issues else "issues: none yet")
    lines += [f"  {_issue_text(issue, status.zone)}" for issue in status.issues]
    if status.hubs:
        lines.append("websub hubs:")
        lines += [f"  {_hub_text(hub, status.zone)}" for hub in status.hubs]
    return "\n".join(lines)


def _hub_text(hub: HubSummary, zone: ZoneInfo) -> str:
    """A hub's last ping and its result, and the pings still owed to it."""
    if hub.last_attempt is None:
        text = f"{hub.hub}: never pinged"
    else:
        text = f"{hub.hub}: last ping {_when(hub.last_attempt, zone)}: {hub.last_result}"
    if hub.pending:
        retry = f", next attempt {_when(hub.next_attempt, zone)}" if hub.next_attempt else ""
        text += f"; {plural(hub.pending, 'feed')} waiting{retry}"
    return text


def _config_lines(status: Status) -> list[str]:
    if not status.config_errors:
        return []
    count = plural(len(status.config_errors), "error")
    lines = [f"config: {count}; below is what the store knows (times in UTC)"]
    for error in status.config_errors:
        lines += [f"  {line}" for line in error.splitlines()]
    return lines


def _daemon_text(status: Status) -> str:
    daemon = status.daemon
    if daemon is None:
        return "daemon: not running"
    since = f", since {_when(daemon.started, status.zone)}" if daemon.started else ""
    text = f"daemon: running (pid {daemon.pid}{since})"
    if daemon.rejected_at is not None:
        text += (
            f"\n  a reload was rejected {_when(daemon.rejected_at, status.zone)}: "
            f"{daemon.rejected}\n  it runs with the config it had before: fix the file, "
            "`swfeed check`, then reload again"
        )
    return text


def _source_text(source: SourceLine, zone: ZoneInfo) -> str:
    head = f"{source.name} ({source.kind}): " if source.kind else f"{source.name}: "
    if source.last_fetch is None:
        return head + "never fetched"
    if source.failures:
        retry = f"; next attempt {_when(source.next_attempt, zone)}" if source.next_attempt else ""
        error = (source.last_result or "").splitlines()[0] if source.last_result else ""
        return (
            f"{head}FAILING ({source.failures} in a row, last {_when(source.last_fetch, zone)})"
            f"{retry}: {error}"
        )
    changed = f"{_when(source.last_fetch, zone)}: {source.last_result or ''}"
    poll = source.last_poll
    if poll is None or poll.at <= source.last_fetch:
        return f"{head}ok, last fetch {changed}"
    return f"{head}ok, last poll {_when(poll.at, zone)} ({poll.outcome}); last change {changed}"


def _next_fetch_text(status: Status) -> str:
    if status.next_fetch is not None:
        return _when(status.next_fetch, status.zone)
    return "none (the daemon is not running; `swfeed run` fetches on a schedule)"


def _next_digest_text(status: Status) -> str:
    if status.next_digest is None and status.config_errors:
        return "unknown: the config does not load"
    if status.next_digest is None:
        return "off (no digest or delivery section, or digest.enabled is false)"
    schedule = f" ({status.digest_schedule})" if status.digest_schedule else ""
    text = f"{_when(status.next_digest, status.zone)}{schedule}"
    return text if status.daemon else text + ", when the daemon runs"


def _issue_text(issue: IssueLine, zone: ZoneInfo) -> str:
    note = f" ({issue.note})" if issue.note else ""
    note = _finishing_text(issue, zone) + note
    head = f"{issue.period}  {issue.status:<8}"
    if not any(issue.deliveries.values()):
        return f"{head} {plural(issue.articles, 'article')}{note}"
    counts = ", ".join(
        f"{state} {count}"
        for state, count in issue.deliveries.items()
        if count or state != "pending"
    )
    return f"{head} {plural(issue.articles, 'article')}; {counts}{_rates_text(issue)}{note}"


def _rates_text(issue: IssueLine) -> str:
    """``; hard bounces 2 (0.7%), complaints 1 (0.33%)`` once messages were handed over."""
    rates = issue.rates
    if rates is None or not rates.handed_over:
        return ""
    return (
        f"; hard bounces {rates.hard} ({rates.hard_rate:.1%}), "
        f"complaints {rates.complaints} ({rates.complaint_rate:.2%})"
    )


def _finishing_text(issue: IssueLine, zone: ZoneInfo) -> str:
    """For an issue whose sending started: what is left, which the daemon keeps sending
    (however late) until every recipient has had it once."""
    pending, deferred = issue.deliveries["pending"], issue.deliveries["deferred"]
    if issue.status != "sending" or not (pending or deferred):
        return ""
    retry = f" (next retry {_when(issue.next_retry, zone)})" if issue.next_retry else ""
    return f"; being finished{retry}"


def _when(moment: datetime | None, zone: ZoneInfo) -> str:
    if moment is None:
        return "-"
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def to_json(status: Status) -> dict[str, Any]:
    """The same report as JSON-ready data (times in ISO 8601)."""
    daemon = status.daemon
    return {
        "now": status.now.isoformat(),
        "daemon": {
            "running": daemon is not None,
            "pid": daemon.pid if daemon else None,
            "reload_rejected_at": _iso(daemon.rejected_at) if daemon else None,
            "reload_rejected": daemon.rejected if daemon else None,
        },
        "config_errors": status.config_errors,
        "sources": [_source_json(source) for source in status.sources],
        "articles": status.article_count,
        "newest_article": _newest_json(status.newest),
        "next_fetch": _iso(status.next_fetch),
        "next_digest": _iso(status.next_digest),
        "issues": [_issue_json(issue) for issue in status.issues],
        "websub_hubs": [_hub_json(hub) for hub in status.hubs],
    }


def _hub_json(hub: HubSummary) -> dict[str, Any]:
    return {
        "hub": hub.hub,
        "last_ping": _iso(hub.last_attempt),
        "last_result": hub.last_result,
        "waiting": hub.pending,
        "next_attempt": _iso(hub.next_attempt),
    }


def _source_json(source: SourceLine) -> dict[str, Any]:
    return {
        "name": source.name,
        "kind": source.kind,
        "last_fetch": _iso(source.last_fetch),
        "last_ok": _iso(source.last_ok),
        "last_result": source.last_result,
        "failures": source.failures,
        "next_attempt": _iso(source.next_attempt),
        "last_poll": _iso(source.last_poll.at) if source.last_poll else None,
        "last_poll_outcome": source.last_poll.outcome if source.last_poll else None,
    }


def _newest_json(article: Article | None) -> dict[str, Any] | None:
    if article is None:
        return None
    return {"id": article.id, "title": article.title, "published": article.published.isoformat()}


def _issue_json(issue: IssueLine) -> dict[str, Any]:
    return {
        "period": issue.period,
        "status": issue.status,
        "created": issue.created.isoformat(),
        "articles": issue.articles,
        "note": issue.note,
        "deliveries": issue.deliveries,
        "next_retry": _iso(issue.next_retry),
        "bounces": _rates_json(issue.rates),
    }


def _rates_json(rates: Rates | None) -> dict[str, Any] | None:
    if rates is None:
        return None
    return {
        "handed_over": rates.handed_over,
        "hard": rates.hard,
        "hard_rate": round(rates.hard_rate, 4),
        "complaints": rates.complaints,
        "complaint_rate": round(rates.complaint_rate, 4),
        "policy": rates.policy,
        "soft": rates.soft,
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
