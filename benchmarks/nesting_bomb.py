"""Benchmark: sanitizing a nesting bomb, against flat markup of the same size.

Times ``sanitize_html`` and ``plain_text`` (the allow-list and HTML-to-text) on

- A (baseline): 150,000 sibling ``<p>x</p>`` paragraphs cut to 750 KB: flat, ordinary markup;
- B: ``'<div>' * 150000`` (750 KB), the "nesting bomb" an audit found took 92 s before
  nesting was bounded (nh3's tree builder is quadratic in depth);

alternating A B A B, and prints medians, min-max and the ratio B/A.

    .venv/bin/python benchmarks/nesting_bomb.py [--runs 5] [--count 150000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial

from timing import print_figures

from swfeed.sanitize import plain_text, sanitize_html

BASE = "https://www.securitywomen.org/post/x"


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
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
        flat_times: list[float] = []
        bomb_times: list[float] = []
        for _ in range(args.runs):
            flat_times.append(timed(partial(clean, flat)))
            bomb_times.append(timed(partial(clean, bomb)))
        print_figures(f"{name} A flat", flat_times)
        print_figures(f"{name} B bomb", bomb_times)
        ratio = statistics.median(bomb_times) / statistics.median(flat_times)
        print(f"{name:>13} ratio B/A: {ratio:.2f}")


if __name__ == "__main__":
    main()
