"""Building the feeds: a full build against one with nothing to do, and the store's size.

Fills real stores (``ArticleStore.apply_fetch``) with generated articles over 20 categories
(each feed shows the newest 50), then, taking turns:

1. in process, 5,000 stored articles: ``pipeline.build`` into an empty output folder (every
   feed rendered and written) against ``pipeline.build`` with nothing changed (the stamp
   and the files' stats checked, nothing rendered);
2. the same two as whole ``swfeed build`` commands;
3. whole ``swfeed build`` commands into an empty output folder over stores of 1,000 and
   50,000 articles;
4. in process, 5,000 stored articles: writing every feed with the distinct times each entry
   shows (``feed_times``, which ``swfeed build`` adds) against writing them without.

CPU and wall time, medians and min–max. Targets: nothing-to-do at most 1/20 of a full build
in process and 1/3 as whole commands; 50,000 articles at most 1.15x 1,000. Part 4 has no
target: it shows what the distinct times cost.

    .venv/bin/python benchmarks/build_feeds.py [--runs 7] [--small 1000] [--large 50000]
                                               [--compare-src ../main/src]

With ``--compare-src DIR`` (another checkout's ``src`` folder) that code's full and
nothing-to-do builds take turns with this code's in part 2, over a store of their own.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from timing import SWFEED, Cost, Side, alternate, in_process, ratio, report, run_command, swfeed_env

from swfeed import pipeline
from swfeed.config import load_config
from swfeed.feeds.build import feed_times, load_feed_articles, write_feeds
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
CONFIG = """\
site:
  title: SecurityWomen
  url: "{site}"
  description: News on women, peace and security.
  timezone: Europe/London
  author: {{name: SecurityWomen, email: info@securitywomen.org}}
  logo: "{site}media/logo.png"
sources: [{{kind: content, name: site, path: content}}]
store: {{path: "{store}"}}
output: {{path: "{output}"}}
feeds: {{max_items: 50}}
"""


def make_article(n: int, rng: random.Random, categories: int = 20) -> Article:
    """A generated article: a title, 40 words of summary, six paragraphs, an image."""
    words = " ".join(rng.choice(WORDS) for _ in range(40))
    body = "".join(f'<p>{words} <a href="{SITE}news/{n}">more</a></p>' for _ in range(6))
    first = rng.randrange(categories)
    return Article(
        id=f"{SITE}news/article-{n}",
        url=f"{SITE}news/article-{n}",
        title=f"Article {n}: {' '.join(rng.choice(WORDS) for _ in range(8))}",
        published=NOW - timedelta(hours=n),
        source="site",
        summary=words[:200],
        body_html=body,
        authors=("Amina Diallo",),
        categories=(f"Category {first}", f"Category {(first + 7) % categories}"),
        image=Image(f"{SITE}media/{n}.jpg", f"Photo {n}", "UN Photo", "image/jpeg", 40_000 + n),
    )


def write_config(root: Path, name: str) -> Path:
    """A config of its own (a store and output folder of its own) reading ``root/content``."""
    (root / "content").mkdir(exist_ok=True)
    config = root / f"{name}.yaml"
    store, output = root / f"{name}.sqlite3", root / f"{name}-public"
    config.write_text(CONFIG.format(site=SITE, store=store, output=output), encoding="utf-8")
    return config


def make_site(root: Path, name: str, articles: int) -> Path:
    """A config and a store of ``articles`` articles (in batches); the config's path."""
    config = write_config(root, name)
    rng = random.Random(42)
    with Database(root / f"{name}.sqlite3") as db:
        for start in range(0, articles, 5000):
            batch = [make_article(n, rng) for n in range(start, min(start + 5000, articles))]
            ArticleStore(db).apply_fetch("site", batch, [], {"batch": start}, NOW)
    return config


