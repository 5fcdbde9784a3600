"""Remote sources: what a conditional GET saves, and what scraping a big listing costs.

1. Fetch 50 feed sources (30-item RSS each) from a loopback HTTP server, three ways:
   - every source answers 304 (ETag sent back)                       -> the baseline
   - every source answers 200 with the unchanged body, no validators -> body hash shortcut
   - every source answers 200 and is parsed in full (no saved state) -> what 200s would cost
   Each round uses a fresh FetchSession (as one scheduler run does); the three take turns.
   Ratios against the 304 round.
2. Scrape a 100-item Wix-style listing page (HtmlSource.fetch, no article pages) against
   the bare lxml parse of the same page, taking turns.

Medians and min–max of CPU and wall time. The server runs in this process (threads), so its
time is included in every figure.

    .venv/bin/python benchmarks/fetch_remote.py [--sources 50] [--runs 7]
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

import lxml.html
from timing import Side, alternate, in_process, report

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.httpfixture import (
    DATA,
    FAST_HTTP,
    FixtureServer,
    body,
    conditional,
    make_config,
    running,
)

from swfeed.config import FeedSourceConfig, HtmlSourceConfig
from swfeed.sources import SourceState
from swfeed.sources.html import HtmlSource
from swfeed.sources.http import FetchSession
from swfeed.sources.upstream import FeedSource

NOW = datetime(2026, 1, 10, 12, tzinfo=UTC)
RSS_TYPE = "application/rss+xml; charset=utf-8"
LISTING_SELECTORS = {
    "item": 'article[data-hook="post-list-item"]',
    "title": '[data-hook="post-title"]',
    "link": '[data-hook="post-title"] a',
    "date": '[data-hook="time-ago"]',
    "summary": '[data-hook="post-description"]',
    "image": '[data-hook="post-list-item__image"] img',
    "category": '[data-hook="post-categories"] li',
}


def make_rss(index: int, items: int = 30) -> bytes:
    """A partner feed of ``items`` entries with ~1 KB of HTML each."""
    paragraph = "<p>Women peacekeepers and mediators met to review the mandate. " * 12 + "</p>"
    entries = "".join(
        f"<item><title>Feed {index} story {n}: women in peace operations</title>"
        f"<link>https://partner{index}.example.org/news/{n}</link>"
        f"<guid>https://partner{index}.example.org/news/{n}</guid>"
        f"<pubDate>Thu, 08 Jan 2026 {n % 24:02d}:00:00 GMT</pubDate>"
        f"<category>Women, Peace and Security</category>"
        f"<description><![CDATA[{paragraph}]]></description></item>"
        for n in range(items)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Partner {index}</title><link>https://partner{index}.example.org/</link>"
        f"<description>Partner feed</description>{entries}</channel></rss>"
    ).encode()


def make_listing(items: int = 100) -> str:
    """The Wix fixture's first card repeated ``items`` times with distinct slugs."""
    page = (DATA / "wix" / "news.html").read_text(encoding="utf-8")
    start = page.index('      <article data-hook="post-list-item"')
    end = page.index("</article>", start) + len("</article>")
    card = page[start:end]
    slug = "wps-in-peacekeeping-gender-perceptions-and-gaps-in-mandate-integration"
    cards = "\n".join(card.replace(slug, f"{slug}-{n}") for n in range(items))
    list_end = page.index("    </div>\n    <nav")
    return page[:start] + cards + "\n" + page[list_end:]


def feed_sources(server: FixtureServer, prefix: str, count: int) -> list[FeedSourceConfig]:
    entries = [
        {
            "kind": "feed",
            "name": f"p{n:02d}",
            "url": server.url(f"/{prefix}/{n}.rss"),
            "http": FAST_HTTP,
        }
        for n in range(count)
    ]
    configs = make_config(*entries).sources
    return [c for c in configs if isinstance(c, FeedSourceConfig)]


def round_side(configs: list[FeedSourceConfig], states: list[SourceState]) -> Side:
    """A side that fetches every source once with a fresh session (one scheduler run)."""
    config = make_config(*[c.model_dump(mode="json") for c in configs[:1]])

    def fetch_all() -> None:
        session = FetchSession("swfeed/bench")
        for source_config, state in zip(configs, states, strict=True):
            FeedSource(source_config, config, session=session).fetch(state, NOW)

    return in_process(fetch_all)


def bench_feeds(server: FixtureServer, count: int, runs: int) -> None:
    for n in range(count):
        rss = make_rss(n)
        server.serve(
            f"/cond/{n}.rss", conditional(rss, RSS_TYPE, f'"e{n}"', "Thu, 08 Jan 2026 10:00:00 GMT")
        )
        server.serve(f"/plain/{n}.rss", body(rss, RSS_TYPE))
    cond, plain = feed_sources(server, "cond", count), feed_sources(server, "plain", count)
    empty: list[SourceState] = [{} for _ in range(count)]
    config = make_config(*[c.model_dump(mode="json") for c in cond[:1]])
    session = FetchSession("swfeed/bench")
    cond_states = [FeedSource(c, config, session=session).fetch({}, NOW).state for c in cond]
    plain_states = [FeedSource(c, config, session=session).fetch({}, NOW).state for c in plain]
    samples = alternate(
        {
            "304 Not Modified": round_side(cond, cond_states),
            "200 unchanged (hash skip)": round_side(plain, plain_states),
            "200 parsed in full": round_side(plain, empty),
        },
        runs,
    )
    title = f"{count} feed sources, one round each (the server runs in this process)"
    report(title, samples, "304 Not Modified")
    per_source = samples["304 Not Modified"].median("wall") / count * 1000
    print(f"  304 round: {per_source:.2f} ms (wall) per source")


def bench_listing(server: FixtureServer, runs: int) -> None:
    page = make_listing(100)
    url = server.serve("/listing", body(page))
    entry = {
        "kind": "html",
        "name": "site-news",
        "url": url,
        "selectors": LISTING_SELECTORS,
        "max_items": 1000,
        "http": FAST_HTTP,
    }
    config = make_config(entry)
    source_config = config.sources[0]
    assert isinstance(source_config, HtmlSourceConfig)
    session = FetchSession("swfeed/bench")
    result = HtmlSource(source_config, config, session=session).fetch({}, NOW)
    assert len(result.articles) == 100, len(result.articles)
    assert not result.errors, result.errors
    samples = alternate(
        {
            "bare lxml parse": in_process(lambda: lxml.html.document_fromstring(page.encode())),
            "HtmlSource.fetch": in_process(
                lambda: HtmlSource(source_config, config, session=session).fetch({}, NOW)
            ),
        },
        runs,
    )
    title = f"100-item listing ({len(page) // 1024} KiB): HTTP + scrape against a bare parse"
    report(title, samples, "bare lxml parse")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=50)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with running() as server:
        bench_feeds(server, args.sources, args.runs)
        bench_listing(server, args.runs * 3)


if __name__ == "__main__":
    main()
