"""Benchmark: time to answer a normal GET beside 400 stalled clients, file limit 256.

Starts ``swfeed serve`` in a subprocess with ``RLIMIT_NOFILE`` 256, then alternates two
rounds (A B A B ...):

- A (baseline): a GET of /feeds/rss.xml on the server with no other client;
- B: 400 connections that send half a request head and stall, then the same GET.

Prints the median and min-max of each, the ratio B/A, and the size of the server's log.

    .venv/bin/python benchmarks/stalled_clients.py [--stalled 400] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
from timing import print_figures

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.smtpfixture import free_port, write_config
from tests.test_web import populate
from tests.test_web_stalled import serving, stall


def timed_get(port: int) -> float:
    started = time.perf_counter()
    with httpx.Client(timeout=10) as client:
        response = client.get(f"http://127.0.0.1:{port}/feeds/rss.xml")
    response.raise_for_status()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stalled", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    idle: list[float] = []
    crowded: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        config = write_config(root, method="outbox")
        populate(root / "public")
        port = free_port()
        log = root / "serve.log"
        with serving(config, port, log):
            for _ in range(args.rounds):
                idle.append(timed_get(port))
                with ExitStack() as stack:
                    opened = stall(port, args.stalled, stack)
                    crowded.append(timed_get(port))
        log_bytes = log.stat().st_size
    print_figures("A idle", idle)
    print_figures(f"B {opened} stalled", crowded)
    ratio = statistics.median(crowded) / statistics.median(idle)
    print(f"ratio B/A: {ratio:.1f}; server log: {log_bytes} bytes")


if __name__ == "__main__":
    main()
