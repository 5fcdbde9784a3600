"""APScheduler wiring, and the digest-time arithmetic in the site's zone.

APScheduler is only the alarm clock: in-memory jobs built from the config (an interval
for fetching, a weekly cron for the digest, an interval for reading bounces), all in the
site's time zone, whose only work is to wake the daemon's main loop. Nothing is persisted
in a job store: what was built and sent is in the SQLite store, and the daemon checks it on
every wake-up, so a run APScheduler misses, or fires twice (a 01:30 cron on the autumn DST
night), changes nothing.

Triggers compute in clock time (see ``swfeed.daemon.clock``) and APScheduler waits in real time;
``ClockTrigger`` maps between the two, so a test clock that runs 3600 times faster fires the
weekly job every 168 real seconds, and the real clock maps one-to-one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from swfeed.config import Config
from swfeed.daemon.clock import Clock
from swfeed.digest.due import digest_enabled

FETCH_JOB = "fetch"
DIGEST_JOB = "digest"
BOUNCES_JOB = "bounces"
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Wake = Callable[[str], None]


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


def bounces_trigger(config: Config, clock: Clock) -> BaseTrigger:
    """Every ``bounces.check_every``, starting one interval from now."""
    every = config.bounces.check_every if config.bounces else config.schedule.fetch_every
    inner = IntervalTrigger(
        seconds=int(every.total_seconds()),
        start_date=clock.now() + every,
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
    if config.bounces is not None:
        triggers[BOUNCES_JOB] = bounces_trigger(config, clock)
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
