"""``swfeed status``: sources, newest article, next runs, last issues, the daemon."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from swfeed.cli import main
from swfeed.config import Config, load_config
from swfeed.daemon.lock import DaemonInfo, DaemonLock
from swfeed.models import Article, DigestIssue
from swfeed.status import gather_status, render_text, to_json
from swfeed.store import Database
from swfeed.store.articles import ArticleStore
from swfeed.store.deliveries import DeliveryStore, Outcome, State
from swfeed.store.issues import IssueStore
from swfeed.store.subscribers import NewEntry, SubscriberStore
from tests.conftest import MINIMAL_CONFIG, WriteConfig

NOW = datetime(2026, 3, 25, 12, tzinfo=UTC)
DIGEST_SECTIONS = """\
digest:
  postal_address: 1 Test Street, London
delivery:
  from_address: news@example.org
  unsubscribe_mailto: unsubscribe@example.org
"""


@pytest.fixture
def config(write_config: WriteConfig) -> Config:
    return load_config(write_config(MINIMAL_CONFIG + DIGEST_SECTIONS))


@pytest.fixture
def db(config: Config) -> Database:
    return Database(config.store.path)


def article(n: int, published: datetime) -> Article:
    return Article(
        id=f"a{n}",
        url=f"https://news.example.org/news/a{n}",
        title=f"Story {n}",
        published=published,
        source="site",
    )


def frozen_issue(db: Database, period: str, ids: tuple[str, ...]) -> None:
    IssueStore(db).create(
        DigestIssue(
            period=period,
            cutoff=NOW,
            subject="Weekly",
            html="<p>x</p>",
            text="x",
            article_ids=ids,
            created=NOW,
        )
    )


def test_fresh_store_reports_nothing_done_yet(config: Config, db: Database) -> None:
    """Before any fetch: source never fetched, no daemon, no issues, next digest computed."""
    status = gather_status(config, db, NOW)
    text = render_text(status)
    assert "daemon: not running" in text
    assert "site (content): never fetched" in text
    assert "issues: none yet" in text
    assert status.next_digest == datetime(2026, 3, 30, 8, tzinfo=UTC)
    assert "next digest: 2026-03-30 09:00 BST (monday 09:00 Europe/London)" in text


def test_newest_article_and_source_result_are_shown(config: Config, db: Database) -> None:
    """After a fetch: the source's last result and the newest article's title."""
    articles = ArticleStore(db)
    stories = [article(1, NOW - timedelta(days=2)), article(2, NOW - timedelta(days=1))]
    articles.apply_fetch("site", stories, [], {"v": 1}, NOW, "2 articles, 0 problems")
    text = render_text(gather_status(config, db, NOW))
    assert "site (content): ok, last fetch 2026-03-25 12:00 GMT: 2 articles" in text
    assert "newest: Story 2" in text
    assert "articles: 2" in text


def test_failing_source_shows_failures_and_next_attempt(config: Config, db: Database) -> None:
    """A failing source says how often it failed, the error, and when it is tried again."""
    articles = ArticleStore(db)
    articles.record_failure("site", NOW, "folder vanished", NOW + timedelta(minutes=2))
    articles.record_failure("site", NOW, "folder vanished", NOW + timedelta(minutes=4))
    text = render_text(gather_status(config, db, NOW))
    assert "FAILING (2 in a row" in text
    assert "next attempt 2026-03-25 12:04 GMT: folder vanished" in text


def test_issue_lines_count_deliveries_by_state(config: Config, db: Database) -> None:
    """Each issue shows its sent / deferred / failed / unknown counts from the ledger."""
    people = SubscriberStore(db)
    for name in ("a", "b", "c", "d"):
        people.add(NewEntry(f"{name}@example.org", ""), NOW, [])
    frozen_issue(db, "2026-W13", ())
    ledger = DeliveryStore(db)
    ledger.freeze("2026-W13", NOW)
    outcomes = {"a": State.SENT, "b": State.SENT, "c": State.UNKNOWN, "d": State.DEFERRED}
    for name, state in outcomes.items():
        ledger.record("2026-W13", f"{name}@example.org", Outcome(state), NOW)
    status = gather_status(config, db, NOW)
    assert status.issues[0].deliveries == {
        "sent": 2,
        "deferred": 1,
        "failed": 0,
        "unknown": 1,
        "pending": 0,
    }
    assert "2026-W13  sending  0 articles; sent 2, deferred 1, failed 0, unknown 1" in (
        render_text(status)
    )


def test_skipped_issue_shows_its_note(config: Config, db: Database) -> None:
    """An issue the daemon skipped is listed with the reason."""
    frozen_issue(db, "2026-W12", ())
    IssueStore(db).set_status("2026-W12", "skipped", NOW, "not sent: 30h00m late")
    text = render_text(gather_status(config, db, NOW))
    assert "2026-W12  skipped" in text
    assert "(not sent: 30h00m late)" in text


def test_running_daemon_and_its_next_runs_are_shown(config: Config, db: Database) -> None:
    """With a daemon holding the lock, status names its pid and its next fetch."""
    lock = DaemonLock(config.store.path)
    lock.acquire()
    try:
        lock.publish(
            DaemonInfo(
                pid=os.getpid(),
                started=NOW - timedelta(hours=1),
                config="swfeed.yaml",
                next_fetch=NOW + timedelta(minutes=15),
                next_digest=datetime(2026, 3, 30, 8, tzinfo=UTC),
            )
        )
        text = render_text(gather_status(config, db, NOW))
    finally:
        lock.release()
    assert f"daemon: running (pid {os.getpid()}, since 2026-03-25 11:00 GMT)" in text
    assert "next fetch: 2026-03-25 12:15 GMT" in text
    assert "when the daemon runs" not in text


def test_json_report_has_every_part(config: Config, db: Database) -> None:
    """The JSON form carries daemon, sources, newest article, next runs and issues."""
    frozen_issue(db, "2026-W13", ())
    data = to_json(gather_status(config, db, NOW))
    assert data["daemon"] == {
        "running": False,
        "pid": None,
        "reload_rejected_at": None,
        "reload_rejected": None,
    }
    assert data["sources"][0]["name"] == "site"
    assert data["next_digest"] == "2026-03-30T08:00:00+00:00"
    assert data["issues"][0]["period"] == "2026-W13"
    json.dumps(data)


def test_status_command_prints_the_report(
    config: Config, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """``swfeed status`` prints the text report; ``--json`` prints JSON."""
    db.close()
    assert config.source_file is not None
    assert main(["--config", str(config.source_file), "status"]) == 0
    assert "daemon: not running" in capsys.readouterr().out
    assert main(["--config", str(config.source_file), "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["daemon"]["running"] is False


def test_status_without_a_store_says_how_to_make_one(
    write_config: WriteConfig, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Before anything ran there is no store; status says so instead of creating one."""
    path = write_config()
    assert main(["--config", str(path), "status"]) == 0
    assert "no store yet" in capsys.readouterr().out
    assert not (tmp_path / "var").exists()


