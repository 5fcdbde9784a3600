"""``swfeed fetch --dry-run``: what each item of a source gave, for an admin setting it up."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TextIO

from swfeed.models import Article
from swfeed.pipeline import DryRun
from swfeed.plaintext import truncate
from swfeed.sources import ItemTrace

NOTHING = "-- matched nothing"


def article_fields(article: Article) -> tuple[tuple[str, str | None], ...]:
    """What a source without selectors gave for one article (the same fields)."""
    image = article.image
    return (
        ("title", article.title),
        ("link", article.url),
        ("date", f"{article.published:%Y-%m-%d %H:%M:%S} UTC"),
        ("summary", truncate(article.summary, 80) or None),
        ("image", f"{image.url} (alt {image.alt!r})" if image else None),
        ("categories", ", ".join(article.categories) or None),
        ("body", f"{len(article.body_html):,} characters of HTML" if article.body_html else None),
        ("credit", image.credit if image and image.credit else None),
        ("full story", article.external_url),
    )


def print_dry_run(runs: Sequence[DryRun], out: TextIO) -> None:
    """Per source, per item: each selector's find; then the misses and the problems."""
    for run in runs:
        if run.result is None:
            print(f"{run.name}: FAILED (a dry run: nothing stored)\n  {run.error}", file=out)
            continue
        result = run.result
        scraped = bool(result.trace)
        traces = result.trace or [
            ItemTrace(article.url, article_fields(article)) for article in result.articles
        ]
        print(f"{run.name}: {len(traces)} items (a dry run: nothing stored)", file=out)
        width = max((len(name) for trace in traces for name, _ in trace.found), default=0)
        empty = NOTHING if scraped else "(none)"
        for number, trace in enumerate(traces, start=1):
            print(f"  item {number}:", file=out)
            for name, value in trace.found:
                print(f"    {name + ':':<{width + 1}} {value if value is not None else empty}",
                      file=out)  # fmt: skip
        if scraped:
            print_misses(traces, out)
        for problem in result.errors:
            lines = str(problem).splitlines()
            print("\n".join(["  problem: " + lines[0], *("    " + line for line in lines[1:])]),
                  file=out)  # fmt: skip


def print_misses(traces: Sequence[ItemTrace], out: TextIO) -> None:
    """Which selectors matched nothing, in how many of the items."""
    misses = Counter(name for trace in traces for name, value in trace.found if value is None)
    if not misses:
        print("  every selector matched in every item", file=out)
        return
    counts = ", ".join(f"{name} in {count} of {len(traces)}" for name, count in misses.items())
    print(f"  matched nothing: {counts}", file=out)
