"""The digest-time arithmetic in the site's zone, and the APScheduler wiring."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from apscheduler.triggers.cron import CronTrigger

from swfeed.config import Config, ScheduleConfig, load_config
from swfeed.daemon.clock import Clock
from swfeed.daemon.scheduler import (
    DIGEST_JOB,
    FETCH_JOB,
    ClockTrigger,
    build_scheduler,
    digest_trigger,
    next_run_times,
)
from swfeed.digest.due import latest_digest_time, next_digest_time
from swfeed.digest.periods import period_of
from swfeed.errors import ConfigErrors
from tests.conftest import MINIMAL_CONFIG, WriteConfig

LONDON = ZoneInfo("Europe/London")
MONDAY_9 = ScheduleConfig(digest="monday 09:00")
SUNDAY_0130 = ScheduleConfig(digest="sunday 01:30")

DIGEST_SECTIONS = """\
digest:
  postal_address: 1 Test Street, London
delivery:
  from_address: news@example.org
schedule:
  fetch_every: 15m
  digest: monday 09:00
"""


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def config_with_digest(write_config: WriteConfig) -> Config:
    return load_config(write_config(MINIMAL_CONFIG + DIGEST_SECTIONS))


def test_latest_digest_time_in_summer_is_nine_local() -> None:
    """Monday 09:00 in London during BST is 08:00 UTC."""
    assert latest_digest_time(MONDAY_9, LONDON, utc(2026, 6, 10, 12)) == utc(2026, 6, 8, 8)


def test_latest_digest_time_in_winter_is_nine_utc() -> None:
    """Monday 09:00 in London during GMT is 09:00 UTC."""
    assert latest_digest_time(MONDAY_9, LONDON, utc(2026, 1, 14, 12)) == utc(2026, 1, 12, 9)


def test_latest_digest_time_includes_the_exact_moment() -> None:
    """At the digest time itself, that digest is the latest one."""
    moment = utc(2026, 1, 12, 9)
    assert latest_digest_time(MONDAY_9, LONDON, moment) == moment


def test_latest_digest_time_just_before_is_last_week() -> None:
    """A microsecond before the digest time, the latest one is a week earlier."""
    moment = utc(2026, 1, 12, 9) - timedelta(microseconds=1)
    assert latest_digest_time(MONDAY_9, LONDON, moment) == utc(2026, 1, 5, 9)


def test_spring_gap_reads_the_missing_time_with_the_old_offset() -> None:
    """01:30 on 29 March 2026 does not exist in London; the digest is at 01:30 UTC."""
    now = utc(2026, 3, 29, 12)
    assert latest_digest_time(SUNDAY_0130, LONDON, now) == utc(2026, 3, 29, 1, 30)


def test_autumn_fold_takes_the_first_of_the_two_times() -> None:
    """01:30 on 25 October 2026 occurs twice in London; the digest is the first (00:30 UTC)."""
    now = utc(2026, 10, 25, 12)
    assert latest_digest_time(SUNDAY_0130, LONDON, now) == utc(2026, 10, 25, 0, 30)


def test_second_autumn_firing_maps_to_the_same_digest() -> None:
    """When the cron fires again at the repeated 01:30, the latest digest is still the first."""
    second = utc(2026, 10, 25, 1, 30)
    assert latest_digest_time(SUNDAY_0130, LONDON, second) == utc(2026, 10, 25, 0, 30)


def test_next_digest_time_is_a_week_after_the_latest() -> None:
    """Across the spring change, the next Monday 09:00 is 167 hours after the last one."""
    now = utc(2026, 3, 24, 12)
    assert next_digest_time(MONDAY_9, LONDON, now) == utc(2026, 3, 30, 8)
    assert latest_digest_time(MONDAY_9, LONDON, now) == utc(2026, 3, 23, 9)


def _cron_periods(schedule: ScheduleConfig, start: datetime, end: datetime) -> list[str]:
    trigger = CronTrigger(
        day_of_week=schedule.digest[:3].lower(),
        hour=schedule.digest_time.hour,
        minute=schedule.digest_time.minute,
        timezone=LONDON,
    )
    periods: list[str] = []
    previous: datetime | None = None
    now = start
    while True:
        fire = trigger.get_next_fire_time(previous, now)
        assert fire is not None
        if fire > end:
            return periods
        due = latest_digest_time(schedule, LONDON, fire.astimezone(UTC))
        periods.append(period_of(due, LONDON))
        previous, now = fire, fire


def test_every_cron_firing_of_2026_maps_to_one_period_per_week() -> None:
    """APScheduler fires twice on 25 October; both firings name the same period."""
    periods = _cron_periods(SUNDAY_0130, utc(2026, 1, 1), utc(2026, 12, 31))
    assert len(periods) == 53
    assert len(set(periods)) == 52
    assert periods.count("2026-W43") == 2


def test_cron_firings_and_next_digest_time_agree_through_2026() -> None:
    """The pure computation names the same moments APScheduler fires at (first of a fold)."""
    trigger = CronTrigger(day_of_week="sun", hour=1, minute=30, timezone=LONDON)
    now = utc(2026, 1, 1)
    for _ in range(52):
        fire = trigger.get_next_fire_time(None, now)
        assert fire is not None
        expected = next_digest_time(SUNDAY_0130, LONDON, now)
        assert fire.astimezone(UTC) == expected
        now = expected + timedelta(hours=2)


def test_clock_trigger_maps_a_scaled_clock_to_real_time() -> None:
    """At 3600x, the weekly cron fires 167 real seconds apart (the spring change week)."""
    real_start = utc(2026, 1, 1)
    clock = Clock(start=utc(2026, 3, 23, 8), real_start=real_start, scale=3600)
    trigger = ClockTrigger(CronTrigger(day_of_week="mon", hour=9, minute=0, timezone=LONDON), clock)
    first = trigger.get_next_fire_time(None, real_start)
    assert first is not None
    second = trigger.get_next_fire_time(first, first)
    assert second is not None
    assert clock.from_real(first) == utc(2026, 3, 23, 9)
    assert (second - first).total_seconds() == 167.0


def test_digest_trigger_fires_at_the_configured_time(write_config: WriteConfig) -> None:
    """The cron job's next run is the configured weekday and time in the site's zone."""
    config = config_with_digest(write_config)
    with time_machine.travel(utc(2026, 3, 25, 12), tick=False):
        trigger = digest_trigger(config, Clock.real())
        fire = trigger.get_next_fire_time(None, datetime.now(UTC))
    assert fire == utc(2026, 3, 30, 8)


def test_scheduler_has_a_fetch_and_a_digest_job(write_config: WriteConfig) -> None:
    """The jobs' next runs: one fetch interval from now, and the next digest time."""
    config = config_with_digest(write_config)
    with time_machine.travel(utc(2026, 3, 25, 12), tick=False):
        scheduler = build_scheduler(config, Clock.real(), lambda name: None)
        scheduler.start(paused=True)
        try:
            times = next_run_times(scheduler, Clock.real())
        finally:
            scheduler.shutdown(wait=False)
    assert times == {FETCH_JOB: utc(2026, 3, 25, 12, 15), DIGEST_JOB: utc(2026, 3, 30, 8)}


