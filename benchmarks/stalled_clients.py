"""Benchmark: time to answer a normal GET beside 400 stalled clients, file limit 256.

Starts ``swfeed serve`` in a subprocess with ``RLIMIT_NOFILE`` 256, then alternates two
rounds (A B A B ...):

- A (baseline): a GET of /feeds/rss.xml on the server with no other client;
- B: 400 connections that send half a request head and stall, then the same GET.

Prints the median and min–max of each GET's wall time, the ratio B/A, and the size of the
server's log.

    .venv/bin/python benchmarks/stalled_clients.py [--stalled 400] [--runs 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
from timing import Cost, alternate, ratio, report

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.smtpfixture import free_port, write_config
from tests.test_web import populate
from tests.test_web_stalled import serving, stall


def timed_get(port: int) -> Cost:
    """One GET's cost (the server runs in another process: its wall time is what counts)."""
    cpu, started = time.process_time(), time.perf_counter()
    with httpx.Client(timeout=10) as client:
        response = client.get(f"http://127.0.0.1:{port}/feeds/rss.xml")
    response.raise_for_status()
    return Cost(time.process_time() - cpu, time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stalled", type=int, default=400)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        config = write_config(root, method="outbox")
        populate(root / "public")
        port = free_port()
        log = root / "serve.log"
        opened: list[int] = []

        def crowded() -> Cost:
            with ExitStack() as stack:
                opened.append(stall(port, args.stalled, stack))
                return timed_get(port)

        with serving(config, port, log):
            crowded_name = f"{args.stalled} stalled"
            samples = alternate(
                {"idle": lambda: timed_get(port), crowded_name: crowded}, args.runs, warmup=0
            )
        log_bytes = log.stat().st_size
    report("a GET of /feeds/rss.xml (wall time)", samples, "idle", kinds=("wall",))
    share = ratio(samples[crowded_name], samples["idle"], "wall")
    print(f"  stalled connections opened: {min(opened)}–{max(opened)}")
    print(f"  ratio B/A: {share:.1f}; server log: {log_bytes} bytes")


if __name__ == "__main__":
    main()
