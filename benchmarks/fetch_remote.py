"""Remote sources: what a conditional GET saves, and what scraping a big listing costs.

1. Fetch 50 feed sources (30-item RSS each) from a loopback HTTP server, three ways:
   - every source answers 304 (ETag sent back)                       -> the baseline
   - every source answers 200 with the unchanged body, no validators -> body hash shortcut
   - every source answers 200 and is parsed in full (no saved state) -> what 200s would cost
   Each round uses a fresh FetchSession (as one scheduler run does). Medians over rounds;
   ratios against the 304 round.
2. Scrape a 100-item Wix-style listing page (HtmlSource.fetch, no article pages), median time,
   against the bare lxml parse of the same page in the same run.

The server runs in this process (threads), so its time is included in every figure.

    .venv/bin/python benchmarks/fetch_remote.py [--sources 50] [--rounds 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import lxml.html

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


def one_round(configs: list[FeedSourceConfig], states: list[SourceState]) -> tuple[float, int]:
    """Fetch every source once with a fresh session; seconds taken and articles produced."""
    config = make_config(*[c.model_dump(mode="json") for c in configs[:1]])
    session = FetchSession("swfeed/bench")
    started = time.perf_counter()
    produced = 0
    for source_config, state in zip(configs, states, strict=True):
        result = FeedSource(source_config, config, session=session).fetch(state, NOW)
        produced += len(result.articles)
    return time.perf_counter() - started, produced


def median_round(
    configs: list[FeedSourceConfig], states: list[SourceState], rounds: int
) -> tuple[float, int]:
    timings = [one_round(configs, states) for _ in range(rounds)]
    return statistics.median(t for t, _ in timings), timings[-1][1]


def bench_feeds(server: FixtureServer, count: int, rounds: int) -> None:
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
    t304, n304 = median_round(cond, cond_states, rounds)
    t200, n200 = median_round(plain, plain_states, rounds)
    tfull, nfull = median_round(plain, empty, rounds)
    print(f"{count} feed sources, {rounds} rounds, median seconds per round:")
    for label, seconds, produced in (
        ("304 Not Modified", t304, n304),
        ("200 unchanged (hash skip)", t200, n200),
        ("200 parsed in full", tfull, nfull),
    ):
        per_source = seconds / count * 1000
        print(f"  {label:<26}{seconds:8.4f} s  ({per_source:.2f} ms/source, {produced} articles)")
    print(f"  ratio 200-unchanged / 304: {t200 / t304:.2f}x")
    print(f"  ratio 200-full-parse / 304: {tfull / t304:.2f}x")


def timed(work: Callable[[], Any], rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def bench_listing(server: FixtureServer, rounds: int) -> None:
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
    scrape = timed(
        lambda: HtmlSource(source_config, config, session=session).fetch({}, NOW), rounds
    )
    parse = timed(lambda: lxml.html.document_fromstring(page.encode()), rounds)
    print(f"100-item listing ({len(page) // 1024} KiB), {rounds} rounds:")
    print(f"  HtmlSource.fetch (HTTP + scrape) {scrape * 1000:8.2f} ms median")
    print(f"  bare lxml parse of the page      {parse * 1000:8.2f} ms median")
    print(f"  ratio fetch+scrape / bare parse: {scrape / parse:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with running() as server:
        bench_feeds(server, args.sources, args.rounds)
        bench_listing(server, args.rounds * 3)


if __name__ == "__main__":
    main()