def test_scheduler_without_delivery_has_no_digest_job(write_config: WriteConfig) -> None:
    """With no digest or delivery section only the fetch job is scheduled."""
    config = load_config(write_config())
    scheduler = build_scheduler(config, Clock.real(), lambda name: None)
    scheduler.start(paused=True)
    try:
        assert [job.id for job in scheduler.get_jobs()] == [FETCH_JOB]
    finally:
        scheduler.shutdown(wait=False)


def test_scheduled_jobs_wake_the_daemon(write_config: WriteConfig, tmp_path: Path) -> None:
    """A fast test clock makes APScheduler call the wake function for the fetch job."""
    config = load_config(write_config(MINIMAL_CONFIG + "schedule:\n  fetch_every: 1h\n"))
    real_now = datetime.now(UTC)
    clock = Clock(start=utc(2026, 3, 23, 8), real_start=real_now, scale=36_000)
    woken: list[str] = []
    scheduler = build_scheduler(config, clock, woken.append)
    scheduler.start()
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=5)
        while len(woken) < 2 and datetime.now(UTC) < deadline:
            time.sleep(0.05)
    finally:
        scheduler.shutdown(wait=False)
    assert woken[:2] == [FETCH_JOB, FETCH_JOB]


def test_clock_trigger_always_moves_forward_and_never_fires_early() -> None:
    """At 201600x with an odd real start, each firing is later than the last and never
    before Monday 09:00 on the clock (rounding once made the cron repeat one moment)."""
    real_start = datetime(2026, 11, 28, 10, 52, 0, 123457, tzinfo=UTC)
    clock = Clock(start=utc(2026, 3, 21), real_start=real_start, scale=201_600)
    trigger = ClockTrigger(CronTrigger(day_of_week="mon", hour=9, minute=0, timezone=LONDON), clock)
    previous: datetime | None = None
    now = real_start
    for wanted in (utc(2026, 3, 23, 9), utc(2026, 3, 30, 8), utc(2026, 4, 6, 8)):
        fire = trigger.get_next_fire_time(previous, now)
        assert fire is not None
        assert previous is None or fire > previous
        assert wanted <= clock.from_real(fire) < wanted + timedelta(seconds=1)
        previous = now = fire


def schedule_error(write_config: WriteConfig, digest: str) -> str:
    path = write_config(MINIMAL_CONFIG + f"schedule:\n  digest: {digest}\n")
    with pytest.raises(ConfigErrors) as caught:
        load_config(path)
    return str(caught.value)


def test_digest_hour_out_of_range_is_a_config_error(write_config: WriteConfig) -> None:
    """``monday 25:00`` is rejected at load time, naming file:line, the key and the fix."""
    error = schedule_error(write_config, "monday 25:00")
    line = (MINIMAL_CONFIG + "schedule:\n").count("\n") + 1
    assert f"swfeed.yaml:{line}:" in error
    assert "schedule.digest" in error
    assert "00:00 to 23:59" in error


def test_digest_minute_out_of_range_is_a_config_error(write_config: WriteConfig) -> None:
    """``friday 09:60`` is rejected: minutes run from 00 to 59."""
    assert "minute 60" in schedule_error(write_config, "friday 09:60")


def test_digest_weekday_must_be_a_day_name(write_config: WriteConfig) -> None:
    """``monxyz 09:00`` is not a weekday; the hint lists the accepted names."""
    error = schedule_error(write_config, "monxyz 09:00")
    assert "'monxyz'" in error
    assert "monday or mon" in error


def test_digest_accepts_full_and_short_day_names_in_any_case() -> None:
    """Full and three-letter day names, any case, and a one-digit hour are read."""
    cases = {"Tuesday 7:05": (1, 7, 5), "SAT 23:59": (5, 23, 59), "sun 00:00": (6, 0, 0)}
    for text, (weekday, hour, minute) in cases.items():
        schedule = ScheduleConfig(digest=text)
        assert schedule.digest_weekday == weekday
        assert (schedule.digest_time.hour, schedule.digest_time.minute) == (hour, minute)
