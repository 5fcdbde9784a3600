"""Digest periods: ISO weeks counted in the site's time zone, e.g. ``2026-W48``.

A period runs from Monday 00:00 to the next Monday 00:00 on the site's wall clock, so a week
with a daylight-saving change lasts 167 or 169 hours. All functions are pure: the moment is
always passed in, and results are timezone-aware datetimes.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from swfeed.errors import DigestError

_PERIOD = re.compile(r"\A(\d{4})-W(\d{2})\Z")


def period_of(moment: datetime, zone: ZoneInfo) -> str:
    """The ISO week containing ``moment`` on the site's wall clock, e.g. ``"2026-W48"``."""
    if moment.tzinfo is None:
        raise ValueError(f"moment must be timezone-aware, got naive {moment.isoformat()}")
    year, week, _ = moment.astimezone(zone).isocalendar()
    return f"{year:04d}-W{week:02d}"


def parse_period(period: str) -> tuple[int, int]:
    """``"2026-W48"`` -> ``(2026, 48)``; a ``DigestError`` for anything that is not a week."""
    match = _PERIOD.match(period.strip())
    if match is not None:
        year, week = int(match.group(1)), int(match.group(2))
        try:
            date.fromisocalendar(year, week, 1)
        except ValueError:
            pass
        else:
            return year, week
    raise DigestError(
        f"{period!r} is not an ISO week",
        hint="Write the period as YEAR-Wweek with two week digits, e.g. 2026-W48 "
        "(weeks run 01 to 52, or 53 in long years).",
    )


def first_day(period: str) -> date:
    """The Monday of the period."""
    year, week = parse_period(period)
    return date.fromisocalendar(year, week, 1)


def period_bounds(period: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """``(start, end)``: Monday 00:00 and the next Monday 00:00 in ``zone`` (end exclusive)."""
    monday = first_day(period)
    start = datetime.combine(monday, time(0), tzinfo=zone)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=zone)
    return start, end


def cutoff_of(period: str, zone: ZoneInfo, now: datetime) -> datetime:
    """The issue's cutoff: the end of its period, or ``now`` while the period is running.

    Articles that became visible up to the cutoff (inclusive) are the issue's candidates;
    anything later waits for the next issue, so a cutoff never lies in the future.
    """
    start, end = period_bounds(period, zone)
    if now < start:
        raise DigestError(
            f"the period {period} has not started yet (it starts {start.isoformat()})",
            hint="Leave out --period to use the current week, or name a week that has begun "
            "(`swfeed digest preview --period` also shows a coming week).",
        )
    return min(now, end)


def shift_period(period: str, weeks: int) -> str:
    """The period ``weeks`` weeks after (or before, if negative) ``period``."""
    year, week, _ = (first_day(period) + timedelta(weeks=weeks)).isocalendar()
    return f"{year:04d}-W{week:02d}"


def period_label(period: str) -> str:
    """A reader's name for the period: ``"Week 48, 2026"``."""
    year, week = parse_period(period)
    return f"Week {week}, {year}"


_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def long_date(day: date) -> str:
    """``8 January 2026``: English, unambiguous, no locale or platform quirks."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def date_range(period: str) -> str:
    """The days a period spans: ``"23–29 November 2026"`` or ``"30 November – 6 December 2026"``."""
    monday = first_day(period)
    sunday = monday + timedelta(days=6)
    if monday.year != sunday.year:
        return f"{long_date(monday)} – {long_date(sunday)}"
    if monday.month != sunday.month:
        return f"{monday.day} {_MONTHS[monday.month - 1]} – {long_date(sunday)}"
    return f"{monday.day}–{long_date(sunday)}"
