"""One digest path: `swfeed digest send` follows the catch-up rule the daemon follows."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from swfeed.cli import main
from swfeed.config import Config, load_config
from swfeed.delivery.outbox import outbox_folder
from swfeed.digest.due import Action
from swfeed.pipeline import send_digest
from swfeed.store import Database
from swfeed.store.issues import IssueStore
from tests.smtpfixture import addresses, make_issue, prepare, write_config

DIGEST = "digest:\n  postal_address: 1 Example Street, London\n"
PERIOD = "2026-W11"
ON_TIME = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)  # an hour after Monday 09:00 London
TOO_LATE = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # 27 hours after: past max_lateness 12h


def sent(config: Config) -> int:
    folder = outbox_folder(config) / "new"
    return len(list(folder.iterdir())) if folder.is_dir() else 0


def status(config: Config, period: str = PERIOD) -> str | None:
    with Database(config.store.path) as db:
        return IssueStore(db).status_of(period)


@pytest.fixture
def site(tmp_path: Path) -> tuple[str, Config]:
    """Three subscribers and the frozen (unsent) issue of 2026-W11, mailed to the outbox."""
    path = write_config(tmp_path, method="outbox", extra=DIGEST)
    return str(path), prepare(path, addresses(3), make_issue(PERIOD))


def test_send_without_period_sends_the_due_issue(site: tuple[str, Config]) -> None:
    """An hour after the digest time, `digest send` sends that week's issue."""
    path, config = site
    with time_machine.travel(ON_TIME, tick=False):
        assert main(["--config", path, "digest", "send"]) == 0
    assert sent(config) == 3
    assert status(config) == "sent"


def test_send_without_period_past_max_lateness_records_the_week_skipped(
    site: tuple[str, Config], capsys: pytest.CaptureFixture[str]
) -> None:
    """27 hours late, `digest send` sends nothing stale and says the week is skipped."""
    path, config = site
    with time_machine.travel(TOO_LATE, tick=False):
        assert main(["--config", path, "digest", "send"]) == 0
    out = capsys.readouterr().out
    assert f"issue {PERIOD}: recorded as skipped: 27h00m late" in out
    assert sent(config) == 0
    assert status(config) == "skipped"


def test_named_period_is_sent_however_late(site: tuple[str, Config]) -> None:
    """`--period` is the admin's decision: the issue goes out a week late."""
    path, config = site
    with time_machine.travel(datetime(2026, 3, 16, 12, tzinfo=UTC), tick=False):
        assert main(["--config", path, "digest", "send", "--period", PERIOD]) == 0
    assert sent(config) == 3


def test_sent_issue_is_never_sent_again(
    site: tuple[str, Config], capsys: pytest.CaptureFixture[str]
) -> None:
    """A second `digest send`, named or not, mails nobody again."""
    path, config = site
    with time_machine.travel(ON_TIME, tick=False):
        assert main(["--config", path, "digest", "send"]) == 0
        assert main(["--config", path, "digest", "send"]) == 0
        assert main(["--config", path, "digest", "send", "--period", PERIOD]) == 0
    assert sent(config) == 3
    assert "nothing to send: issue already sent" in capsys.readouterr().out


def test_dry_run_tells_what_the_rule_decides(
    site: tuple[str, Config], capsys: pytest.CaptureFixture[str]
) -> None:
    """A late dry run says the week would be skipped, and records nothing."""
    path, config = site
    with time_machine.travel(TOO_LATE, tick=False):
        assert main(["--config", path, "digest", "send", "--dry-run"]) == 0
    assert "a send would record it skipped: 27h00m late" in capsys.readouterr().out
    assert status(config) == "built"


def test_a_skipped_week_without_an_issue_is_a_status_not_an_issue(tmp_path: Path) -> None:
    """Nothing frozen and too late: the period is recorded skipped, no empty issue is made."""
    config = load_config(write_config(tmp_path, method="outbox", extra=DIGEST))
    with Database(config.store.path) as db:
        run = send_digest(config, db, lambda: TOO_LATE)
        issues = IssueStore(db)
        assert run.due.decision.action is Action.SKIP
        assert issues.get(PERIOD) is None
        assert issues.status_of(PERIOD) == "skipped"
        assert [skip.period for skip in issues.skipped()] == [PERIOD]


def test_a_skipped_week_cannot_be_frozen_later(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Freezing a skipped week is refused: its stories belong to the next issue."""
    path = write_config(tmp_path, method="outbox", extra=DIGEST)
    config = load_config(path)
    with Database(config.store.path) as db:
        send_digest(config, db, lambda: TOO_LATE)
    with time_machine.travel(TOO_LATE, tick=False):
        assert main(["--config", str(path), "digest", "freeze", "--period", PERIOD]) == 1
    assert f"{PERIOD} was skipped" in capsys.readouterr().err