def in_process_sides(config_path: Path) -> dict[str, Side]:
    config = load_config(config_path)
    db = Database(config.store.path)
    later = NOW + timedelta(minutes=5)

    def full() -> None:
        shutil.rmtree(config.output.path, ignore_errors=True)
        assert pipeline.build(config, db, later).written

    def nothing_to_do() -> None:
        assert not pipeline.build(config, db, later).written

    return {"full build": in_process(full), "nothing to do": in_process(nothing_to_do)}


def times_sides(config_path: Path) -> dict[str, Side]:
    """Writing every feed into an empty folder without (A) and with (B) the distinct times."""
    config = load_config(config_path)
    db = Database(config.store.path)
    store = ArticleStore(db)

    def write(with_times: bool) -> None:
        shutil.rmtree(config.output.path, ignore_errors=True)
        main_articles, categories = load_feed_articles(store, config, NOW)
        times = None
        if with_times:
            shown = [*main_articles, *(a for c in categories for a in c.articles)]
            times = feed_times(store, NOW, shown)
        write_feeds(config, main_articles, categories, now=NOW, times=times)

    return {
        "without times (A)": in_process(lambda: write(False)),
        "with times (B)": in_process(lambda: write(True)),
    }


def command_side(config: Path, *, fresh: bool, src: Path | None = None) -> Side:
    env = swfeed_env(src)
    output = config.with_name(f"{config.stem}-public")
    argv: list[str | Path] = [SWFEED, "--config", config, "build"]

    def side() -> Cost:
        if fresh:
            shutil.rmtree(output, ignore_errors=True)
        return run_command(argv, env=env)

    return side


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--medium", type=int, default=5000)
    parser.add_argument("--large", type=int, default=50_000)
    parser.add_argument("--compare-src", type=Path, help="another checkout's src folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="swfeed-bench-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        sizes = {"small": args.small, "medium": args.medium, "large": args.large}
        if args.compare_src:  # its own store and output: the two codes' stamps differ
            sizes["compared"] = args.medium
        configs = {name: make_site(root, name, count) for name, count in sizes.items()}
        print(f"stores filled in {time.perf_counter() - started:.0f} s")
        samples = alternate(in_process_sides(configs["medium"]), args.runs)
        report(f"swfeed build, {args.medium:,} stored articles, in process", samples, "full build")
        share = ratio(samples["nothing to do"], samples["full build"])
        print(f"  nothing to do / full (CPU): 1/{1 / share:.0f}   target: at most 1/20")
        sides = {
            "full build": command_side(configs["medium"], fresh=True),
            "nothing to do": command_side(configs["medium"], fresh=False),
        }
        if args.compare_src:
            src = args.compare_src.resolve()
            sides["full build (compared)"] = command_side(configs["compared"], fresh=True, src=src)
            sides["nothing to do (compared)"] = command_side(
                configs["compared"], fresh=False, src=src
            )
        samples = alternate(sides, args.runs)
        report(
            f"swfeed build, {args.medium:,} stored articles, whole commands", samples, "full build"
        )
        share = ratio(samples["nothing to do"], samples["full build"])
        print(f"  nothing to do / full (CPU): 1/{1 / share:.1f}   target: at most 1/3")
        if args.compare_src:
            share = ratio(samples["nothing to do (compared)"], samples["full build (compared)"])
            print(f"  compared code, nothing to do / full (CPU): 1/{1 / share:.1f}")
        small, large = f"{args.small:,} articles", f"{args.large:,} articles"
        samples = alternate(
            {
                small: command_side(configs["small"], fresh=True),
                large: command_side(configs["large"], fresh=True),
            },
            args.runs,
        )
        report("swfeed build into an empty folder, by store size, whole commands", samples, small)
        print(
            f"  {large} / {small} (CPU): {ratio(samples[large], samples[small]):.2f}x"
            "   target: at most 1.15x"
        )
        samples = alternate(times_sides(configs["medium"]), args.runs)
        report(
            f"writing the feeds, {args.medium:,} stored articles, in process",
            samples,
            "without times (A)",
        )
        times = ratio(samples["with times (B)"], samples["without times (A)"])
        print(f"  B / A (CPU): {times:.3f}")


if __name__ == "__main__":
    main()
