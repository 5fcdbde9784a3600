"""Topic variants: each subscriber gets only their topics, one frozen variant per topic set,
sent exactly once per recipient through the one digest path, across a stop and a resume."""

from __future__ import annotations

import email
import email.policy
import shutil
import threading
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
import time_machine

from swfeed import pipeline
from swfeed.cli import main
from swfeed.config import Config, load_config
from swfeed.delivery.outbox import outbox_folder
from swfeed.digest.freeze import ensure_issue
from swfeed.store import Database
from swfeed.store.deliveries import NOTHING_ON_TOPICS, DeliveryStore, State
from swfeed.store.subscribers import NewEntry, SubscriberStore
from tests.conftest import ROOT

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PEOPLE = {
    "all@example.org": None,
    "rwanda@example.org": ("rwanda",),
    "careers@example.org": ("careers",),
    "nothing@example.org": ("no-such-topic",),
}


@pytest.fixture
def site(tmp_path: Path) -> Config:
    """The sample site, fetched, with four subscribers of different topics."""
    shutil.copytree(ROOT / "content", tmp_path / "content")
    (tmp_path / "config").mkdir()
    path = tmp_path / "config" / "swfeed.yaml"
    sample = (ROOT / "config" / "swfeed.yaml").read_text(encoding="utf-8")
    # the sample's stories are months old in November: let every one count as fresh
    path.write_text(
        sample.replace("  max_articles: 12\n", "  max_articles: 12\n  max_age: 1000w\n")
    )
    with time_machine.travel(datetime(2026, 11, 20, 12, tzinfo=UTC), tick=False):
        assert main(["--config", str(path), "fetch"]) == 0
    config = load_config(path)
    with Database(config.store.path) as db:
        for address, topics in PEOPLE.items():
            SubscriberStore(db).add(NewEntry(address, "", topics), MONDAY, [])
    return config


def received(config: Config) -> dict[str, list[EmailMessage]]:
    """The outbox's messages by recipient."""
    found: dict[str, list[EmailMessage]] = {}
    for path in sorted((outbox_folder(config) / "new").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        found.setdefault(message["To"].addresses[0].addr_spec, []).append(message)
    return found


def stories(message: EmailMessage) -> list[str]:
    """The story links of a message's text part."""
    part = message.get_body(("plain",))
    assert part is not None
    text = str(part.get_content())
    return sorted({word for word in text.split() if "securitywomen.org/post/" in word})


def send(config: Config, stop: threading.Event | None = None) -> None:
    with time_machine.travel(MONDAY, tick=False), Database(config.store.path) as db:
        issue = ensure_issue(config, db, MONDAY)
        assert issue is not None
        progress = (lambda _p: stop.set()) if stop else None
        pipeline.deliver_issue(config, db, issue, lambda: MONDAY, stop, progress)


def test_each_subscriber_gets_only_their_topics(site: Config) -> None:
    """All-topics gets every story; the Rwanda subscriber gets only the Rwanda stories."""
    send(site)
    got = received(site)
    everything = stories(got["all@example.org"][0])
    rwanda = stories(got["rwanda@example.org"][0])
    assert 0 < len(rwanda) < len(everything)
    assert set(rwanda) < set(everything)


def test_a_topic_set_with_nothing_new_gets_no_email(site: Config) -> None:
    """A subscriber whose topics have nothing this week gets no message; the ledger says why."""
    send(site)
    assert "nothing@example.org" not in received(site)
    with Database(site.store.path) as db:
        rows = DeliveryStore(db).with_state("2026-W48", State.SKIPPED)
    assert [(r.address, r.last_error) for r in rows] == [("nothing@example.org", NOTHING_ON_TOPICS)]


def test_one_variant_per_topic_set_is_frozen(site: Config) -> None:
    """Variants are stored once per distinct set (the all-topics set is the issue itself)."""
    send(site)
    with Database(site.store.path) as db:
        rows = db.conn.execute("SELECT topics FROM issue_variants ORDER BY topics").fetchall()
    assert [row[0] for row in rows] == ["careers", "rwanda"]


def test_topics_changed_after_freezing_do_not_change_the_issue(site: Config) -> None:
    """A change of topics after sending started applies from the next issue; after a stop
    and a resume every recipient got exactly one message, of the variant frozen for them."""
    stop = threading.Event()
    send(site, stop)  # stops after the first message
    with Database(site.store.path) as db:
        found = SubscriberStore(db).get("rwanda@example.org")
        assert found is not None
        SubscriberStore(db).save_preferences(found.ident, ("careers",), None, MONDAY)
    send(site)
    got = received(site)
    assert {address: len(messages) for address, messages in got.items()} == {
        "all@example.org": 1,
        "careers@example.org": 1,
        "rwanda@example.org": 1,
    }
    assert stories(got["rwanda@example.org"][0]) != stories(got["careers@example.org"][0])


def test_the_cli_send_follows_topics(site: Config) -> None:
    """`swfeed digest send` (the daemon's path too) sends the topic variants."""
    assert site.source_file is not None
    with time_machine.travel(MONDAY, tick=False):
        assert main(["--config", str(site.source_file), "digest", "send"]) == 0
    got = received(site)
    assert len(stories(got["careers@example.org"][0])) < len(stories(got["all@example.org"][0]))
