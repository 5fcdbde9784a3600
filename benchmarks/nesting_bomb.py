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
    cases = {
        "sanitize_html": lambda markup: sanitize_html(markup, BASE),
        "plain_text": plain_text,
    }
    for name, clean in cases.items():
        flat_times: list[float] = []
        bomb_times: list[float] = []
        for _ in range(args.runs):
            flat_times.append(timed(lambda clean=clean: clean(flat)))
            bomb_times.append(timed(lambda clean=clean: clean(bomb)))
        for label, values in (("A flat", flat_times), ("B bomb", bomb_times)):
            print(
                f"{name:>13} {label}: median {statistics.median(values) * 1000:7.1f} ms "
                f"(min {min(values) * 1000:.1f}, max {max(values) * 1000:.1f})"
            )
        ratio = statistics.median(bomb_times) / statistics.median(flat_times)
        print(f"{name:>13} ratio B/A: {ratio:.2f}")


if __name__ == "__main__":
    main()
