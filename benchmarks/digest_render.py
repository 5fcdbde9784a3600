"""Benchmark: rendering and CSS-inlining a 50-article digest issue, and premailer's share.

Times, taking turns and repeated (medians and min–max of CPU and wall time), on synthetic
articles shaped like the sample site's (title, ~250-character summary, picture, category):

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
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from timing import alternate, in_process, report

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
        samples = alternate(
            {
                "templates": in_process(templates),
                "premailer": in_process(lambda: inline_css(raw)),
                "whole issue": in_process(
                    lambda: render_issue(settings, selection, PERIOD, CUTOFF)
                ),
            },
            args.runs,
        )
        rendered = render_issue(settings, selection, PERIOD, CUTOFF)
    report(f"a {args.articles}-article digest issue, in process", samples, "templates")
    share = samples["premailer"].median() / samples["whole issue"].median()
    print(f"  premailer's share of the whole issue (CPU): {share:.0%}")
    print(
        f"  HTML: {len(raw.encode()):,} bytes before inlining, "
        f"{len(rendered.html.encode()):,} after "
        f"({(len(rendered.html) - len(raw)) / args.articles:,.0f} bytes per article added)"
    )


if __name__ == "__main__":
    main()
