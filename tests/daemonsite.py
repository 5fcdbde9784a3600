"""Helpers for the daemon's end-to-end tests: a site in tmp_path, the daemon as a real
subprocess with the test clock; the SMTP server is ``tests.smtpfixture``.

Every wait is a poll loop with a deadline; every process is killed when a test ends.
"""

from __future__ import annotations

import email
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from swfeed.daemon.clock import TEST_CLOCK_ENV
from swfeed.store import Database
from swfeed.store.issues import IssueStore
from swfeed.store.subscribers import NewEntry, SubscriberStore
from tests.smtpfixture import ScriptedHandler

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CONTENT = ROOT / "content"

Event = dict[str, Any]

CONFIG = """\
site:
  title: SecurityWomen
  url: https://www.securitywomen.org/
  description: News on women, peace and security.
  timezone: Europe/London
  author:
    name: SecurityWomen
sources:
  - kind: content
    name: site
    path: content
store:
  path: var/swfeed.sqlite3
output:
  path: public
feeds:
  per_category: false
schedule:
  fetch_every: {fetch_every}
  digest: {digest}
  max_lateness: {max_lateness}
"""

DIGEST = """\
digest:
  postal_address: 1 Test Street, London
  # The sample's stories are weeks or years old at these tests' dates; they are about
  # sending once, so every story counts as fresh.
  max_age: 1000w
delivery:
  method: smtp
  from_address: news@securitywomen.org
  unsubscribe_mailto: unsubscribe@securitywomen.org
  smtp:
    host: 127.0.0.1
    port: {port}
    starttls: false
    timeout: 10
"""


def periods_received(handler: ScriptedHandler) -> Counter[tuple[str, str]]:
    """How many messages the server received per (recipient, issue period).

    The period is read from the Message-ID, which delivery derives from (issue, recipient).
    """
    counts: Counter[tuple[str, str]] = Counter()
    for address, messages in list(handler.messages.items()):
        for raw in list(messages):
            message_id = str(email.message_from_bytes(raw)["Message-ID"])
            counts[(address.lower(), message_id.split(".")[1])] += 1
    return counts


@dataclass
class Site:
    """A copy of the sample site with its own config, store and output folder."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "swfeed.yaml"

    @property
    def store(self) -> Path:
        return self.root / "var" / "swfeed.sqlite3"

    @property
    def content(self) -> Path:
        return self.root / "content"

    @property
    def atom(self) -> Path:
        return self.root / "public" / "feeds" / "atom.xml"

    def write_config(
        self,
        *,
        fetch_every: str = "1h",
        digest: str = "monday 09:00",
        max_lateness: str = "12h",
        smtp_port: int | None = None,
    ) -> None:
        text = CONFIG.format(fetch_every=fetch_every, digest=digest, max_lateness=max_lateness)
        if smtp_port is not None:
            text += DIGEST.format(port=smtp_port)
        self.config.write_text(text, encoding="utf-8")

    def add_subscribers(self, count: int) -> list[str]:
        addresses = [f"reader{n:02d}@example.org" for n in range(count)]
        db = Database(self.store)
        try:
            people = SubscriberStore(db)
            for address in addresses:
                people.add(NewEntry(address, ""), datetime(2026, 1, 1, tzinfo=UTC), [])
        finally:
            db.close()
        return addresses

    def add_article(self, slug: str, title: str, date: str) -> Path:
        path = self.content / "news" / f"{slug}.md"
        path.write_text(
            f"---\ntitle: {title}\ndate: {date}\ncategories: [Test]\n---\n"
            f"{title}: a test article written while the daemon runs.\n",
            encoding="utf-8",
        )
        return path


def make_site(root: Path) -> Site:
    """Copy the sample content folder into ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(SAMPLE_CONTENT, root / "content")
    return Site(root)


class DaemonProcess:
    """``python -m swfeed --config ... run --log-format json`` as a real subprocess."""

    def __init__(self, site: Site, clock: str | None, name: str = "daemon") -> None:
        env = dict(os.environ)
        env.pop(TEST_CLOCK_ENV, None)
        if clock is not None:
            env[TEST_CLOCK_ENV] = clock
        self.log_path = site.root / f"{name}.log"
        self.log_path.write_text("")
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "swfeed",
                    "--config",
                    str(site.config),
                    "run",
                    "--log-format",
                    "json",
                ],
                stdout=log,
                stderr=log,
                env=env,
                cwd=site.root,
            )

    def events(self) -> list[Event]:
        found: list[Event] = []
        for line in self.log_path.read_text(encoding="utf-8").splitlines():
            if line.startswith("{"):
                found.append(json.loads(line))
        return found

    def named(self, name: str) -> list[Event]:
        return [event for event in self.events() if event.get("event") == name]

    def wait_for(self, predicate: Callable[[Event], bool], timeout: float = 15.0) -> Event:
        """The first logged event matching ``predicate``; fails after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events():
                if predicate(event):
                    return event
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no matching event; log:\n{self.log_path.read_text()}")

    def wait_event(self, name: str, timeout: float = 15.0, **fields: Any) -> Event:
        return self.wait_for(
            lambda e: e.get("event") == name and all(e.get(k) == v for k, v in fields.items()),
            timeout,
        )

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, then the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


@contextmanager
def running(site: Site, clock: str | None, name: str = "daemon") -> Iterator[DaemonProcess]:
    """A daemon for the length of the block; killed if the test did not stop it."""
    daemon = DaemonProcess(site, clock, name)
    try:
        yield daemon
    finally:
        daemon.close()


def wait_until(check: Callable[[], bool], timeout: float = 15.0, what: str = "") -> None:
    """Poll ``check`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or check}")


def issue_status(site: Site, period: str) -> str | None:
    """The status of ``period`` in the site's store: its issue's, ``skipped``, or None."""
    with Database(site.store) as db:
        return IssueStore(db).status_of(period)


FAST = "scale=10"
"""The real time, ten times as fast: fetch_every's least, 10s, is a second."""


def clock(start: str, scale: float = 1.0) -> str:
    """A SWFEED_TEST_CLOCK value."""
    return f"start={start};scale={scale}"
