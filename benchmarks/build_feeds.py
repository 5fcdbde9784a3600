"""Benchmark: building every feed from a 5,000-article SQLite store, against bare lxml.

Fills a real store (``swfeed.store.Database`` + ``ArticleStore.apply_fetch``) in a temp
folder with N articles spread over C categories, then times, as medians of several runs:

- build: query the store (``load_feed_articles``), render RSS + Atom + JSON Feed for the
  main feed and every category (``render_feeds``), write them atomically to an empty
  output folder (``write_feeds``): what ``swfeed build`` does;
- rebuild: the same with nothing changed (every file compared, none rewritten);
- query: the store queries alone;
- render: rendering only, from articles already in memory;
- times: the distinct times every entry shows (``feed_times``: every visible article's
  times, ties one second apart), which ``swfeed build`` adds; and the build with and
  without them, runs alternating (A B A B), median and min-max;
- baseline: the same entries (same feeds, same number of documents) serialized by a
  minimal lxml serializer: title, link, id, date, summary and body per entry, no
  validation rules, no images, no URI or text cleaning.

Ratios are against the baseline measured in the same run.

    .venv/bin/python benchmarks/build_feeds.py [--articles 5000] [--categories 20]
                                               [--max-items 50] [--runs 7]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lxml import etree
from timing import median_seconds, print_figures

from swfeed.config import Config
from swfeed.feeds.build import (
    CategoryFeed,
    feed_times,
    load_feed_articles,
    render_feeds,
    write_feeds,
)
from swfeed.models import Article, Image
from swfeed.store import Database
from swfeed.store.articles import ArticleStore

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SITE = "https://www.securitywomen.org/"
WORDS = [
    "women",
    "peace",
    "security",
    "peacekeeping",
    "mission",
    "gender",
    "police",
    "military",
    "survey",
    "Rwanda",
    "Zürich",
    "council",
    "resolution",
    "participation",
    "training",
    "leadership",
    "ministry",
    "report",
]


def _article(n: int, categories: int, rng: random.Random) -> Article:
    words = " ".join(rng.choice(WORDS) for _ in range(40))
    body = "".join(f'<p>{words} <a href="{SITE}news/{n}">more</a></p>' for _ in range(6))
    first = rng.randrange(categories)
    return Article(
        id=f"{SITE}news/article-{n}",
        url=f"{SITE}news/article-{n}",
        title=f"Article {n}: {' '.join(rng.choice(WORDS) for _ in range(8))}",
        published=NOW - timedelta(hours=n),
        source="bench",
        summary=words[:200],
        body_html=body,
        authors=("Amina Diallo",),
        categories=(f"Category {first}", f"Category {(first + 7) % categories}"),
        image=Image(f"{SITE}media/{n}.jpg", f"Photo {n}", "UN Photo", "image/jpeg", 40_000 + n),
    )


def fill_store(db_path: Path, articles: int, categories: int) -> None:
    """Store ``articles`` generated articles in one fetch."""
    rng = random.Random(42)
    batch = [_article(n, categories, rng) for n in range(articles)]
    db = Database(db_path)
    ArticleStore(db).apply_fetch("bench", batch, [], {}, NOW - timedelta(days=1))
    db.close()


def make_config(root: Path, output: Path, max_items: int) -> Config:
    (root / "content").mkdir(exist_ok=True)
    return Config.model_validate(
        {
            "site": {
                "title": "SecurityWomen",
                "url": SITE,
                "description": "News on women, peace and security.",
                "timezone": "Europe/London",
                "author": {"name": "SecurityWomen", "email": "info@securitywomen.org"},
                "logo": f"{SITE}media/logo.png",
            },
            "sources": [{"kind": "content", "name": "site", "path": str(root / "content")}],
            "output": {"path": str(output)},
            "feeds": {"max_items": max_items},
        }
    )


def baseline(sets: Sequence[Sequence[Article]], documents_per_set: int) -> int:
    """Serialize the same entries with lxml alone; returns the bytes produced."""
    total = 0
    for articles in sets:
        for _ in range(documents_per_set):
            root = etree.Element("rss", version="2.0")
            channel = etree.SubElement(root, "channel")
            for article in articles:
                item = etree.SubElement(channel, "item")
                etree.SubElement(item, "title").text = article.title
                etree.SubElement(item, "link").text = article.url
                etree.SubElement(item, "guid").text = article.id
                etree.SubElement(item, "pubDate").text = article.published.isoformat()
                etree.SubElement(item, "description").text = article.summary
                etree.SubElement(item, "encoded").text = article.body_html
            total += len(etree.tostring(root, encoding="UTF-8", pretty_print=True))
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--categories", type=int, default=20)
    parser.add_argument("--max-items", type=int, default=50)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="swfeed-bench-") as folder:
        root = Path(folder)
        started = time.perf_counter()
        fill_store(root / "store.sqlite3", args.articles, args.categories)
        print(f"filled store: {args.articles} articles in {time.perf_counter() - started:.1f} s")
        config = make_config(root, root / "public", args.max_items)
        db = Database(root / "store.sqlite3")
        store = ArticleStore(db)

        def build() -> None:
            shutil.rmtree(root / "public", ignore_errors=True)
            main_articles, categories = load_feed_articles(store, config, NOW)
            write_feeds(config, main_articles, categories, now=NOW)

        def build_with_times() -> None:
            shutil.rmtree(root / "public", ignore_errors=True)
            main_articles, categories = load_feed_articles(store, config, NOW)
            shown = [*main_articles, *(a for c in categories for a in c.articles)]
            times = feed_times(store, NOW, shown)
            write_feeds(config, main_articles, categories, now=NOW, times=times)

        def rebuild() -> None:
            main_articles, categories = load_feed_articles(store, config, NOW)
            report = write_feeds(config, main_articles, categories, now=NOW)
            assert not report.written

        main_articles, categories = load_feed_articles(store, config, NOW)
        sets: list[Sequence[Article]] = [main_articles, *(c.articles for c in categories)]
        files = render_feeds(config, main_articles, [CategoryFeed(*c) for c in categories])
        build_s = median_seconds(build, args.runs)
        rebuild_s = median_seconds(rebuild, args.runs)
        query_s = median_seconds(lambda: load_feed_articles(store, config, NOW), args.runs)
        render_s = median_seconds(
            lambda: render_feeds(config, main_articles, categories), args.runs
        )
        base_s = median_seconds(lambda: baseline(sets, documents_per_set=3), args.runs)
        shown = [*main_articles, *(a for c in categories for a in c.articles)]
        times_s = median_seconds(lambda: feed_times(store, NOW, shown), args.runs)
        plain, timed = alternate(build, build_with_times, args.runs)
        db.close()
    entries = sum(len(s) for s in sets)
    print(
        f"feeds: {len(sets)} sets x 3 formats = {len(files)} files, {entries} entries per format,"
    )
    print(
        f"       {sum(map(len, files.values())) / 1e6:.2f} MB written; medians of {args.runs} runs"
    )
    print(f"baseline (bare lxml, same entries, {len(files)} documents): {base_s * 1000:8.1f} ms")
    print(f"query only (21 store queries, JSON -> Article)    : {query_s * 1000:8.1f} ms")
    print(
        f"render only (3 formats, all rules)                : {render_s * 1000:8.1f} ms"
        f"   ratio {render_s / base_s:5.2f}x"
    )
    print(
        f"build (query store + render + atomic write)       : {build_s * 1000:8.1f} ms"
        f"   ratio {build_s / base_s:5.2f}x"
    )
    print(
        f"rebuild, nothing changed (no file rewritten)      : {rebuild_s * 1000:8.1f} ms"
        f"   ratio {rebuild_s / base_s:5.2f}x"
    )
    report_times(times_s, base_s, plain, timed)


def report_times(times_s: float, base_s: float, plain: list[float], timed: list[float]) -> None:
    """The distinct times' own cost, and the build without (A) and with (B) them."""
    print(
        f"distinct times (feed_times, articles since the oldest shown): {times_s * 1000:6.1f} ms"
        f"   ratio {times_s / base_s:5.2f}x"
    )
    print_figures("build without times (A)", plain)
    print_figures("build with times    (B)", timed)
    print(f"B / A (medians): {statistics.median(timed) / statistics.median(plain):.3f}")


def alternate(
    first: Callable[[], None], second: Callable[[], None], runs: int
) -> tuple[list[float], list[float]]:
    """Wall times of ``first`` and ``second``, run in turn (A B A B ...)."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for action, found in ((first, times[0]), (second, times[1])):
            started = time.perf_counter()
            action()
            found.append(time.perf_counter() - started)
    return times


if __name__ == "__main__":
    main()
