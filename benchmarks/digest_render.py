"""Benchmark: rendering and CSS-inlining a 50-article digest issue, and premailer's share.

Times, as medians of several runs, on synthetic articles shaped like the sample site's
(title, ~250-character summary, picture, category):

- templates: Jinja2 only (HTML and text templates, no inlining): the baseline;
- premailer: ``inline_css`` alone, on the HTML the templates produced;
- whole issue: ``render_issue`` (subject, HTML, guard checks, text, inlining), what
  ``ensure_issue`` does once per issue.

Prints the medians, each against the baseline, premailer's share of the whole, and the HTML
size (50 articles go over Gmail's ~102 KB clipping threshold; the default cap is 12).

    .venv/bin/python benchmarks/digest_render.py [--articles 50] [--runs 25]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from swfeed.config import Config
from swfeed.digest.render import (
    HTML_TEMPLATE,
    TEXT_TEMPLATE,
    inline_css,
    render_issue,
)
from swfeed.digest.select import select_articles
from swfeed.digest.views import issue_view
from swfeed.models import Article, Image
from swfeed.templating import render_template, site_view, template_env

CUTOFF = datetime(2026, 11, 23, 9, tzinfo=UTC)
PERIOD = "2026-W48"
SITE = "https://www.securitywomen.org/"
SUMMARY = (
    "Women have been central to peacebuilding since the end of the conflict, and their "
    "participation in police and military institutions has grown steadily, with new "
    "training programmes, mentoring networks and deployments to UN missions abroad."
)


def articles(count: int) -> list[Article]:
    return [
        Article(
            id=f"tag:securitywomen.org,2026:{n}",
            url=f"{SITE}news/story-{n}",
            title=f"Women peacekeepers lead the way in mission number {n}",
            published=CUTOFF - timedelta(hours=n + 1),
            source="site",
            summary=SUMMARY,
            categories=("Peacekeeping", "Rwanda"),
            image=Image(f"{SITE}media/story-{n}.jpg", alt=f"Peacekeepers on patrol, {n}"),
        )
        for n in range(count)
    ]


def config(folder: Path, count: int) -> Config:
    (folder / "content").mkdir()
    data = {
        "site": {
            "title": "SecurityWomen",
            "url": SITE,
            "description": "News on women, peace and security.",
            "timezone": "Europe/London",
            "author": {"name": "SecurityWomen"},
            "logo": f"{SITE}media/logo.png",
        },
        "sources": [{"kind": "content", "name": "site", "path": "content"}],
        "digest": {"postal_address": "SecurityWomen\nLondon", "max_articles": count},
    }
    return Config.model_validate(data, context={"base_dir": folder})


def medians_ms(jobs: dict[str, Callable[[], object]], runs: int) -> dict[str, float]:
    """Median wall time of each job; the jobs take turns, so load spikes hit all alike."""
    times: dict[str, list[float]] = {name: [] for name in jobs}
    for work in jobs.values():
        work()  # warm up: template compilation, cssutils caches
    for _ in range(runs):
        for name, work in jobs.items():
            start = time.perf_counter()
            work()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) * 1000 for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=50)
    parser.add_argument("--runs", type=int, default=25)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = config(Path(folder), args.articles)
        selection = select_articles(articles(args.articles), args.articles)
        view = issue_view(settings, selection, PERIOD, CUTOFF, "subject")
        env = template_env(None)
        context = {"site": site_view(settings), "issue": view}

        def templates() -> str:
            render_template(env, TEXT_TEMPLATE, **context)
            return render_template(env, HTML_TEMPLATE, **context)

        raw = templates()
        medians = medians_ms(
            {
                "templates": templates,
                "premailer": lambda: inline_css(raw),
                "whole": lambda: render_issue(settings, selection, PERIOD, CUTOFF),
            },
            args.runs,
        )
        rendered = render_issue(settings, selection, PERIOD, CUTOFF)
    baseline, inlining, whole = medians["templates"], medians["premailer"], medians["whole"]
    print(f"{args.articles} articles, median of {args.runs} runs")
    print(f"  templates (baseline)  {baseline:8.1f} ms   1.0x")
    print(f"  premailer inlining    {inlining:8.1f} ms  {inlining / baseline:5.1f}x")
    print(f"  whole issue           {whole:8.1f} ms  {whole / baseline:5.1f}x")
    print(f"  premailer's share of the whole issue: {inlining / whole:.0%}")
    print(
        f"  HTML: {len(raw.encode()):,} bytes before inlining, "
        f"{len(rendered.html.encode()):,} after "
        f"({(len(rendered.html) - len(raw)) / args.articles:,.0f} bytes per article added)"
    )


if __name__ == "__main__":
    main()
