"""Start-up: ``swfeed --help`` and a command's ``--help`` against ``python -c pass``.

Whole processes of the same interpreter, taking turns; CPU time (user + system) of each
child and its wall time, medians and min–max. Target: ``swfeed --help`` at most 5x the bare
interpreter's start.

    .venv/bin/python benchmarks/startup.py [--runs 30]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from timing import PYTHON, SWFEED, alternate, report, run_command, swfeed_env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--compare-src", type=Path, help="another checkout's src folder")
    args = parser.parse_args()
    env = swfeed_env()
    sides = {
        "python -c pass": lambda: run_command([PYTHON, "-c", "pass"], env=env),
        "swfeed --help": lambda: run_command([SWFEED, "--help"], env=env),
        "swfeed fetch --help": lambda: run_command([SWFEED, "fetch", "--help"], env=env),
    }
    if args.compare_src:
        other = swfeed_env(args.compare_src.resolve())
        sides["swfeed --help (compared)"] = lambda: run_command([SWFEED, "--help"], env=other)
    samples = alternate(sides, args.runs)
    report("start-up, whole processes", samples, baseline="python -c pass")
    print("  target: swfeed --help <= 5x python -c pass (CPU)")


if __name__ == "__main__":
    main()
