"""Report mails from tests/data/bounces, made out to a real message, and a config to read them."""

from __future__ import annotations

import itertools
from pathlib import Path

from swfeed.config import Config
from swfeed.delivery.message import MessageSettings, message_id
from swfeed.delivery.verp import Kind, envelope_sender
from tests.conftest import ROOT
from tests.smtpfixture import SECRET, write_config

SAMPLES = ROOT / "tests" / "data" / "bounces"
BOUNCE_ADDRESS = "bounces@news.example.org"
_counter = itertools.count()


def bounce_config(
    folder: Path, port: int = 25, *, method: str = "outbox", delivery: str = "", soft_limit: int = 3
) -> Path:
    """A config with a VERP bounce address and a bounce Maildir in ``folder``."""
    path = write_config(
        folder,
        port,
        method=method,
        extra=f"bounces:\n  maildir: bounces\n  soft_limit: {soft_limit}\n",
    )
    lines = f"  bounce_address: {BOUNCE_ADDRESS}\n{delivery}"
    path.write_text(path.read_text().replace("  smtp:\n", lines + "  smtp:\n", 1))
    return path


def verp_of(address: str, period: str | None, kind: Kind = Kind.ISSUE) -> str:
    """The envelope sender swfeed gives ``period``'s copy to ``address``."""
    return envelope_sender(BOUNCE_ADDRESS, SECRET.encode(), kind, address, period)


def sample(
    name: str, address: str, period: str | None = "2026-W11", verp: str | None = None
) -> bytes:
    """The sample report ``name`` about ``period``'s copy to ``address``."""
    settings = MessageSettings("news@example.org", "Test Desk", "Test", "digest.news.example.org")
    text = (SAMPLES / name).read_text(encoding="utf-8")
    text = text.replace("{{VERP}}", verp or verp_of(address, period))
    text = text.replace("{{RCPT}}", address)
    text = text.replace("{{MSGID}}", message_id(period or "list", address, settings))
    return text.replace("\n", "\r\n").encode("utf-8")


def deliver(config: Config, raw: bytes) -> Path:
    """Put a mail into the bounce Maildir's new/ as a delivery agent would."""
    assert config.bounces is not None
    assert config.bounces.maildir is not None
    new = config.bounces.maildir / "new"
    new.mkdir(parents=True, exist_ok=True)
    path = new / f"1773046800.M{next(_counter)}P1.test"
    path.write_bytes(raw)
    return path
