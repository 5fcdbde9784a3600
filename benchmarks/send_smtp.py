"""Sending an issue to 10,000 recipients through SMTP on loopback, against a bare smtplib loop.

An aiosmtpd sink runs in its own process (so it does not share this process's GIL). The two
sides take turns: a bare ``smtplib`` loop sends one rendered message's bytes to every
recipient over one reused connection; ``send_issue`` sends a fresh issue (new period, new
ledger) to every subscriber (ledger commits, per-recipient rendering, reply
classification). Medians and min–max of CPU and wall time; the rate ratio is swfeed / bare
from the median wall times (target: at least 0.8). Peak memory is measured in a separate
traced run.

swfeed runs with the product's configuration: ``messages_per_connection`` is left at its
default (100: a new connection, EHLO and QUIT every 100 messages), unless
``--per-connection N`` sets it.

    .venv/bin/python benchmarks/send_smtp.py [--recipients 10000] [--runs 3]
        [--per-connection N]
"""

from __future__ import annotations

import argparse
import resource
import smtplib
import subprocess
import sys
import tempfile
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from timing import alternate, in_process
from timing import report as report_samples

from swfeed.config import Config, SmtpConfig, load_config
from swfeed.delivery.message import Recipient, build_template
from swfeed.delivery.send import send_issue
from swfeed.delivery.settings import message_settings
from swfeed.models import RECIPIENT_ADDRESS_TOKEN, UNSUBSCRIBE_URL_TOKEN, DigestIssue
from swfeed.store import Database
from swfeed.store.deliveries import State
from swfeed.store.issues import IssueStore
from swfeed.store.subscribers import NewEntry, SubscriberStore

SLICE = 1000
NOW = datetime(2026, 3, 9, 9, tzinfo=UTC)

SINK = """
import asyncio, sys
from aiosmtpd.controller import Controller

class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"

controller = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
"""

CONFIG = """\
site: {{title: Bench, url: "https://news.example.org/", description: d,
        timezone: Europe/London, author: {{name: Desk}}}}
sources: [{{kind: content, name: site, path: content}}]
store: {{path: store.sqlite3}}
delivery:
  method: smtp
  from_address: news@example.org
  unsubscribe_secret: "bench-secret-0123456789-abcdefghijklmnop"
  unsubscribe_mailto: leave@example.org
  smtp: {{host: 127.0.0.1, port: {port}, starttls: false{per_connection}}}
"""


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def make_issue(period: str) -> DigestIssue:
    """A realistic issue: about 40 KB of inlined HTML, 6 KB of text, both placeholders."""
    style = 'style="font-family:Georgia,serif;font-size:16px;line-height:1.5;color:#222222"'
    story = (
        f'<tr><td {style}><img src="https://news.example.org/media/p.jpg" alt="A photo" '
        f'width="560" style="display:block;width:100%;height:auto"><h2 {style}>Women '
        f"mediators shape the ceasefire talks in the region</h2><p {style}>"
        + "Negotiators say the inclusion of women's groups changed the agenda. "
        * 12
        + '</p><a href="https://news.example.org/news/story" style="color:#8a1538">Read more'
        "</a></td></tr>\n"
    )
    html = (
        "<!doctype html><html lang=en><body><table role=presentation width=600>"
        + story * 12
        + f'<tr><td>Sent to {RECIPIENT_ADDRESS_TOKEN}. <a href="{UNSUBSCRIBE_URL_TOKEN}">'
        "Unsubscribe</a></td></tr></table></body></html>"
    )
    text = (
        "Women mediators shape the ceasefire talks in the region\n"
        + "Negotiators say the inclusion of women's groups changed the agenda.\n" * 6
        + "https://news.example.org/news/story\n\n"
    ) * 12 + f"Sent to {RECIPIENT_ADDRESS_TOKEN}.\nUnsubscribe: {UNSUBSCRIBE_URL_TOKEN}\n"
    return DigestIssue(period, NOW, "Bench weekly: 12 stories", html, text, (), NOW)


