"""How ``release-0.1.sqlite3`` was made: by swfeed 0.1.0 as it landed (commit 7631ccb).

Run from a checkout of that commit (``git worktree add /tmp/rel01 7631ccb``)::

    cd /tmp/rel01 && PYTHONPATH=src python /path/to/make_release_0_1.py OUT.sqlite3

``release-0.1-url-ids.sqlite3`` was made the same way with ``--strip-ids`` (in a throwaway
copy: it first deletes the ``id:`` line of every sample article, so 0.1 fell back to each
article's ``/news/<slug>`` URL as its id).

It loads the sample site, records week 2026-W48 as skipped by the daemon (a placeholder
row, as 0.1 wrote them), then freezes and sends 2026-W49 to the three sample subscribers
through the outbox (written next to OUT; delete it). Tests upgrade a copy and check that nothing is announced or mailed again.
"""

from __future__ import annotations

import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from swfeed import pipeline
from swfeed.clock import Clock
from swfeed.config import load_config
from swfeed.delivery.send import send_issue
from swfeed.digest.build import ensure_issue
from swfeed.digestjob import DigestJob
from swfeed.store import Database
from swfeed.store.subscribers import SubscriberStore
from swfeed.subscribers import read_csv

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
SKIP_DUE = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def strip_ids(folder: Path) -> None:
    """Delete the ``id:`` front matter line of every article under ``folder``."""
    for path in folder.rglob("*.md"):
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        path.write_text("".join(line for line in lines if not line.startswith("id: ")))


def main(out: Path) -> None:
    config = load_config(Path("config/swfeed.yaml"))
    config = config.model_copy(update={"store": config.store.model_copy(update={"path": out})})
    with Database(out) as db:
        pipeline.fetch(config, db, NOW)
        entries = read_csv(Path("config/subscribers.csv"))
        SubscriberStore(db).import_all([(e.address, e.name) for e in entries], NOW)
        job = DigestJob(config, db, Clock.real(), threading.Event())
        job.skip("2026-W48", SKIP_DUE, NOW, "12h late, more than max_lateness 12h00m")
        issue = ensure_issue(config, db, NOW, "2026-W49")
        assert issue is not None
        summary = send_issue(config, db, issue, lambda: NOW, threading.Event())
        assert summary.done, summary


if __name__ == "__main__":
    if "--strip-ids" in sys.argv[2:]:
        strip_ids(Path("content"))
    main(Path(sys.argv[1]))
