"""A store written by swfeed 0.1 opens, upgrades in place, and re-announces nothing.

``tests/data/stores/release-0.1.sqlite3`` was made by the 0.1 release (see the script beside
it): the sample site loaded, week 2026-W48 skipped by the daemon, 2026-W49 sent to three
subscribers. ``release-0.1-url-ids.sqlite3`` is the same from a sample without ``id:``
lines, so 0.1 stored each article under its ``/news/<slug>`` URL; today's sample links to
``/post/<slug>`` pages.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import lxml.etree
import pytest
import time_machine

from swfeed.cli import main
from swfeed.config import load_config
from swfeed.delivery.outbox import outbox_folder
from swfeed.delivery.settings import unsubscribe_secret
from swfeed.mailinglist.tokens import make_token
from swfeed.store import Database
from swfeed.store.articles import ArticleStore
from swfeed.store.bounces import BounceStore
from swfeed.store.deliveries import DeliveryStore, State
from swfeed.store.issues import IssueStore
from swfeed.store.pings import PingStore
from swfeed.store.schema import MIGRATIONS
from swfeed.store.subscribers import Status, SubscriberStore, Via
from tests.conftest import ROOT
from tests.test_web import running

RELEASE_0_1 = ROOT / "tests" / "data" / "stores" / "release-0.1.sqlite3"
NOW = datetime(2026, 11, 30, 10, 30, tzinfo=UTC)
RELEASE_0_1_URL_IDS = ROOT / "tests" / "data" / "stores" / "release-0.1-url-ids.sqlite3"
ATOM = "{http://www.w3.org/2005/Atom}"
AFTER_UPGRADE = datetime(2026, 11, 30, 10, 30, tzinfo=UTC)
NEXT_DIGEST = datetime(2026, 12, 7, 9, 5, tzinfo=UTC)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sample site with the 0.1 store as its store; the config's path."""
    monkeypatch.setenv(
        "SWFEED_UNSUBSCRIBE_SECRET", "sample-only-secret-set-your-own-SWFEED_UNSUBSCRIBE_SECRET"
    )
    shutil.copytree(ROOT / "content", tmp_path / "content")
    (tmp_path / "config").mkdir()
    (tmp_path / "var").mkdir()
    shutil.copy(RELEASE_0_1, tmp_path / "var" / "swfeed.sqlite3")
    shutil.copy(ROOT / "config" / "swfeed.yaml", tmp_path / "config" / "swfeed.yaml")
    return tmp_path / "config" / "swfeed.yaml"


@pytest.fixture
def url_id_site(site: Path) -> Path:
    """The sample without id: lines, with the 0.1 store that used URLs as ids."""
    for path in (site.parent.parent / "content").rglob("*.md"):
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        path.write_text("".join(line for line in lines if not line.startswith("id: ")))
    shutil.copy(RELEASE_0_1_URL_IDS, site.parent.parent / "var" / "swfeed.sqlite3")
    return site


def stored_ids(site: Path) -> set[str]:
    with Database(site.parent.parent / "var" / "swfeed.sqlite3") as db:
        return {str(row[0]) for row in db.conn.execute("SELECT id FROM articles")}


def atom_entries(site: Path) -> dict[str, str]:
    """id -> alternate link of each entry of the main Atom feed."""
    root = lxml.etree.parse(site.parent.parent / "public" / "feeds" / "atom.xml").getroot()
    found = {}
    for entry in root.iter(f"{ATOM}entry"):
        link = entry.find(f"{ATOM}link[@rel='alternate']")
        assert link is not None
        found[entry.findtext(f"{ATOM}id") or ""] = link.get("href") or ""
    return found


def publish_and_send(site: Path) -> str:
    """What 0.1's users run next: publish and send, then next week's send; the output."""
    with time_machine.travel(AFTER_UPGRADE, tick=False):
        assert main(["--config", str(site), "publish"]) == 0
        assert main(["--config", str(site), "digest", "send"]) == 0
    with time_machine.travel(NEXT_DIGEST, tick=False):
        assert main(["--config", str(site), "digest", "send"]) == 0
    return str(site)


