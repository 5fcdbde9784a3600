"""Benchmark: sanitizing a nesting bomb, against flat markup of the same size.

Times ``sanitize_html`` and ``plain_text`` (the allow-list and HTML-to-text) on

- A (baseline): 150,000 sibling ``<p>x</p>`` paragraphs cut to 750 KB: flat, ordinary markup;
- B: ``'<div>' * 150000`` (750 KB), the "nesting bomb" an audit found took 92 s before
  nesting was bounded (nh3's tree builder is quadratic in depth);

taking turns (A B A B ...); prints medians and min–max of CPU and wall time, and B/A.

    .venv/bin/python benchmarks/nesting_bomb.py [--runs 5] [--count 150000]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial

from timing import alternate, in_process, report

from swfeed.sanitize import plain_text, sanitize_html

BASE = "https://www.securitywomen.org/post/x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--count", type=int, default=150_000)
    args = parser.parse_args()
    bomb = "<div>" * args.count
    flat = ("<p>x</p>" * args.count)[: len(bomb)]
    cases: dict[str, Callable[[str], str]] = {
        "sanitize_html": partial(sanitize_html, base_url=BASE),
        "plain_text": plain_text,
    }
    for name, clean in cases.items():
        samples = alternate(
            {
                "A flat": in_process(partial(clean, flat)),
                "B bomb": in_process(partial(clean, bomb)),
            },
            args.runs,
        )
        report(f"{name} of {len(bomb):,} characters", samples, "A flat")


if __name__ == "__main__":
    main()
