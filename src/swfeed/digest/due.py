"""When a digest is due, and the one catch-up rule (pure).

The digest goes out weekly at ``schedule.digest`` in the site's zone. The issue that is due
at a moment is the one of the latest scheduled digest time at or before it: its period is
the ISO week that time falls in. ``decide_digest`` says what to do about that issue, for
``swfeed digest send`` and the daemon alike:

- already sent, or skipped: nothing (never a second copy, never a revived stale week);
- a newer issue exists (the clock moved back): nothing;
- sending started: resume it, however late (every recipient gets it once);
- not started, and at most ``schedule.max_lateness`` after its time: send it;
- not started, and later than that: record the period as skipped, so its stories go into
  the next issue instead of a stale email.

An admin who names the period (``digest send --period P``) has decided it is wanted:
lateness does not apply, the rest of the rule does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from swfeed.config import Config, ScheduleConfig
from swfeed.digest.periods import first_day, period_of


def digest_enabled(config: Config) -> bool:
    """The digest is sent when it is enabled and there is a delivery section."""
    return config.digest is not None and config.digest.enabled and config.delivery is not None


def digest_time_on(schedule: ScheduleConfig, zone: ZoneInfo, day: date) -> datetime:
    """The digest's moment on ``day`` (UTC). A wall time that occurs twice (autumn) is the
    first one; one that does not exist (spring) is read with the offset before the change,
    so 01:30 on 29 March 2026 in London is 01:30 UTC: the same moments APScheduler fires.
    """
    local = datetime.combine(day, schedule.digest_time, tzinfo=zone)
    return local.astimezone(UTC)


def latest_digest_time(schedule: ScheduleConfig, zone: ZoneInfo, now: datetime) -> datetime:
    """The most recent scheduled digest moment at or before ``now``."""
    return digest_time_on(schedule, zone, _latest_digest_day(schedule, zone, now))


def next_digest_time(schedule: ScheduleConfig, zone: ZoneInfo, now: datetime) -> datetime:
    """The first scheduled digest moment after ``now``."""
    day = _latest_digest_day(schedule, zone, now) + timedelta(days=7)
    return digest_time_on(schedule, zone, day)


def _latest_digest_day(schedule: ScheduleConfig, zone: ZoneInfo, now: datetime) -> date:
    today = now.astimezone(zone).date()
    day = today - timedelta(days=(today.weekday() - schedule.digest_weekday) % 7)
    if digest_time_on(schedule, zone, day) > now:
        day -= timedelta(days=7)
    return day


def due_period(config: Config, now: datetime) -> tuple[str, datetime]:
    """(period, digest time) of the issue due at ``now``."""
    due = latest_digest_time(config.schedule, config.site.zone, now)
    return period_of(due, config.site.zone), due


def digest_time_of(config: Config, period: str) -> datetime:
    """The scheduled digest moment inside ``period`` (its week's digest weekday)."""
    schedule = config.schedule
    day = first_day(period) + timedelta(days=schedule.digest_weekday)
    return digest_time_on(schedule, config.site.zone, day)


class Action(Enum):
    """What the catch-up rule decided for a period."""

    NOTHING = "nothing"
    SEND = "send"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class DigestDecision:
    action: Action
    reason: str


def decide_digest(
    *,
    period: str,
    due: datetime,
    now: datetime,
    max_lateness: timedelta,
    status: str | None,
    started_sending: bool,
    newest_period: str | None,
    named: bool = False,
) -> DigestDecision:
    """The catch-up rule for ``period``'s issue, due at ``due``; ``named``: the admin chose
    the period, so lateness does not apply."""
    if status in ("sent", "skipped"):
        return DigestDecision(Action.NOTHING, f"issue already {status}")
    if newest_period is not None and newest_period > period:
        return DigestDecision(Action.NOTHING, f"a newer issue ({newest_period}) exists")
    late = now - due
    if started_sending:
        return DigestDecision(Action.SEND, f"resume: {span(late)} after the digest time")
    if named:
        return DigestDecision(Action.SEND, f"send: {period} named by the admin")
    if late <= max_lateness:
        return DigestDecision(Action.SEND, f"send: {span(late)} after the digest time")
    return DigestDecision(
        Action.SKIP, f"{span(late)} late, more than max_lateness {span(max_lateness)}"
    )


def span(value: timedelta) -> str:
    """``27h05m``; a negative span (before the digest time) as ``-2h00m``."""
    seconds = int(value.total_seconds())
    sign = "-" if seconds < 0 else ""
    hours, rest = divmod(abs(seconds), 3600)
    return f"{sign}{hours}h{rest // 60:02d}m"