def test_unfinished_issue_shows_what_is_left_and_the_next_retry(
    config: Config, db: Database
) -> None:
    """A half-sent issue says it is being finished: how many are left, and the next retry."""
    for name in ("a", "b", "c"):
        SubscriberStore(db).add(NewEntry(f"{name}@example.org", ""), NOW, [])
    frozen_issue(db, "2026-W13", ())
    ledger = DeliveryStore(db)
    ledger.freeze("2026-W13", NOW)
    ledger.record("2026-W13", "a@example.org", Outcome(State.SENT), NOW)
    retry = datetime(2026, 3, 26, 10, tzinfo=UTC)
    ledger.record("2026-W13", "b@example.org", Outcome(State.DEFERRED, next_attempt=retry), NOW)
    status = gather_status(config, db, NOW)
    assert status.issues[0].next_retry == retry
    assert (
        "sent 1, deferred 1, failed 0, unknown 0, pending 1;"
        " hard bounces 0 (0.0%), complaints 0 (0.00%);"
        " being finished (next retry 2026-03-26 10:00 GMT)"
    ) in render_text(status)
    assert to_json(status)["issues"][0]["next_retry"] == retry.isoformat()


def test_unfinished_issue_older_than_the_listed_ones_is_shown(config: Config, db: Database) -> None:
    """An old issue still being finished is listed even when newer ones fill the list."""
    SubscriberStore(db).add(NewEntry("a@example.org", ""), NOW, [])
    frozen_issue(db, "2026-W01", ())
    DeliveryStore(db).freeze("2026-W01", NOW)
    for week in range(2, 9):
        frozen_issue(db, f"2026-W{week:02d}", ())
    periods = [issue.period for issue in gather_status(config, db, NOW, issue_limit=5).issues]
    assert periods == ["2026-W08", "2026-W07", "2026-W06", "2026-W05", "2026-W04", "2026-W01"]
