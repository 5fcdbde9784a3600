"""Dates as pages and feeds write them, made timezone-aware."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from swfeed.sources.dates import DateNotUnderstood, parse_date

LONDON = ZoneInfo("Europe/London")
ZURICH = ZoneInfo("Europe/Zurich")
NOW = datetime(2026, 1, 10, 15, 30, tzinfo=UTC)


def noon(year: int, month: int, day: int) -> datetime:
    """A date-only article's moment: noon UTC that day."""
    return datetime(year, month, day, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("January 8, 2026", noon(2026, 1, 8)),
        ("Jan 8, 2026", noon(2026, 1, 8)),
        ("8 Jan 2026", noon(2026, 1, 8)),
        ("8 January 2026", noon(2026, 1, 8)),
        ("Published: January 5, 2026", noon(2026, 1, 5)),
        ("2026-01-08", noon(2026, 1, 8)),
        ("3 days ago", noon(2026, 1, 7)),
        ("2026-01-08T10:00:00Z", datetime(2026, 1, 8, 10, tzinfo=UTC)),
        ("Thu, 08 Jan 2026 10:00:00 +0000", datetime(2026, 1, 8, 10, tzinfo=UTC)),
        ("January 8, 2026 10:15", datetime(2026, 1, 8, 9, 15, tzinfo=UTC)),
    ],
)
def test_common_formats_are_detected(text: str, expected: datetime) -> None:
    """The forms Wix writes, ISO 8601 and RFC 822 dates parse without a format."""
    assert parse_date(text, ZURICH, NOW) == expected


@pytest.mark.parametrize("hours", range(-11, 12))
def test_a_date_alone_is_its_own_day_from_utc_minus_11_to_plus_11(hours: int) -> None:
    """A reader anywhere from UTC-11 to UTC+11 shows 8 January for "January 8, 2026"."""
    reader = timezone(timedelta(hours=hours))
    assert parse_date("January 8, 2026", ZURICH, NOW).astimezone(reader).date() == date(2026, 1, 8)


def test_naive_dates_take_the_site_zone() -> None:
    """A date without a zone is in the site's zone, not the machine's."""
    parsed = parse_date("Thu, 08 Jan 2026 10:00:00", ZURICH, NOW)
    assert parsed.utcoffset() is not None
    assert parsed == datetime(2026, 1, 8, 9, tzinfo=UTC)


def test_explicit_format_is_used() -> None:
    """date_format (strptime) reads day-first numeric dates."""
    assert parse_date("08/01/2026", LONDON, NOW, "%d/%m/%Y") == noon(2026, 1, 8)
    with_time = parse_date("08/01/2026 14:00", LONDON, NOW, "%d/%m/%Y %H:%M")
    assert with_time == datetime(2026, 1, 8, 14, tzinfo=LONDON)


def test_explicit_format_mismatch_is_reported() -> None:
    """A date that does not match date_format names both, and the hint names date_format."""
    with pytest.raises(DateNotUnderstood, match="does not match date_format") as caught:
        parse_date("January 8, 2026", LONDON, NOW, "%d/%m/%Y")
    assert "date_format" in caught.value.hint


def test_relative_dates_are_stable_within_a_day() -> None:
    """'3 days ago' is the day three days back, whatever the hour of the fetch."""
    morning = datetime(2026, 1, 10, 8, tzinfo=UTC)
    evening = datetime(2026, 1, 10, 22, tzinfo=UTC)
    assert parse_date("3 days ago", LONDON, morning) == parse_date("3 days ago", LONDON, evening)
    assert parse_date("yesterday", LONDON, NOW) == noon(2026, 1, 9)
    assert parse_date("5 hours ago", LONDON, NOW) == datetime(2026, 1, 10, 10, tzinfo=UTC)


def test_date_without_a_year_is_never_far_in_the_future() -> None:
    """'Dec 30' seen in January means last December."""
    assert parse_date("Dec 30", LONDON, NOW) == noon(2025, 12, 30)
    assert parse_date("Jan 8", LONDON, NOW) == noon(2026, 1, 8)


@pytest.mark.parametrize("text", ["Someday soon", "Read News Item", "", "42"])
def test_non_dates_are_refused(text: str) -> None:
    """Text that is no date raises DateNotUnderstood with a hint."""
    with pytest.raises(DateNotUnderstood) as caught:
        parse_date(text, LONDON, NOW)
    assert "date_format" in caught.value.hint
