"""Fresh news only: no back catalogue in an issue; backfills of past weeks; honest previews."""

from __future__ import annotations

import email
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from swfeed import pipeline
from swfeed.cli import main
from swfeed.config import Config, load_config
from swfeed.delivery.outbox import outbox_folder
from swfeed.digest.freeze import ensure_issue, preview_issue
from swfeed.errors import DigestError
from swfeed.store import Database
from swfeed.store.articles import ArticleStore
from swfeed.store.issues import IssueStore
from tests.conftest import ROOT
from tests.samplesite import copy_sample
from tests.test_digest_support import make_article, store_articles

W03 = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)  # Monday of 2026-W03, the digest time
LATER = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # long after the sample's last story
OF_5_AND_8_JANUARY = {
    "WPS in Peacekeeping: Gender Perceptions and Gaps in Mandate Integration",
    "Women at the Center of Rwanda’s Peacebuilding and Recovery",
    "Rwandan Women Peacekeepers Lead Action",
    "The Continuing Challenge of Violence Against Women in Rwanda",
}


@pytest.fixture
def sample(tmp_path: Path) -> Config:
    return load_config(copy_sample(tmp_path))


def publish(config: Config, now: datetime) -> None:
    with Database(config.store.path) as db:
        pipeline.publish(config, db, now)


def titles(config: Config, ids: tuple[str, ...]) -> set[str]:
    with Database(config.store.path) as db:
        store = ArticleStore(db)
        return {article.title for i in ids if (article := store.get(i)) is not None}


def reasons(config: Config, period: str) -> dict[str, str | None]:
    with Database(config.store.path) as db:
        return {
            item.article.title if item.article else item.article_id: item.reason
            for item in IssueStore(db).left_out(period)
        }


def test_the_first_issue_leaves_the_back_catalogue_out(sample: Config) -> None:
    """W03's issue shows the stories of the last 14 days; the older five are left out
    as too old, for good, and stay in the feeds."""
    publish(sample, W03 - timedelta(days=1))
    with Database(sample.store.path) as db:
        issue = ensure_issue(sample, db, W03)
        assert issue is not None
        assert len(ArticleStore(db).latest(W03, 50)) == 9
        later = ensure_issue(sample, db, W03 + timedelta(days=7))
    assert titles(sample, issue.article_ids) == OF_5_AND_8_JANUARY
    assert issue.left_out == 0
    assert set(reasons(sample, "2026-W03").values()) == {"too_old"}
    assert len(reasons(sample, "2026-W03")) == 5
    assert later is None


def test_a_new_source_does_not_mail_its_back_catalogue(tmp_path: Path) -> None:
    """Stories of a source added later: only the fresh one is shown, the old ones are
    recorded too old and never offered again."""
    from tests.test_digest_support import make_config

    config = make_config(tmp_path, max_age="14d")
    monday = datetime(2026, 3, 2, 9, tzinfo=UTC)
    old = [make_article(n, published=monday - timedelta(days=400 + n)) for n in (1, 2, 3)]
    fresh = make_article(4, published=monday - timedelta(days=2))
    with Database(config.store.path) as db:
        store_articles(db, [*old, fresh], monday - timedelta(hours=1))
        issue = ensure_issue(config, db, monday)
        assert issue is not None
        assert issue.article_ids == (fresh.id,)
        left = {item.article_id: item.reason for item in IssueStore(db).left_out("2026-W10")}
        assert left == dict.fromkeys((a.id for a in old), "too_old")
        assert IssueStore(db).untaken(monday + timedelta(days=7)) == []


def test_a_week_before_the_first_issue_is_filled_in_by_publication_date(sample: Config) -> None:
    """2026-W02, frozen in November, holds the stories of 5 and 8 January and nothing older."""
    publish(sample, LATER - timedelta(days=1))
    with Database(sample.store.path) as db:
        issue = ensure_issue(sample, db, LATER, "2026-W02")
        assert issue is not None
        assert titles(sample, issue.article_ids) == OF_5_AND_8_JANUARY
        assert ensure_issue(sample, db, LATER) is None  # nothing left for this week
    assert set(reasons(sample, "2026-W02").values()) == {"too_old"}


