"""Benchmark: what the feeds page, OPML list and stylesheet add to a build with nothing new.

``swfeed build`` writes, beside the feeds, ``feeds/index.html``, ``feeds/feeds.opml`` and
``feeds/feed.css`` (``feeds.directory.write_directory``). When a build renders (something
changed) they are rendered and compared, and rewritten only if their bytes changed. This
times, on a store of N articles (over 20 categories), taking turns (A B C A B C ...):

- A, baseline: rendering the feeds alone with nothing changed (``write_feeds``);
- B: the same plus ``write_directory`` (what ``pipeline.build`` renders);
- C: ``write_directory`` alone;

and prints the medians and min–max of CPU and wall time, and B over A. (A build with
nothing new renders none of them: see ``build_feeds.py``.)

    .venv/bin/python benchmarks/feeds_directory.py [--articles 5000] [--runs 15]
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import timedelta
from pathlib import Path

from build_feeds import NOW, make_site
from timing import alternate, in_process, ratio, report

from swfeed.config import load_config
from swfeed.feeds.build import WriteReport, load_feed_articles, write_feeds
from swfeed.feeds.directory import write_directory
from swfeed.store import Database
from swfeed.store.articles import ArticleStore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    later = NOW + timedelta(minutes=5)
    with tempfile.TemporaryDirectory(prefix="swfeed-bench-") as folder:
        config = load_config(make_site(Path(folder), "site", args.articles))
        with Database(config.store.path) as db:
            store = ArticleStore(db)

            def feeds_only() -> None:
                main_articles, categories = load_feed_articles(store, config, later)
                report = write_feeds(config, main_articles, categories, now=later)
                assert not report.written, report.written

            def with_directory() -> None:
                main_articles, categories = load_feed_articles(store, config, later)
                report = write_feeds(config, main_articles, categories, now=later)
                write_directory(config, [(c.slug, c.name) for c in categories], report)
                assert not report.written, report.written

            main_articles, categories = load_feed_articles(store, config, later)
            first = write_feeds(config, main_articles, categories, now=later)
            names = [(c.slug, c.name) for c in categories]
            write_directory(config, names, first)
            samples = alternate(
                {
                    "A feeds only": in_process(feeds_only),
                    "B feeds + page, OPML, css": in_process(with_directory),
                    "C the three files alone": in_process(
                        lambda: write_directory(config, names, WriteReport())
                    ),
                },
                args.runs,
            )
    report(f"rendering with nothing changed, {args.articles:,} articles", samples, "A feeds only")
    share = ratio(samples["B feeds + page, OPML, css"], samples["A feeds only"])
    print(f"  B / A (CPU): {share:.3f}x")


if __name__ == "__main__":
    main()