def outbox_is_empty(site: Path) -> bool:
    outbox = outbox_folder(load_config(site)) / "new"
    return not outbox.exists() or not any(outbox.iterdir())


def test_the_release_store_upgrades_to_the_current_schema(site: Path) -> None:
    """Opening it runs the new migrations; issues, ledger and articles are all there."""
    store = site.parent.parent / "var" / "swfeed.sqlite3"
    with Database(store) as db:
        assert db.schema_version == len(MIGRATIONS)
        issues = IssueStore(db)
        sent = issues.get("2026-W49")
        assert sent is not None
        assert len(sent.headlines) == len(sent.article_ids) > 0
        assert DeliveryStore(db).counts("2026-W49")[State.SENT] == 3


def test_the_daemons_skipped_week_becomes_a_status(site: Path) -> None:
    """0.1's empty placeholder issue for a skipped week is now a skipped period."""
    with Database(site.parent.parent / "var" / "swfeed.sqlite3") as db:
        issues = IssueStore(db)
        assert issues.get("2026-W48") is None
        assert issues.status_of("2026-W48") == "skipped"
        (skip,) = issues.skipped()
        assert "max_lateness" in skip.reason


def test_nothing_is_announced_or_mailed_again(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After the upgrade: no article is new, no issue is made or sent again."""
    with time_machine.travel(datetime(2026, 11, 30, 10, 30, tzinfo=UTC), tick=False):
        assert main(["--config", str(site), "publish"]) == 0
        assert main(["--config", str(site), "digest", "send"]) == 0
        assert main(["--config", str(site), "digest", "send", "--period", "2026-W49"]) == 0
    with time_machine.travel(datetime(2026, 12, 7, 9, 5, tzinfo=UTC), tick=False):
        assert main(["--config", str(site), "digest", "send"]) == 0
    out = capsys.readouterr().out
    assert "site: 0 new, 9 updated, 0 unchanged, 0 removed, 0 failed" in out
    assert "issue 2026-W49: nothing to send: issue already sent" in out
    assert "no issue to send: nothing new since the last one" in out
    assert outbox_is_empty(site)


def test_a_row_0_1_left_in_flight_stays_unknown_after_the_upgrade(site: Path) -> None:
    """0.1 could not tell how far an in-flight message got: after the upgrade it is unknown."""
    store = site.parent.parent / "var" / "swfeed.sqlite3"
    raw = sqlite3.connect(store)
    with raw:
        raw.execute(
            "UPDATE deliveries SET state = 'sending' WHERE rowid ="
            " (SELECT MIN(rowid) FROM deliveries WHERE period = '2026-W49')"
        )
    raw.close()
    with Database(store) as db:
        ledger = DeliveryStore(db)
        assert len(ledger.recover_in_flight("2026-W49", datetime(2026, 12, 1, tzinfo=UTC))) == 1
        assert ledger.counts("2026-W49")[State.UNKNOWN] == 1


def test_the_upgraded_store_keeps_what_hubs_are_owed(site: Path) -> None:
    """Migration 7 adds the WebSub ledger: an upgraded store records owed pings, reads
    them back and forgets them once sent; its articles are not touched."""
    store = site.parent.parent / "var" / "swfeed.sqlite3"
    with Database(store) as db:
        before = ArticleStore(db).count()
        pings = PingStore(db)
        hub, feed = "https://hub.example.org/", "https://www.securitywomen.org/feeds/rss.xml"
        pings.queue([hub], [feed], NOW)
        assert pings.due(hub, NOW) == [feed]
        pings.done(hub, [feed], NOW, "ok (HTTP 204)")
        assert pings.summary(hub).pending == 0
        assert pings.summary(hub).last_result == "ok (HTTP 204)"
        assert ArticleStore(db).count() == before == 9


def test_the_release_store_gains_bounce_records_and_rates(site: Path) -> None:
    """Migration 8 adds the bounce tables; 0.1's sent issue has rates over its 3 messages."""
    with Database(site.parent.parent / "var" / "swfeed.sqlite3") as db:
        rates = BounceStore(db).rates("2026-W49")
        assert (rates.handed_over, rates.hard, rates.complaints) == (3, 0, 0)
        assert BounceStore(db).events() == []


def test_subscribers_stay_active_with_all_topics(site: Path) -> None:
    """The list of 0.1 is kept: everyone active, every topic, joined before consent records."""
    with Database(site.parent.parent / "var" / "swfeed.sqlite3") as db:
        people = SubscriberStore(db).all()
    assert len(people) == 3
    assert {(p.status, p.topics, p.joined_via) for p in people} == {(Status.ACTIVE, (), Via.LEGACY)}
    assert len({p.ident for p in people}) == 3


def test_one_click_links_of_issues_already_sent_still_unsubscribe(site: Path) -> None:
    """The 0.1 link format (address + HMAC) in issue 2026-W49 still unsubscribes (RFC 8058)."""
    config = load_config(site)
    secret = unsubscribe_secret(config)
    assert secret is not None
    token = make_token(secret, "reader@example.org")
    with running(config) as started:
        response = started.client.post(
            f"/unsubscribe?t={token}", data={"List-Unsubscribe": "One-Click"}
        )
    assert response.status_code == 200
    with Database(config.store.path) as db:
        found = SubscriberStore(db).get("reader@example.org")
    assert found is not None
    assert found.status is Status.UNSUBSCRIBED


def test_feed_entries_keep_their_ids_and_link_to_post_pages(site: Path) -> None:
    """The sample's own ids survive; the links move from /news/ to /post/."""
    before = stored_ids(site)
    publish_and_send(site)
    entries = atom_entries(site)
    assert set(entries) == before
    assert all("/post/" in link for link in entries.values())


def test_url_ids_of_0_1_survive_the_post_links(
    url_id_site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ids that fell back to /news/ URLs stay the ids: no story is new in feeds or issues."""
    before = stored_ids(url_id_site)
    assert all("/news/" in article_id for article_id in before)
    publish_and_send(url_id_site)
    out = capsys.readouterr().out
    assert "site: 0 new, 9 updated, 0 unchanged, 0 removed, 0 failed" in out
    assert "no issue to send: nothing new since the last one" in out
    entries = atom_entries(url_id_site)
    assert set(entries) == before
    assert all("/post/" in link for link in entries.values())
    assert outbox_is_empty(url_id_site)


def test_url_ids_of_0_1_survive_a_renamed_file(
    url_id_site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After the upgrade, renaming an article file keeps its 0.1 id."""
    before = stored_ids(url_id_site)
    publish_and_send(url_id_site)
    news = url_id_site.parent.parent / "content" / "news"
    (news / "2025-10-10-resilient-leaders-powerful-mentors.md").rename(
        news / "2025-10-10-resilient-leaders.md"
    )
    with time_machine.travel(NEXT_DIGEST, tick=False):
        assert main(["--config", str(url_id_site), "publish"]) == 0
    assert "site: 0 new, 1 updated, 8 unchanged, 0 removed" in capsys.readouterr().out
    assert stored_ids(url_id_site) == before


def test_category_rows_carry_their_articles_published_time(site: Path) -> None:
    """The upgrade gives each category row its article's published time (feed order)."""
    with Database(site.parent.parent / "var" / "swfeed.sqlite3") as db:
        rows = db.conn.execute(
            "SELECT c.published, a.published FROM article_categories c"
            " JOIN articles a ON a.id = c.article_id"
        ).fetchall()
    assert rows
    assert all(category == article for category, article in rows)
