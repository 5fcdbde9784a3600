"""The send rate over SMTP on loopback with DKIM signing (RSA 2048) against without.

An aiosmtpd sink runs in its own process (so it does not share this process's GIL). Two
configs differ only in ``delivery.dkim``: both give each message a VERP envelope sender.
Each round sends a fresh issue (new period, new ledger) to every subscriber with
``send_issue``, unsigned then signed (A B A B ...); the figures are each side's median and
min-max over the rounds, and the ratio of the medians. The target is at least 50 signed
messages a second (100,000 recipients in about half an hour).

    .venv/bin/python benchmarks/send_dkim.py [--recipients 500] [--rounds 5] [--ed25519]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from send_smtp import CONFIG as SMTP_CONFIG
from send_smtp import NOW, free_port, make_issue, running_sink

from swfeed.config import Config, load_config
from swfeed.delivery.send import send_issue
from swfeed.store import Database
from swfeed.store.deliveries import State
from swfeed.store.issues import IssueStore
from swfeed.store.subscribers import NewEntry, SubscriberStore

TARGET = 50.0

BOUNCE_ADDRESS = "  bounce_address: bounces@news.example.org\n"


def write_keys(folder: Path) -> tuple[Path, Path]:
    """An RSA 2048 key and an Ed25519 key, PEM."""
    pkcs8 = serialization.PrivateFormat.PKCS8
    rsa_file, ed_file = folder / "rsa.pem", folder / "ed25519.pem"
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_file.write_bytes(
        rsa_key.private_bytes(serialization.Encoding.PEM, pkcs8, serialization.NoEncryption())
    )
    ed_key = ed25519.Ed25519PrivateKey.generate()
    ed_file.write_bytes(
        ed_key.private_bytes(serialization.Encoding.PEM, pkcs8, serialization.NoEncryption())
    )
    return rsa_file, ed_file


def setup(folder: Path, port: int, recipients: int, dkim: str) -> Config:
    folder.mkdir()
    (folder / "content").mkdir()
    path = folder / "swfeed.yaml"
    path.write_text(SMTP_CONFIG.format(port=port, per_connection="") + BOUNCE_ADDRESS + dkim)
    config = load_config(path)
    with Database(config.store.path) as db:
        entries = [NewEntry(f"r{n:05d}@example.com") for n in range(recipients)]
        SubscriberStore(db).import_all(entries, NOW, lambda _address: [])
    return config


def dkim_section(rsa_file: Path, ed_file: Path, dual: bool) -> str:
    text = (
        f"  dkim:\n    domain: example.org\n    selector: bench\n    private_key_file: {rsa_file}\n"
    )
    if dual:
        text += f"    ed25519_selector: bench-ed\n    ed25519_key_file: {ed_file}\n"
    return text


def run(config: Config, period: str) -> float:
    """Messages per second of one whole send of a fresh issue."""
    with Database(config.store.path) as db:
        issue = IssueStore(db).create(make_issue(period))
        start = time.perf_counter()
        summary = send_issue(config, db, issue, lambda: datetime.now(UTC))
        elapsed = time.perf_counter() - start
    assert summary.done, summary
    assert summary.totals[State.SENT] == summary.total, summary
    return summary.total / elapsed


def report(name: str, rates: list[float]) -> None:
    print(
        f"{name:>9}: median {statistics.median(rates):6.1f} msg/s "
        f"(min {min(rates):.1f}, max {max(rates):.1f}; {len(rates)} runs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ed25519", action="store_true", help="sign with Ed25519 as well")
    args = parser.parse_args()
    port = free_port()
    with running_sink(port), tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        rsa_file, ed_file = write_keys(folder)
        plain = setup(folder / "unsigned", port, args.recipients, "")
        dkim = dkim_section(rsa_file, ed_file, args.ed25519)
        signed = setup(folder / "signed", port, args.recipients, dkim)
        rates: dict[str, list[float]] = {"unsigned": [], "signed": []}
        for number in range(args.rounds):
            period = f"2026-W{number + 2:02d}"
            rates["unsigned"].append(run(plain, period))
            rates["signed"].append(run(signed, period))
    keys = "RSA 2048 + Ed25519" if args.ed25519 else "RSA 2048"
    print(f"{args.recipients} recipients x {args.rounds} rounds, alternating; signed with {keys}")
    report("unsigned", rates["unsigned"])
    report("signed", rates["signed"])
    ratio = statistics.median(rates["signed"]) / statistics.median(rates["unsigned"])
    verdict = "meets" if statistics.median(rates["signed"]) >= TARGET else "MISSES"
    print(f"ratio signed / unsigned (medians): {ratio:.2f}")
    print(f"signed median {verdict} the target of {TARGET:.0f} msg/s")


if __name__ == "__main__":
    main()
