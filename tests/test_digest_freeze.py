"""Making issues: frozen once, every article in exactly one issue, across DST and gaps."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from swfeed.config import Config
from swfeed.digest.freeze import ensure_issue, preview_issue
from swfeed.errors import ConfigError, DigestError
from swfeed.models import Article
from swfeed.store import Database
from swfeed.store.issues import IssueStore
from tests.test_digest_support import make_article, make_config, store_articles

LONDON = ZoneInfo("Europe/London")
MONDAY = datetime(2026, 11, 23, 9, tzinfo=LONDON)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path)


@pytest.fixture
def db(config: Config) -> Database:
    return Database(config.store.path)


def taken(db: Database) -> Counter[str]:
    """How often each article id was shown or left out by any issue."""
    rows = db.conn.execute("SELECT article_id FROM issue_articles")
    return Counter(row["article_id"] for row in rows)


def test_ensure_issue_freezes_the_current_week(config: Config, db: Database) -> None:
    """The default period is the site-zone week of now; the issue is stored frozen."""
    store_articles(db, [make_article(n) for n in (1, 2, 3)], MONDAY - timedelta(days=2))
    issue = ensure_issue(config, db, MONDAY)
    assert issue is not None
    assert issue.period == "2026-W48"
    assert issue.cutoff == MONDAY
    assert issue.previous_cutoff is None
    assert issue.article_ids == tuple(make_article(n).id for n in (3, 2, 1))
    assert IssueStore(db).get("2026-W48") == issue


def test_rerunning_never_changes_a_frozen_issue(tmp_path: Path, db: Database) -> None:
    """New articles, a new subject template or intro later: the frozen issue stays the same."""
    config = make_config(tmp_path)
    store_articles(db, [make_article(1)], MONDAY - timedelta(days=1))
    first = ensure_issue(config, db, MONDAY)
    store_articles(db, [make_article(2)], MONDAY + timedelta(hours=1))
    changed = make_config(tmp_path, subject="Changed {{ count }}", intro="New intro")
    again = ensure_issue(changed, db, MONDAY + timedelta(days=2))
    assert again == first
    assert preview_issue(changed, db, MONDAY + timedelta(days=3)).issue == first


def test_preview_freezes_nothing(config: Config, db: Database) -> None:
    """A preview renders the issue but stores no issue and takes up no article."""
    store_articles(db, [make_article(1), make_article(2)], MONDAY - timedelta(days=1))
    preview = preview_issue(config, db, MONDAY).issue
    assert len(preview.article_ids) == 2
    assert "Story number 2" in preview.html
    assert IssueStore(db).get("2026-W48") is None
    assert taken(db) == Counter()
    assert ensure_issue(config, db, MONDAY) is not None


def test_empty_week_makes_no_issue(config: Config, db: Database) -> None:
    """With skip_when_empty (the default) nothing new means None and nothing stored."""
    assert ensure_issue(config, db, MONDAY) is None
    assert IssueStore(db).list() == []


def test_empty_week_issue_when_asked(tmp_path: Path, db: Database) -> None:
    """With skip_when_empty off, an empty issue is frozen and says there was no news."""
    issue = ensure_issue(make_config(tmp_path, skip_when_empty=False), db, MONDAY)
    assert issue is not None
    assert issue.article_ids == ()
    assert "No new stories" in issue.text


def test_articles_over_the_cap_are_not_carried_forward(tmp_path: Path, db: Database) -> None:
    """The newest max_articles are shown; the rest count as taken and never reappear."""
    config = make_config(tmp_path, max_articles=2)
    store_articles(db, [make_article(n) for n in range(1, 6)], MONDAY - timedelta(days=1))
    issue = ensure_issue(config, db, MONDAY)
    assert issue is not None
    assert issue.left_out == 3
    store_articles(db, [make_article(9)], MONDAY + timedelta(days=1))
    later = ensure_issue(config, db, MONDAY + timedelta(days=7))
    assert later is not None
    assert later.article_ids == (make_article(9).id,)
    assert set(taken(db).values()) == {1}


def test_late_article_with_an_old_date_goes_into_the_next_issue(
    config: Config, db: Database
) -> None:
    """A story first seen this week but dated years ago is in the next issue, not lost."""
    store_articles(db, [make_article(1)], MONDAY - timedelta(days=1))
    ensure_issue(config, db, MONDAY)
    old = make_article(2, published=datetime(2019, 5, 30, tzinfo=UTC))
    store_articles(db, [old], MONDAY + timedelta(days=3))
    issue = ensure_issue(config, db, MONDAY + timedelta(days=7))
    assert issue is not None
    assert issue.article_ids == (old.id,)


def test_future_dated_article_waits_until_it_is_visible(config: Config, db: Database) -> None:
    """An article dated next Friday is not in this Monday's issue, but in the next one."""
    embargoed = make_article(2, published=MONDAY + timedelta(days=4))
    store_articles(db, [make_article(1), embargoed], MONDAY - timedelta(days=1))
    first = ensure_issue(config, db, MONDAY)
    second = ensure_issue(config, db, MONDAY + timedelta(days=7))
    assert first is not None
    assert first.article_ids == (make_article(1).id,)
    assert second is not None
    assert second.article_ids == (embargoed.id,)


def test_skipped_issue_hands_its_articles_to_the_next(config: Config, db: Database) -> None:
    """An issue marked skipped was never sent: its articles go into the next issue."""
    store_articles(db, [make_article(1)], MONDAY - timedelta(days=1))
    ensure_issue(config, db, MONDAY)
    IssueStore(db).set_status("2026-W48", "skipped", MONDAY + timedelta(days=1))
    later = ensure_issue(config, db, MONDAY + timedelta(days=7))
    assert later is not None
    assert later.article_ids == (make_article(1).id,)


