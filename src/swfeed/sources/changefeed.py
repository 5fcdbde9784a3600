"""A listing's change signal: a feed of the site's newest posts (on Wix, ``/blog-feed.xml``).

Asking a small feed whether anything changed is cheaper than scraping the listing, and
kinder to the site. The feed is fetched with conditional GET; a 304 means "unchanged". A
200 is compared by its posts (their ids or links, dates and titles), not its bytes, since a
platform may rewrite a feed's build date on every request. A body that is no feed counts by
its bytes. The listing is scraped only when the signal changed.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from swfeed.sources.http import HttpClient
from swfeed.sources.pages import Validators, page_validators
from swfeed.sources.upstream_entry import NotAFeed
from swfeed.sources.upstream_xml import parse_xml_feed

ACCEPT_CHANGE_FEED = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.1"


def posts_signature(text: str, url: str, zone: ZoneInfo, now: datetime) -> str:
    """A hash of the feed's posts (id or link, date, title); of the text if it is no feed."""
    try:
        feed = parse_xml_feed(text, url, zone, now)
    except NotAFeed:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
    posts = sorted(
        (entry.id or entry.link or "", _iso(entry.published or entry.updated), entry.title)
        for entry in feed.entries
    )
    return hashlib.sha256(json.dumps(posts).encode("utf-8")).hexdigest()


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


def changed_posts(
    client: HttpClient,
    url: str,
    state: dict[str, Any],
    zone: ZoneInfo,
    now: datetime,
    *,
    trusted: bool,
) -> Validators | None:
    """The change feed's new validators (``sha256``: its posts' signature) when its posts
    changed since ``state``, or None when they did not. ``trusted``: ``state`` may be used
    (same config, no ``--force``); otherwise the feed counts as changed."""
    known = page_validators(state, url) if trusted else None
    page = client.get(url, known, ACCEPT_CHANGE_FEED)
    if page.not_modified:
        return None
    signature = posts_signature(page.text("xml"), page.url, zone, now)
    if known is not None and known.sha256 == signature:
        return None
    fresh = page.validators
    return Validators(fresh.etag, fresh.last_modified, signature)