def setup(folder: Path, port: int, recipients: int, per_connection: int | None) -> Config:
    """A config sending to the sink (the product default per connection unless given)."""
    (folder / "content").mkdir()
    path = folder / "swfeed.yaml"
    reuse = f", messages_per_connection: {per_connection}" if per_connection else ""
    path.write_text(CONFIG.format(port=port, per_connection=reuse))
    config = load_config(path)
    db = Database(config.store.path)
    entries = [NewEntry(f"r{n:05d}@example.com") for n in range(recipients)]
    SubscriberStore(db).import_all(entries, NOW, lambda _address: [])
    db.close()
    return config


def run_swfeed(config: Config, period: str) -> None:
    db = Database(config.store.path)
    issue = IssueStore(db).create(make_issue(period))
    summary = send_issue(config, db, issue, lambda: datetime.now(UTC))
    db.close()
    assert summary.done, summary
    assert summary.totals[State.SENT] == summary.total, summary


def run_bare(config: Config, count: int) -> None:
    """The floor: one rendered message's bytes, sendmail() in a loop, one connection."""
    message = build_template(make_issue("2026-W01"), message_settings(config), NOW).render(
        Recipient("r00000@example.com")
    )
    assert config.delivery is not None
    assert config.delivery.smtp is not None
    conn = smtplib.SMTP("127.0.0.1", config.delivery.smtp.port, timeout=30)
    conn.ehlo()
    for n in range(count):
        conn.sendmail("news@example.org", [f"r{n:05d}@example.com"], message)
    conn.quit()


def traced_peak(config: Config, period: str) -> float:
    """Peak Python heap (MiB) while sending a whole issue, by tracemalloc."""
    tracemalloc.start()
    run_swfeed(config, period)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3, help="issues sent by each side")
    parser.add_argument(
        "--per-connection",
        type=int,
        default=None,
        help="delivery.smtp.messages_per_connection for swfeed (default: the product's, "
        f"{SmtpConfig.model_fields['messages_per_connection'].default})",
    )
    args = parser.parse_args()
    port = free_port()
    with running_sink(port), tempfile.TemporaryDirectory() as folder:
        config = setup(Path(folder), port, args.recipients, args.per_connection)
        report(config, args)


@contextmanager
def running_sink(port: int) -> Iterator[None]:
    """The aiosmtpd sink in a process of its own on 127.0.0.1:``port``, while inside."""
    sink = subprocess.Popen(
        [sys.executable, "-c", SINK, str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert sink.stdout is not None
    assert sink.stdout.readline().strip() == b"ready"
    try:
        yield
    finally:
        assert sink.stdin is not None
        sink.stdin.close()
        sink.wait(timeout=10)


def report(config: Config, args: argparse.Namespace) -> None:
    periods = (f"2026-W{week:02d}" for week in range(2, 53))
    samples = alternate(
        {
            "bare smtplib loop": in_process(lambda: run_bare(config, args.recipients)),
            "swfeed send_issue": in_process(lambda: run_swfeed(config, next(periods))),
        },
        args.runs,
        warmup=0,
    )
    size = build_template(make_issue("2026-W01"), message_settings(config), NOW).size
    assert config.delivery is not None
    assert config.delivery.smtp is not None
    reuse = config.delivery.smtp.messages_per_connection
    print(f"{args.recipients:,} recipients, messages of ~{size // 1000} KB")
    print(f"swfeed: {reuse} messages per connection; bare loop: one connection for all")
    report_samples("sending one issue, in this process", samples, "bare smtplib loop", unit="s")
    for name, side in samples.items():
        rate = args.recipients / side.median("wall")
        print(f"  {name}: {rate:,.0f} msg/s (median wall time)")
    share = samples["bare smtplib loop"].median("wall") / samples["swfeed send_issue"].median(
        "wall"
    )
    print(f"  rate swfeed / bare: {share:.2f}   target: at least 0.8")
    peak = traced_peak(config, "2026-W53")
    print(f"peak traced Python memory while sending {args.recipients:,}: {peak:.1f} MiB")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"max RSS of this process: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
