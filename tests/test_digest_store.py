"""The issues table: frozen issues, statuses, and which articles each issue took up."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from swfeed.errors import StoreError
from swfeed.models import DigestIssue, Headline
from swfeed.store import Database
from swfeed.store.issues import IssueConflict, IssueStore
from tests.test_digest_support import make_article, store_articles

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


def issue(period: str = "2026-W48", ids: tuple[str, ...] = (), **changes: object) -> DigestIssue:
    base = DigestIssue(
        period=period,
        cutoff=NOW,
        subject="SecurityWomen weekly: 2 stories",
        html="<html><body>Hello</body></html>",
        text="Hello\n",
        article_ids=ids,
        created=NOW,
        previous_cutoff=NOW - timedelta(days=7),
        archive_url=f"https://news.example.org/digest/{period}.html",
        headlines=(Headline("T", "https://news.example.org/t"),),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return Database(tmp_path / "store.sqlite3")


def test_created_issue_reads_back_equal(db: Database) -> None:
    """What create() returns is exactly what get() later returns."""
    store = IssueStore(db)
    created = store.create(issue(ids=("a", "b")))
    assert created == issue(ids=("a", "b"))
    assert store.get("2026-W48") == created


def test_create_never_overwrites_a_period(db: Database) -> None:
    """A second create for the same period keeps the first issue untouched."""
    store = IssueStore(db)
    first = store.create(issue(ids=("a",)))
    second = store.create(issue(ids=("b",), subject="Different", html="<p>other</p>"))
    assert second == first
    assert store.get("2026-W48") == first


def test_missing_period_is_none(db: Database) -> None:
    """get() and latest() on an empty store return None."""
    store = IssueStore(db)
    assert store.get("2026-W48") is None
    assert store.latest() is None


def test_list_is_newest_first_with_statuses(db: Database) -> None:
    """list() returns newest periods first, each with its status; latest() is the newest."""
    store = IssueStore(db)
    store.create(issue("2026-W47", ("a",), cutoff=NOW - timedelta(days=7)))
    store.create(issue("2026-W48", ("b",)))
    store.set_status("2026-W47", "sent", NOW, note="2 sent")
    records = store.list()
    assert [(r.issue.period, r.status) for r in records] == [
        ("2026-W48", "built"),
        ("2026-W47", "sent"),
    ]
    assert records[1].note == "2 sent"
    assert records[1].status_changed == NOW
    assert [r.issue.period for r in store.list(1)] == ["2026-W48"]
    latest = store.latest()
    assert latest is not None
    assert latest.period == "2026-W48"


def test_unknown_status_is_refused(db: Database) -> None:
    """Only built, sending, sent and skipped are statuses."""
    store = IssueStore(db)
    store.create(issue())
    with pytest.raises(StoreError, match="unknown issue status"):
        store.set_status("2026-W48", "delivered", NOW)


def test_status_of_a_missing_issue_is_refused(db: Database) -> None:
    """Setting the status of an issue that does not exist names the fix."""
    with pytest.raises(StoreError, match="no digest issue 2026-W48") as caught:
        IssueStore(db).set_status("2026-W48", "sent", NOW)
    assert "digest freeze" in caught.value.hint


def test_previous_cutoff_is_the_issue_before(db: Database) -> None:
    """previous_cutoff(period) is the cutoff of the newest earlier issue."""
    store = IssueStore(db)
    assert store.previous_cutoff("2026-W48") is None
    store.create(issue("2026-W46", cutoff=NOW - timedelta(days=14)))
    store.create(issue("2026-W47", cutoff=NOW - timedelta(days=7)))
    assert store.previous_cutoff("2026-W48") == NOW - timedelta(days=7)


def test_untaken_skips_articles_an_issue_took_up(db: Database) -> None:
    """Articles shown or left out by an issue are no longer candidates."""
    store_articles(db, [make_article(n) for n in (1, 2, 3)], NOW - timedelta(days=1))
    store = IssueStore(db)
    store.create(issue(ids=(make_article(3).id,)), left_out={make_article(1).id: "over_cap"})
    assert [a.id for a in store.untaken(NOW)] == [make_article(2).id]


def test_untaken_respects_the_cutoff(db: Database) -> None:
    """Articles that became visible after the cutoff wait for a later issue."""
    store_articles(db, [make_article(1)], NOW - timedelta(days=1))
    store_articles(db, [make_article(2)], NOW + timedelta(minutes=1))
    assert [a.id for a in IssueStore(db).untaken(NOW)] == [make_article(1).id]


def test_skipped_issue_releases_its_articles(db: Database) -> None:
    """An issue marked skipped (never sent) gives its articles back to the next issue."""
    store_articles(db, [make_article(1)], NOW - timedelta(days=1))
    store = IssueStore(db)
    store.create(issue(ids=(make_article(1).id,)))
    assert store.untaken(NOW) == []
    store.set_status("2026-W48", "skipped", NOW, note="too late to send")
    assert [a.id for a in store.untaken(NOW)] == [make_article(1).id]


def test_taking_an_article_twice_is_a_conflict(db: Database) -> None:
    """Freezing a new issue with an article another issue took up raises IssueConflict."""
    store = IssueStore(db)
    store.create(issue("2026-W47", ("a",)))
    with pytest.raises(IssueConflict, match="taken up by another issue"):
        store.create(issue("2026-W48", ("b", "a")))
    assert store.get("2026-W48") is None
