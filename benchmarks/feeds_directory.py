"""Benchmark: what the feeds page, OPML list and stylesheet add to a build with nothing new.

``swfeed build`` writes, beside the feeds, ``feeds/index.html``, ``feeds/feeds.opml`` and
``feeds/feed.css`` (``feeds.directory.write_directory``). With nothing changed they are
rendered and compared, and not rewritten. This times, on a store of N articles in C
categories, the two sides alternating (A B A B ...):

- A, baseline: a rebuild of the feeds alone with nothing changed (``write_feeds``);
- B: the same rebuild plus ``write_directory`` (what ``pipeline.build`` does now);

and, in the same loop, C: ``write_directory`` alone; it prints the medians, min-max, and B
over A.

    .venv/bin/python benchmarks/feeds_directory.py [--articles 5000] [--categories 20]
                                                   [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from build_feeds import NOW, fill_store, make_config
from timing import print_figures

from swfeed.feeds.build import WriteReport, load_feed_articles, write_feeds
from swfeed.feeds.directory import write_directory
from swfeed.store import Database
from swfeed.store.articles import ArticleStore


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--categories", type=int, default=20)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="swfeed-bench-") as folder:
        root = Path(folder)
        fill_store(root / "store.sqlite3", args.articles, args.categories)
        config = make_config(root, root / "public", 50)
        with Database(root / "store.sqlite3") as db:
            store = ArticleStore(db)

            def feeds_only() -> None:
                main_articles, categories = load_feed_articles(store, config, NOW)
                report = write_feeds(config, main_articles, categories, now=NOW)
                assert not report.written, report.written

            def with_directory() -> None:
                main_articles, categories = load_feed_articles(store, config, NOW)
                report = write_feeds(config, main_articles, categories, now=NOW)
                write_directory(config, [(c.slug, c.name) for c in categories], report)
                assert not report.written, report.written

            main_articles, categories = load_feed_articles(store, config, NOW)
            first = write_feeds(config, main_articles, categories, now=NOW)
            write_directory(config, [(c.slug, c.name) for c in categories], first)
            names = [(c.slug, c.name) for c in categories]
            baseline: list[float] = []
            directory: list[float] = []
            alone: list[float] = []
            for _ in range(args.runs):
                baseline.append(timed(feeds_only))
                directory.append(timed(with_directory))
                alone.append(timed(lambda: write_directory(config, names, WriteReport())))
    ratio = statistics.median(directory) / statistics.median(baseline)
    added = (statistics.median(directory) - statistics.median(baseline)) * 1000
    print(f"{args.articles} articles, {args.categories} categories, {args.runs} runs, A B A B")
    print_figures("A rebuild, feeds only (baseline)", baseline)
    print_figures("B rebuild + feeds page/OPML/css ", directory)
    print_figures("C the three files alone          ", alone)
    print(f"B / A: {ratio:.3f}x  (B - A: {added:+.1f} ms)")


if __name__ == "__main__":
    main()