def test_an_earlier_week_can_still_be_filled_in_after_a_backfill(tmp_path: Path) -> None:
    """With max_age 60d, 2025-W51 (Winnie's story of 18 December) after 2026-W02."""
    path = copy_sample(tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  max_articles: 12\n", "  max_articles: 12\n  max_age: 60d\n"))
    config = load_config(path)
    publish(config, LATER - timedelta(days=1))
    with Database(config.store.path) as db:
        assert ensure_issue(config, db, LATER, "2026-W02") is not None
        december = ensure_issue(config, db, LATER, "2025-W51")
        assert december is not None
    assert titles(config, december.article_ids) == {
        "Winnie’s Story - Choosing Policing as my career"
    }


def test_preview_of_a_period_is_what_freeze_makes_of_it_now(sample: Config) -> None:
    """For the backfill week and for this week, preview and freeze agree to the byte."""
    publish(sample, LATER - timedelta(days=1))
    with Database(sample.store.path) as db:
        for period in ("2026-W02", None):
            shown = preview_issue(sample, db, LATER, period)
            frozen = ensure_issue(sample, db, LATER, period)
            if frozen is None:
                assert shown.refusal is not None
                assert "nothing new" in shown.refusal
                continue
            assert shown.refusal is None
            assert (shown.issue.article_ids, shown.issue.html) == (
                frozen.article_ids,
                frozen.html,
            )


def test_previews_freeze_nothing_and_the_coming_week_can_be_previewed(sample: Config) -> None:
    """Previews of a backfill and of next week leave no issue and take up no article."""
    publish(sample, W03 - timedelta(days=1))
    with Database(sample.store.path) as db:
        preview_issue(sample, db, W03, "2026-W02")
        coming = preview_issue(sample, db, W03, "2026-W04")
        assert coming.plan is not None
        assert coming.plan.coming
        assert coming.refusal is not None
        assert "has not started" in coming.refusal
        assert len(coming.issue.article_ids) == 4
        assert IssueStore(db).list() == []
        assert db.conn.execute("SELECT COUNT(*) FROM issue_articles").fetchone()[0] == 0
        with pytest.raises(DigestError, match="has not started"):
            ensure_issue(sample, db, W03, "2026-W04")


def test_preview_cli_of_the_coming_week_says_it_cannot_be_frozen_yet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`digest preview --period <next week>` works and says what a freeze would do."""
    path = copy_sample(tmp_path)
    with time_machine.travel(W03, tick=False):
        assert main(["--config", str(path), "fetch"]) == 0
        out = tmp_path / "preview"
        assert main(["--config", str(path), "digest", "preview", "--period", "2026-W04",
                     "--out", str(out)]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "issue:    2026-W04 (a coming week" in printed
    assert "would freeze nothing now: 2026-W04 has not started" in printed


def makefile_week() -> str:
    """The period `make run` sends (the Makefile's SAMPLE_WEEK)."""
    found = re.search(r"^SAMPLE_WEEK = (\S+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert found is not None
    return found.group(1)


def test_make_run_mails_the_digest_of_5_and_8_january(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What `make run` does on a fresh clone today: the sample subscribers get 2026-W02."""
    path = copy_sample(tmp_path)
    shutil_copy = (ROOT / "config" / "subscribers.csv").read_bytes()
    (tmp_path / "config" / "subscribers.csv").write_bytes(shutil_copy)
    with time_machine.travel(LATER, tick=False):
        assert main(["--config", str(path), "publish"]) == 0
        assert main(["--config", str(path), "subscribers", "import",
                     str(tmp_path / "config" / "subscribers.csv")]) == 0  # fmt: skip
        assert main(["--config", str(path), "digest", "send", "--period", makefile_week()]) == 0
    assert makefile_week() == "2026-W02"
    mails = sorted((outbox_folder(load_config(path)) / "new").iterdir())
    assert len(mails) == 3
    message = email.message_from_bytes(mails[0].read_bytes())
    assert message["Subject"] == "SecurityWomen weekly: 4 stories"
    body = mails[0].read_text(encoding="utf-8", errors="replace")
    assert "2026-W02" in capsys.readouterr().out
    assert "Winnie" not in body
