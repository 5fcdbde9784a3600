"""APScheduler wiring, and the digest-time arithmetic in the site's zone.

APScheduler is only the alarm clock: two in-memory jobs built from the config (an interval
for fetching, a weekly cron for the digest), both in the site's time zone, whose only work
is to wake the daemon's main loop. Nothing is persisted in a job store: what was built and
sent is in the SQLite store, and the daemon checks it on every wake-up, so a run APScheduler
misses, or fires twice (a 01:30 cron on the autumn DST night), changes nothing.

Triggers compute in clock time (see ``swfeed.daemon.clock``) and APScheduler waits in real time;
``ClockTrigger`` maps between the two, so a test clock that runs 3600 times faster fires the
weekly job every 168 real seconds, and the real clock maps one-to-one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from swfeed.config import Config, ScheduleConfig
from swfeed.daemon.clock import Clock

FETCH_JOB = "fetch"
DIGEST_JOB = "digest"
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Wake = Callable[[str], None]


def digest_enabled(config: Config) -> bool:
    """The digest job runs when the digest is enabled and there is a delivery section."""
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


class ClockTrigger(BaseTrigger):  # type: ignore[misc]
    """A trigger computed in clock time, for a scheduler that waits in real time."""

    def __init__(self, inner: BaseTrigger, clock: Clock) -> None:
        self.inner = inner
        self.clock = clock

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        """The inner trigger's next fire time, in real time, always after the previous one.

        Mapping clock time to real time rounds to the microsecond, so the clock time of a
        previous fire may read a hair before the inner trigger's own fire time; asking the
        inner trigger again from its own moment keeps every answer strictly later (a cron
        trigger would otherwise return the same moment forever, and APScheduler's catch-up
        loop would never end).
        """
        previous = self.clock.from_real(previous_fire_time) if previous_fire_time else None
        moment = self.inner.get_next_fire_time(previous, self.clock.from_real(now))
        while moment is not None:
            real = self.clock.to_real(moment)
            if previous_fire_time is None or real > previous_fire_time:
                return real
            moment = self.inner.get_next_fire_time(moment, self.clock.from_real(now))
        return None

    def __str__(self) -> str:
        return f"clock[{self.inner}]"


def fetch_trigger(config: Config, clock: Clock) -> BaseTrigger:
    """Every ``schedule.fetch_every``, starting one interval from now."""
    every = config.schedule.fetch_every
    inner = IntervalTrigger(
        seconds=int(every.total_seconds()),
        start_date=clock.now() + every,
        timezone=config.site.zone,
    )
    return ClockTrigger(inner, clock)


def digest_trigger(config: Config, clock: Clock) -> BaseTrigger:
    """Weekly at ``schedule.digest``, in the site's zone."""
    schedule = config.schedule
    inner = CronTrigger(
        day_of_week=_WEEKDAYS[schedule.digest_weekday],
        hour=schedule.digest_time.hour,
        minute=schedule.digest_time.minute,
        timezone=config.site.zone,
    )
    return ClockTrigger(inner, clock)


def build_scheduler(config: Config, clock: Clock, wake: Wake) -> BackgroundScheduler:
    """A scheduler (not started) whose jobs call ``wake("fetch")`` and ``wake("digest")``."""
    scheduler = BackgroundScheduler(
        timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    add_jobs(scheduler, config, clock, wake)
    return scheduler


def add_jobs(scheduler: BackgroundScheduler, config: Config, clock: Clock, wake: Wake) -> None:
    """(Re)create the in-memory jobs from ``config``; existing jobs are dropped."""
    install_jobs(scheduler, plan_jobs(config, clock), wake)


def plan_jobs(config: Config, clock: Clock) -> dict[str, BaseTrigger]:
    """The triggers of ``config``'s jobs by job id; raises if one cannot be made, before
    anything is changed (a reload builds these first and keeps the old jobs on failure)."""
    triggers = {FETCH_JOB: fetch_trigger(config, clock)}
    if digest_enabled(config):
        triggers[DIGEST_JOB] = digest_trigger(config, clock)
    return triggers


def install_jobs(
    scheduler: BackgroundScheduler, triggers: dict[str, BaseTrigger], wake: Wake
) -> None:
    """Replace every job by one per trigger, each calling ``wake(job id)``."""
    scheduler.remove_all_jobs()
    for job_id, trigger in triggers.items():
        scheduler.add_job(wake, trigger, args=[job_id], id=job_id)


def next_run_times(scheduler: BackgroundScheduler, clock: Clock) -> dict[str, datetime]:
    """Each job's next run, in clock time."""
    times: dict[str, datetime] = {}
    for job in scheduler.get_jobs():
        moment = getattr(job, "next_run_time", None)
        if moment is not None:
            times[job.id] = clock.from_real(moment)
    return times
