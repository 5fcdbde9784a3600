"""A no-change content fetch against a full parse of the same folder.

Writes N article files (default 10,000) into a temporary folder, then measures:

- full parse: ``ContentSource.fetch`` with an empty state (read, hash, YAML, validate,
  Markdown, sanitize every file);
- no change: ``fetch`` again with the state the full parse returned (stat only).

Prints the median of each over several runs and their ratio (target: under 1/20).

    .venv/bin/python benchmarks/fetch_nochange.py [--files 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from timing import median_seconds

from swfeed.config import Config, ContentSourceConfig
from swfeed.sources import FetchResult
from swfeed.sources.content import ContentSource

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
BODY = (
    "A staff survey finds that awareness of the Women, Peace and Security agenda is high, "
    "but gender is not yet seen as part of core **peacekeeping mandates**.\n\n"
    "When gender is framed as separate from operations, women's contributions are more "
    "likely to be confined to [specific roles](/news/roles).\n\n"
    "- planning\n- command\n- decision-making\n\n"
    "The gap between policy and practice persists.\n"
)


def write_articles(folder: Path, count: int) -> None:
    """``count`` valid articles, 100 per sub-folder, each with front matter and a body."""
    start = datetime(2020, 1, 1, 9, 0)
    for number in range(count):
        sub = folder / f"batch-{number // 100:03d}"
        sub.mkdir(exist_ok=True)
        date = (start + timedelta(hours=number)).isoformat(sep=" ", timespec="minutes")
        text = (
            f"---\ntitle: Story number {number}\ndate: {date}\n"
            f"categories: [Peacekeeping, Rwanda]\nauthors: [Editor {number % 7}]\n---\n"
            f"{BODY}"
        )
        (sub / f"story-{number:05d}.md").write_text(text, encoding="utf-8")


def make_source(folder: Path) -> ContentSource:
    data = {
        "site": {
            "title": "Bench",
            "url": "https://www.example.org/",
            "description": "Benchmark site",
            "timezone": "Europe/London",
            "author": {"name": "Editor"},
        },
        "sources": [{"kind": "content", "name": "bench", "path": str(folder)}],
    }
    config = Config.model_validate(data, context={"base_dir": folder})
    source_config = config.sources[0]
    assert isinstance(source_config, ContentSourceConfig)
    return ContentSource(source_config, config)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000, help="article files to write")
    parser.add_argument("--runs", type=int, default=3, help="runs of each measurement")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="swfeed-bench-") as tmp:
        folder = Path(tmp)
        write_articles(folder, args.files)
        source = make_source(folder)
        results: list[FetchResult] = []
        full = median_seconds(lambda: results.append(source.fetch({}, NOW)), args.runs)
        first = results[-1]
        assert len(first.articles) == args.files, first.errors[:3]
        second = source.fetch(first.state, NOW)
        assert second.articles == []
        assert second.state == first.state
        nochange = median_seconds(lambda: source.fetch(first.state, NOW), args.runs * 3)
    print(f"files:                 {args.files}")
    print(f"full parse (median):   {full * 1000:9.1f} ms")
    print(f"no-change (median):    {nochange * 1000:9.1f} ms")
    print(f"ratio no-change/full:  1/{full / nochange:.0f} ({nochange / full:.4f}; target < 0.05)")


if __name__ == "__main__":
    main()
