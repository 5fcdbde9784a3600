"""The daemon's idle tick on the sample site: a fetch interval with nothing new.

Copies the bundled sample site (its content folder and config) into a temporary folder,
starts the daemon's parts in this process (store, send worker; no scheduler: the ticks are
driven here) and publishes once. Then, taking turns, in batches of ticks:

- idle tick: ``Daemon.run_task("fetch")``: every source fetched (nothing new), the feeds'
  stamp checked (nothing to render), the send worker asked to carry on (nothing started),
  the daemon's status published; the worker's CPU counts too (it runs in this process,
  and each batch waits for it to be idle);
- baseline: what any change detection must do: ``stat`` every file of the content folder
  and read the source's saved state from the store.

CPU per tick, per source, medians and min–max of the batches. Target: at most 5 ms of CPU
per source.

    .venv/bin/python benchmarks/daemon_idle.py [--ticks 50] [--runs 9]
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from timing import Cost, alternate, in_process, report

from swfeed.config import load_config
from swfeed.daemon.clock import Clock
from swfeed.daemon.lock import DaemonLock
from swfeed.daemon.logs import configure_logging
from swfeed.daemon.service import Daemon

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 3, 25, 12, tzinfo=UTC)


def sample_site(folder: Path) -> Path:
    """The sample site's content and config, copied; the config's path."""
    shutil.copytree(ROOT / "content", folder / "content")
    (folder / "config").mkdir()
    shutil.copy(ROOT / "config" / "swfeed.yaml", folder / "config" / "swfeed.yaml")
    return folder / "config" / "swfeed.yaml"


def batch(tick: Callable[[], None], ticks: int, settle: Callable[[], None]) -> Callable[[], Cost]:
    """A side that runs ``ticks`` ticks, lets the worker settle, and returns cost per tick."""

    def run() -> None:
        for _ in range(ticks):
            tick()
        settle()

    measure = in_process(run)

    def side() -> Cost:
        cost = measure()
        return Cost(cost.cpu / ticks, cost.wall / ticks)

    return side


def bare_scan(content: Path, store: Path) -> Callable[[], None]:
    conn = sqlite3.connect(store)

    def scan() -> None:
        for _root, _folders, files in os.walk(content):
            for name in files:
                os.stat(os.path.join(_root, name))
        conn.execute("SELECT state FROM source_state").fetchall()

    return scan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=50, help="ticks per measured batch")
    parser.add_argument("--runs", type=int, default=9, help="batches per side")
    args = parser.parse_args()
    os.environ.setdefault("SWFEED_UNSUBSCRIBE_SECRET", "bench-secret-0123456789abcdefghijklmnop")
    configure_logging(stream=io.StringIO())  # the daemon's log lines are not the point here
    with tempfile.TemporaryDirectory(prefix="swfeed-bench-") as tmp:
        path = sample_site(Path(tmp))
        config = load_config(path)
        lock = DaemonLock(config.store.path)
        lock.acquire()
        daemon = Daemon(path, config, Clock(start=NOW, real_start=NOW), lock)
        daemon.sender.start()
        daemon.fetch(NOW - timedelta(minutes=15))  # the first fetch and build
        sources = len(config.sources)
        try:
            samples = alternate(
                {
                    "idle tick": batch(
                        lambda: daemon.run_task("fetch"), args.ticks, lambda: time.sleep(0.05)
                    ),
                    "baseline": batch(
                        bare_scan(config.sources[0].path, config.store.path),  # type: ignore[union-attr]
                        args.ticks,
                        lambda: None,
                    ),
                },
                args.runs,
            )
        finally:
            daemon.close()
            lock.release()
    report(f"daemon idle tick on the sample site ({sources} source)", samples, "baseline")
    per_source = samples["idle tick"].median() / sources * 1000
    print(f"  idle tick: {per_source:.2f} ms of CPU per source   target: at most 5 ms")


if __name__ == "__main__":
    main()
