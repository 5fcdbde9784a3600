"""The one catch-up rule: send, resume, skip or leave the issue of the latest digest time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from swfeed.digest.due import Action, decide_digest

DUE = datetime(2026, 3, 23, 9, tzinfo=UTC)
LATENESS = timedelta(hours=12)


def decide(
    now: datetime,
    status: str | None = None,
    started: bool = False,
    newest: str | None = None,
) -> Action:
    return decide_digest(
        period="2026-W13",
        due=DUE,
        now=now,
        max_lateness=LATENESS,
        status=status,
        started_sending=started,
        newest_period=newest,
    ).action


def test_on_time_digest_is_sent() -> None:
    """At the digest time, with no issue yet, the issue is built and sent."""
    assert decide(DUE) is Action.SEND


def test_missed_digest_within_max_lateness_is_sent() -> None:
    """Down over the digest time, back 11 hours later: send it now."""
    assert decide(DUE + timedelta(hours=11)) is Action.SEND


def test_exactly_max_lateness_still_sends() -> None:
    """The limit itself is still in time."""
    assert decide(DUE + LATENESS) is Action.SEND


def test_missed_digest_after_max_lateness_is_skipped() -> None:
    """Back 13 hours late: the issue is recorded as skipped, never sent stale."""
    assert decide(DUE + timedelta(hours=13)) is Action.SKIP


def test_half_sent_issue_resumes_within_max_lateness() -> None:
    """A stop or crash mid-send: the rest of the list gets it."""
    decision = decide_digest(
        period="2026-W13",
        due=DUE,
        now=DUE + timedelta(hours=1),
        max_lateness=LATENESS,
        status="sending",
        started_sending=True,
        newest_period="2026-W13",
    )
    assert decision.action is Action.SEND
    assert decision.reason.startswith("resume")


def test_half_sent_issue_past_max_lateness_is_resumed() -> None:
    """max_lateness only stops a stale issue from starting; a started one is finished."""
    assert decide(DUE + timedelta(days=2), "sending", started=True) is Action.SEND


def test_issue_frozen_but_not_started_past_max_lateness_is_skipped() -> None:
    """Built but no message handed over yet, and too late: skipped like a missing one."""
    assert decide(DUE + timedelta(days=2), "built") is Action.SKIP


def test_sent_issue_is_never_sent_again() -> None:
    """A fully sent issue needs nothing, however often the check runs."""
    assert decide(DUE + timedelta(minutes=5), "sent", started=True) is Action.NOTHING


def test_skipped_issue_stays_skipped() -> None:
    """A skipped issue is not revived by a later check within the window."""
    assert decide(DUE, "skipped") is Action.NOTHING


def test_clock_moved_back_behind_a_newer_issue_does_nothing() -> None:
    """With the clock a week behind the newest issue, no older issue is made or sent."""
    assert decide(DUE + timedelta(minutes=5), newest="2026-W14") is Action.NOTHING


def test_named_period_is_sent_however_late() -> None:
    """An admin who names the period has decided: lateness does not apply."""
    decision = decide_digest(
        period="2026-W13",
        due=DUE,
        now=DUE + timedelta(days=30),
        max_lateness=LATENESS,
        status=None,
        started_sending=False,
        newest_period=None,
        named=True,
    )
    assert decision.action is Action.SEND


def test_named_period_still_never_resends() -> None:
    """Naming a sent or skipped period does nothing: the rest of the rule holds."""
    for status in ("sent", "skipped"):
        decision = decide_digest(
            period="2026-W13",
            due=DUE,
            now=DUE,
            max_lateness=LATENESS,
            status=status,
            started_sending=False,
            newest_period=None,
            named=True,
        )
        assert decision.action is Action.NOTHING
