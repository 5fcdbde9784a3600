"""WebSub (W3C Recommendation): telling hubs that feeds changed, so readers hear at once.

The feeds name each hub of ``feeds.websub.hubs`` (``<link rel="hub">``, JSON Feed ``hubs``);
after a build that changed feeds, ``queue`` records a ping owed to each hub for each changed
feed, and ``notify_hubs`` sends them: ``POST hub.mode=publish&hub.url=<feed URL>`` through
the guarded HTTP client of the sources (``feeds.websub.http``). A hub that fails is left
alone for longer and longer (as a failing source is) and tried again by a later build,
publish or daemon fetch; a failing hub never fails a build. The store keeps what is owed,
so nothing is lost to a crash or a restart.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from swfeed.config import Config
from swfeed.errors import SwfeedError
from swfeed.sources.http import FetchError, FetchSession, HttpClient, backoff_delay
from swfeed.sources.netguard import AddressPolicy
from swfeed.store import Database
from swfeed.store.pings import PingStore

CLIENT_NAME = "websub"
PRIVATE_HINT = "for a hub on your own network set feeds.websub.http.allow_private_addresses: true"


@dataclass(frozen=True, slots=True)
class HubReport:
    """What one hub was told: the feeds it took, and the error that stopped the rest."""

    hub: str
    pinged: tuple[str, ...]
    error: str | None = None
    retry_at: datetime | None = None
    waiting: int = 0


def hubs_of(config: Config) -> list[str]:
    return [str(hub) for hub in config.feeds.websub.hubs]


def queue(config: Config, db: Database, topics: Sequence[str], now: datetime) -> None:
    """Owe every configured hub a ping for each of ``topics`` (changed feeds' URLs)."""
    PingStore(db).queue(hubs_of(config), topics, now)


def notify_hubs(
    config: Config,
    db: Database,
    now: datetime,
    *,
    stop: threading.Event | None = None,
    session: FetchSession | None = None,
    policy: AddressPolicy | None = None,
) -> list[HubReport]:
    """Send every ping that is due; record what each hub took and when to retry the rest.

    With ``stop`` set (SIGTERM) no further ping starts; those left stay owed, due as before.
    """
    hubs = hubs_of(config)
    store = PingStore(db)
    store.forget_other_hubs(hubs)
    session = session or FetchSession.for_config(config)
    stop = stop or threading.Event()
    reports = []
    for hub in hubs:
        topics = store.due(hub, now)
        if topics and not stop.is_set():
            client = HttpClient(CLIENT_NAME, config.feeds.websub.http, session, policy=policy)
            with client:
                reports.append(_ping(hub, topics, client, store, now, stop))
    return reports


def next_due(config: Config, db: Database) -> datetime | None:
    """When a ping owed to a configured hub is next due (None: nothing is owed)."""
    hubs = hubs_of(config)
    return PingStore(db).next_due(hubs) if hubs else None


def _ping(
    hub: str,
    topics: Sequence[str],
    client: HttpClient,
    store: PingStore,
    now: datetime,
    stop: threading.Event,
) -> HubReport:
    """Ping ``hub`` for each topic in turn; at the first failure the rest wait with it."""
    taken: list[str] = []
    result = ""
    for topic in topics:
        if stop.is_set():
            break
        try:
            page = client.post_form(hub, [("hub.mode", "publish"), ("hub.url", topic)])
        except Exception as exc:  # whatever goes wrong, the build goes on; retried later
            store.done(hub, taken, now, result)
            error = _message(exc)
            retry = now + _delay(exc, store.attempts(hub) + 1)
            left = topics[len(taken) :]
            store.failed(hub, left, now, error, retry)
            return HubReport(hub, tuple(taken), error, retry, len(left))
        taken.append(topic)
        result = f"ok (HTTP {page.status})"
    store.done(hub, taken, now, result)
    return HubReport(hub, tuple(taken), waiting=len(topics) - len(taken))


def _message(exc: Exception) -> str:
    """What went wrong, for the log and ``swfeed status`` (with the fix where it is ours)."""
    if isinstance(exc, FetchError) and exc.reason == "refused":
        return f"{exc.message.removeprefix(f'source {CLIENT_NAME!r}: ')} ({PRIVATE_HINT})"
    if isinstance(exc, SwfeedError):
        return exc.message.removeprefix(f"source {CLIENT_NAME!r}: ")
    return f"unexpected {type(exc).__name__}: {exc}"


def _delay(exc: Exception, failures: int) -> timedelta:
    """As for a failing source: the next chance at once, then 15 minutes doubling to a day;
    longer if the hub asked for it (Retry-After)."""
    delay = backoff_delay(failures)
    if isinstance(exc, FetchError) and exc.retry_after:
        delay = max(delay, timedelta(seconds=exc.retry_after))
    return delay
