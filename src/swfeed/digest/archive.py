"""The web archive: ``digest/<period>.html`` per issue, ``digest/index.html`` listing them,
and ``digest/feed.xml``, an Atom feed of the issues themselves.

An issue's web copy is its frozen HTML with the per-recipient parts made generic: the
template marks them (``<!--swfeed:recipient-note-->...<!--/swfeed:recipient-note-->``, and
``unsubscribe-label``), and the web copy puts wording for readers on the web there (whose
"How to unsubscribe" link goes to the unsubscribe URL, which explains how without a token).
It never changes once written. The index
and feed list every issue except skipped ones (never sent), newest first, and carry no
build time, so an unchanged archive is rewritten byte for byte identical (not at all).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from swfeed.atomicfile import atomic_write
from swfeed.config import Config
from swfeed.delivery.settings import unsubscribe_url
from swfeed.digest.periods import period_label
from swfeed.digest.views import archive_url, issue_date
from swfeed.feeds.build import stylesheet_url
from swfeed.feeds.directory import index_url as feeds_index_url
from swfeed.feeds.times import Times, distinct_times
from swfeed.feeds.values import clean_text, rfc3339, to_uri
from swfeed.feeds.xmlout import NS_ATOM, XmlWriter
from swfeed.models import (
    PREFERENCES_URL_TOKEN,
    RECIPIENT_ADDRESS_TOKEN,
    UNSUBSCRIBE_URL_TOKEN,
    DigestIssue,
    Headline,
)
from swfeed.store.issues import IssueRecord
from swfeed.templating import SiteView, render_template, site_templates, site_view

FOLDER = "digest"
INDEX_TEMPLATE = "archive_index.html.j2"
RECIPIENT_IN_ARCHIVE = "you"  # only for templates without the markers below
_MARKED = re.compile(r"<!--swfeed:([a-z-]+)-->.*?<!--/swfeed:\1-->", re.DOTALL)


@dataclass(frozen=True, slots=True)
class ListedIssue:
    """One issue as the archive index and feed show it."""

    period: str
    label: str
    date: str
    subject: str
    url: str
    headlines: tuple[Headline, ...]
    issue: DigestIssue


def archive_folder(config: Config) -> Path:
    return config.output.path / FOLDER


def index_url(config: Config) -> str:
    return f"{config.output_base_url}{FOLDER}/"


def feed_url(config: Config) -> str:
    return f"{config.output_base_url}{FOLDER}/feed.xml"


def unsubscribe_page(config: Config) -> str:
    """Where the web copy's unsubscribe link goes: the unsubscribe URL (which explains how
    to unsubscribe when opened without a token), else, with no delivery, the site."""
    if config.delivery is None:
        return config.site.base_url
    return unsubscribe_url(config)


def web_wording(config: Config) -> dict[str, str]:
    """What the web copy says in place of each marked per-recipient part (plain text)."""
    return {
        "recipient-note": f"This is the web copy of the {config.site.title} weekly digest.",
        "unsubscribe-label": "How to unsubscribe",
        "preferences": "",
    }


def archive_copy(config: Config, issue: DigestIssue) -> str:
    """The issue's HTML for the web: generic wording in place of per-recipient parts."""
    wording = web_wording(config)

    def generic(match: re.Match[str]) -> str:
        found = wording.get(match[1])
        return match[0] if found is None else html.escape(found)

    page = _MARKED.sub(generic, issue.html)
    page = page.replace(UNSUBSCRIBE_URL_TOKEN, html.escape(unsubscribe_page(config)))
    page = page.replace(PREFERENCES_URL_TOKEN, html.escape(unsubscribe_page(config)))
    return page.replace(RECIPIENT_ADDRESS_TOKEN, RECIPIENT_IN_ARCHIVE)


def listed(config: Config, records: Sequence[IssueRecord]) -> list[ListedIssue]:
    """The issues the archive shows: all but skipped ones, newest first."""
    zone = config.site.zone
    return [
        ListedIssue(
            period=record.issue.period,
            label=period_label(record.issue.period),
            date=issue_date(record.issue.cutoff, zone),
            subject=record.issue.subject,
            url=record.issue.archive_url or archive_url(config, record.issue.period),
            headlines=record.issue.headlines,
            issue=record.issue,
        )
        for record in sorted(records, key=lambda r: r.issue.period, reverse=True)
        if record.status != "skipped"
    ]


def render_index(config: Config, issues: Sequence[ListedIssue]) -> str:
    """The archive's ``index.html``."""
    env = site_templates(config)
    site: SiteView = site_view(config)
    return render_template(
        env,
        INDEX_TEMPLATE,
        site=site,
        issues=issues,
        feed_url=feed_url(config),
        feeds_url=feeds_index_url(config),
    )


def issues_feed(config: Config, issues: Sequence[ListedIssue], updated: datetime) -> bytes:
    """An Atom 1.0 feed of the issues (for readers who prefer a feed to the email), naming
    the WebSub hubs of ``feeds.websub`` as the site's feeds do.

    ``updated`` is when the list last changed: the newest issue's creation, or a later
    skip that removed one (so the feed carries no build time and stays byte-stable).
    """
    out = XmlWriter(stylesheet=stylesheet_url(config))
    out.start("feed", xmlns=NS_ATOM, **{"xml:lang": config.site.language})
    out.leaf("id", to_uri(index_url(config)))
    out.leaf("title", clean_text(f"{config.site.title} weekly digest"))
    out.leaf("updated", rfc3339(updated))
    links = (
        ("self", "application/atom+xml", feed_url(config)),
        ("alternate", "text/html", index_url(config)),
    )
    for rel, kind, url in links:
        out.leaf("link", rel=rel, type=kind, href=to_uri(url))
    for hub in config.feeds.websub.hubs:
        out.leaf("link", rel="hub", href=to_uri(str(hub)))
    out.start("author")
    out.leaf("name", clean_text(config.site.author.name))
    out.end("author")
    made = ((item.period, Times(item.issue.created, item.issue.created)) for item in issues)
    shown = distinct_times(made)  # issues frozen in one second (a backfill run) differ
    for item in issues:
        _feed_entry(out, item, shown[item.period])
    out.end("feed")
    return out.document()


def _feed_entry(out: XmlWriter, item: ListedIssue, times: Times) -> None:
    out.start("entry")
    out.leaf("id", to_uri(item.url))
    out.leaf("title", clean_text(item.subject))
    out.leaf("link", rel="alternate", type="text/html", href=to_uri(item.url))
    out.leaf("published", rfc3339(times.published))
    out.leaf("updated", rfc3339(times.updated))
    links = "".join(
        f'<li><a href="{html.escape(to_uri(h.url))}">{html.escape(h.title)}</a></li>'
        for h in item.headlines
    )
    body = f"<p>{html.escape(item.label)}, {html.escape(item.date)}</p><ul>{links}</ul>"
    out.leaf("content", clean_text(body), type="html")
    out.end("entry")


def write_archive(config: Config, issue: DigestIssue, records: Sequence[IssueRecord]) -> list[Path]:
    """Write the issue's web copy, the index and the feed; return the files that changed."""
    folder = archive_folder(config)
    issues = listed(config, records)
    changes = [r.status_changed for r in records if r.status == "skipped" and r.status_changed]
    updated = max([issue.created, *(r.issue.created for r in records), *changes])
    files = {
        folder / f"{issue.period}.html": archive_copy(config, issue).encode("utf-8"),
        folder / "index.html": render_index(config, issues).encode("utf-8"),
        folder / "feed.xml": issues_feed(config, issues, updated),
    }
    return [path for path, data in files.items() if atomic_write(path, data)]