def test_past_period_built_late_covers_up_to_its_end(config: Config, db: Database) -> None:
    """A period built after it ended stops at its end; later articles wait."""
    end = datetime(2026, 11, 30, tzinfo=LONDON)
    store_articles(db, [make_article(3)], MONDAY - timedelta(days=8))
    assert ensure_issue(config, db, MONDAY - timedelta(days=7)) is not None  # 2026-W47
    store_articles(db, [make_article(1)], end - timedelta(hours=1))
    store_articles(db, [make_article(2)], end + timedelta(hours=1))
    issue = ensure_issue(config, db, end + timedelta(days=2), "2026-W48")
    assert issue is not None
    assert issue.cutoff == end
    assert issue.article_ids == (make_article(1).id,)


def test_periods_older_than_the_newest_issue_are_refused(config: Config, db: Database) -> None:
    """Issues are made in order: a week between two issues cannot be made any more."""
    store_articles(db, [make_article(1)], MONDAY - timedelta(days=15))
    ensure_issue(config, db, MONDAY - timedelta(days=14))
    store_articles(db, [make_article(2)], MONDAY - timedelta(days=1))
    ensure_issue(config, db, MONDAY)
    with pytest.raises(DigestError, match="older than the newest issue, 2026-W48"):
        ensure_issue(config, db, MONDAY, "2026-W47")


def test_future_period_is_refused(config: Config, db: Database) -> None:
    """A week that has not started cannot be frozen."""
    with pytest.raises(DigestError, match="has not started"):
        ensure_issue(config, db, MONDAY, "2026-W50")


def test_digest_not_configured_says_how_to_enable(tmp_path: Path, db: Database) -> None:
    """Without a digest section the error says to add one (the sample has an example)."""
    config = make_config(tmp_path).model_copy(update={"digest": None})
    with pytest.raises(ConfigError, match="not configured") as caught:
        ensure_issue(config, db, MONDAY)
    assert "digest:" in caught.value.hint
    assert "postal_address" in caught.value.hint


def test_disabled_digest_builds_nothing(tmp_path: Path, db: Database) -> None:
    """digest.enabled: false refuses to freeze, and says how to switch it on."""
    with pytest.raises(DigestError, match="switched off"):
        ensure_issue(make_config(tmp_path, enabled=False), db, MONDAY)


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


ARRIVALS = [
    london(2026, 3, 20, 12),
    london(2026, 3, 23, 8, 59),  # just before the W13 issue
    london(2026, 3, 23, 9, 0),  # the same instant as the issue: fetched first
    datetime(2026, 3, 29, 0, 59, tzinfo=UTC),  # 00:59 GMT, before clocks go forward
    datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # 02:00 BST
    datetime(2026, 3, 29, 22, 59, tzinfo=UTC),  # Sunday 23:59 BST: still W13
    datetime(2026, 3, 29, 23, 0, tzinfo=UTC),  # Monday 00:00 BST: W14
    london(2026, 6, 10, 12),  # the W25 issue is missed: goes into W26
    london(2026, 6, 16, 12),
    datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 01:30 BST, the first one
    datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # 01:30 GMT, the second one
    datetime(2026, 10, 25, 23, 59, tzinfo=UTC),  # Sunday 23:59 GMT
    london(2026, 10, 26, 9, 1),
]


def mondays() -> list[datetime]:
    """Every Monday 09:00 London from 16 March to 2 November 2026, except 15 June."""
    first = london(2026, 3, 16, 9)
    weeks = [first + timedelta(weeks=n) for n in range(34)]
    return [w for w in weeks if w.date() != london(2026, 6, 15).date()]


def run_year(config: Config, db: Database) -> dict[str, tuple[str, ...]]:
    """Fetch each arrival and build each Monday's issue, the clock moved by time-machine."""
    events: list[tuple[datetime, int, Article | None]] = [
        (moment, 0, make_article(n, published=moment - timedelta(days=n % 3)))
        for n, moment in enumerate(ARRIVALS)
    ]
    events += [(monday, 1, None) for monday in mondays()]
    issues: dict[str, tuple[str, ...]] = {}
    with time_machine.travel(events[0][0], tick=False) as traveller:
        for moment, _order, article in sorted(events, key=lambda e: (e[0], e[1])):
            traveller.move_to(moment)
            now = datetime.now(UTC)
            if article is not None:
                store_articles(db, [article], now)
            elif (issue := ensure_issue(config, db, now)) is not None:
                issues[issue.period] = issue.article_ids
    return issues


def test_every_article_lands_in_exactly_one_issue(config: Config, db: Database) -> None:
    """Over 2026's DST weeks and a missed week, no article is skipped or repeated."""
    issues = run_year(config, db)
    shown = Counter(i for ids in issues.values() for i in ids)
    assert set(shown) == {make_article(n).id for n in range(len(ARRIVALS))}
    assert set(shown.values()) == {1}


def test_dst_boundary_articles_land_in_the_right_issue(config: Config, db: Database) -> None:
    """Each arrival goes into the first issue made after it, on the London clock."""
    issues = run_year(config, db)
    where = {i: period for period, ids in issues.items() for i in ids}
    expected = {
        0: "2026-W13",
        1: "2026-W13",
        2: "2026-W13",
        3: "2026-W14",
        6: "2026-W14",
        7: "2026-W26",
        8: "2026-W26",
        9: "2026-W44",
        11: "2026-W44",
        12: "2026-W45",
    }
    assert {n: where[make_article(n).id] for n in expected} == expected
