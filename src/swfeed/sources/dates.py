"""Dates as web pages and feeds write them, to timezone-aware datetimes.

Tried in order: the admin's ``date_format`` (strptime) if given; relative dates ("3 days ago",
"yesterday", as blog platforms show recent posts); ISO 8601; RFC 822 (feeds); then
dateutil's general parser ("January 8, 2026", "Jan 8, 2026", "8 Jan 2026", "Jan 8"). A
date with a time but no zone takes the site's zone. A date without a time is that day's
``day_moment`` (noon UTC), so every reader shows the day the site shows. A date without a
year ("Jan 8") takes the year that puts it at most a day in the future. Relative dates are
rounded (to the day, or the hour for "N hours ago") so the same post gets the same date on
every fetch of the same day.
"""

from __future__ import annotations

import email.utils
import re
import warnings
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil import parser as dateutil_parser

from swfeed.errors import SwfeedError
from swfeed.models import day_moment

_SPACE = re.compile(r"\s+")
_RELATIVE = re.compile(
    r"^(?:(?P<n>\d+|an?|one)\s+(?P<unit>second|sec|minute|min|hour|hr|day|week|month|year)s?"
    r"\s+ago|(?P<word>just now|now|today|yesterday))$",
    re.IGNORECASE,
)
_UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}
_TIME_CODES = re.compile(r"%[-#_^0]?[HIMSpXcTRrfz]")
_PREFIX = re.compile(r"^(?:published|posted|updated|date)\s*:?\s*(?:on\s+)?", re.IGNORECASE)


class DateNotUnderstood(SwfeedError):
    """The text is not a date swfeed can read."""

    default_hint = (
        "Set the source's date_format (strptime codes, e.g. '%B %d, %Y' for January 8, 2026) "
        "or point selectors.date at the element holding only the date."
    )


def parse_date(
    text: str, zone: ZoneInfo, now: datetime, date_format: str | None = None
) -> datetime:
    """``text`` as an aware datetime; naive dates are in ``zone``. ``now`` must be aware."""
    return read_date(text, zone, now, date_format)[0]


def read_date(
    text: str, zone: ZoneInfo, now: datetime, date_format: str | None = None
) -> tuple[datetime, bool]:
    """(``parse_date``'s moment, whether the text gave only a day and no time of day)."""
    cleaned = _PREFIX.sub("", _SPACE.sub(" ", text).strip())
    if not cleaned:
        raise DateNotUnderstood("the date is empty")
    if date_format:
        try:
            parsed = datetime.strptime(cleaned, date_format)
        except ValueError:
            raise DateNotUnderstood(
                f"{cleaned!r} does not match date_format {date_format!r}"
            ) from None
        if _TIME_CODES.search(date_format):
            return _aware(parsed, zone), False
        return day_moment(parsed.date()), True
    for parse in (_relative, _iso, _rfc822, _general):
        found = parse(cleaned, zone, now)
        if found is not None:
            moment, timed = found
            return (moment, False) if timed else (day_moment(moment.date()), True)
    raise DateNotUnderstood(f"{cleaned!r} is not a date swfeed understands")


def _aware(value: datetime, zone: ZoneInfo) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


Parsed = tuple[datetime, bool] | None
"""(the moment, whether the text gave a time of day), or None: not this form."""


def _relative(text: str, zone: ZoneInfo, now: datetime) -> Parsed:
    match = _RELATIVE.match(text)
    if match is None:
        return None
    local = now.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    word = (match.group("word") or "").lower()
    if word in ("today", "yesterday"):
        return (midnight - timedelta(days=1) if word == "yesterday" else midnight), False
    if word:
        return local.replace(minute=0, second=0, microsecond=0), True
    count = 1 if match.group("n").lower() in ("a", "an", "one") else int(match.group("n"))
    unit = match.group("unit").lower()
    if unit in ("second", "sec", "minute", "min"):
        return local.replace(minute=0, second=0, microsecond=0), True
    if unit in ("hour", "hr"):
        return local.replace(minute=0, second=0, microsecond=0) - timedelta(hours=count), True
    return midnight - timedelta(days=count * _UNIT_DAYS[unit]), False


def _iso(text: str, zone: ZoneInfo, now: datetime) -> Parsed:
    candidate = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    if not re.match(r"^\d{4}-\d{2}-\d{2}", candidate):
        return None
    try:
        return _aware(datetime.fromisoformat(candidate), zone), len(candidate) > 10
    except ValueError:
        return None


def _rfc822(text: str, zone: ZoneInfo, now: datetime) -> Parsed:
    if not re.match(r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s+\d", text):
        return None
    try:
        return _aware(email.utils.parsedate_to_datetime(text), zone), True
    except (TypeError, ValueError, IndexError):
        return None


def _general(text: str, zone: ZoneInfo, now: datetime) -> Parsed:
    if text.isdigit():
        return None
    local = now.astimezone(zone).replace(tzinfo=None)
    default = local.replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = dateutil_parser.parse(text, default=default)
            probe = dateutil_parser.parse(text, default=default.replace(hour=12, minute=34))
    except (ValueError, OverflowError):
        return None
    if not re.search(r"\d{4}", text) and found.replace(tzinfo=None) - local > timedelta(days=1):
        found = _year_before(found)
    return _aware(found, zone), found.time() == probe.time()


def _year_before(value: datetime) -> datetime:
    try:
        return value.replace(year=value.year - 1)
    except ValueError:  # 29 February
        return value.replace(year=value.year - 1, day=28)
