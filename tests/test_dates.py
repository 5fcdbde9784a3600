"""Dates as pages and feeds write them, made timezone-aware."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from swfeed.sources.dates import DateNotUnderstood, parse_date

LONDON = ZoneInfo("Europe/London")
ZURICH = ZoneInfo("Europe/Zurich")
NOW = datetime(2026, 1, 10, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("January 8, 2026", datetime(2026, 1, 8, tzinfo=ZURICH)),
        ("8 January 2026", datetime(2026, 1, 8, tzinfo=ZURICH)),
        ("Published: January 5, 2026", datetime(2026, 1, 5, tzinfo=ZURICH)),
        ("2026-01-08", datetime(2026, 1, 8, tzinfo=ZURICH)),
        ("2026-01-08T10:00:00Z", datetime(2026, 1, 8, 10, tzinfo=UTC)),
        ("Thu, 08 Jan 2026 10:00:00 +0000", datetime(2026, 1, 8, 10, tzinfo=UTC)),
    ],
)
def test_common_formats_are_detected(text: str, expected: datetime) -> None:
    """Wix-style, ISO 8601 and RFC 822 dates parse without a format."""
    assert parse_date(text, ZURICH, NOW) == expected


def test_naive_dates_take_the_site_zone() -> None:
    """A date without a zone is in the site's zone, not the machine's."""
    parsed = parse_date("Thu, 08 Jan 2026 10:00:00", ZURICH, NOW)
    assert parsed.utcoffset() is not None
    assert parsed == datetime(2026, 1, 8, 9, tzinfo=UTC)


def test_explicit_format_is_used() -> None:
    """date_format (strptime) reads day-first numeric dates."""
    assert parse_date("08/01/2026", LONDON, NOW, "%d/%m/%Y") == datetime(2026, 1, 8, tzinfo=LONDON)


def test_explicit_format_mismatch_is_reported() -> None:
    """A date that does not match date_format names both."""
    with pytest.raises(DateNotUnderstood, match="does not match"):
        parse_date("January 8, 2026", LONDON, NOW, "%d/%m/%Y")


def test_relative_dates_are_stable_within_a_day() -> None:
    """'3 days ago' is midnight three days back, whatever the hour of the fetch."""
    morning = datetime(2026, 1, 10, 8, tzinfo=UTC)
    evening = datetime(2026, 1, 10, 22, tzinfo=UTC)
    assert parse_date("3 days ago", LONDON, morning) == parse_date("3 days ago", LONDON, evening)
    assert parse_date("yesterday", LONDON, NOW) == datetime(2026, 1, 9, tzinfo=LONDON)


def test_date_without_a_year_is_never_far_in_the_future() -> None:
    """'Dec 30' seen in January means last December."""
    assert parse_date("Dec 30", LONDON, NOW) == datetime(2025, 12, 30, tzinfo=LONDON)
    assert parse_date("Jan 8", LONDON, NOW) == datetime(2026, 1, 8, tzinfo=LONDON)


@pytest.mark.parametrize("text", ["Someday soon", "Read News Item", "", "42"])
def test_non_dates_are_refused(text: str) -> None:
    """Text that is no date raises DateNotUnderstood with a hint."""
    with pytest.raises(DateNotUnderstood) as caught:
        parse_date(text, LONDON, NOW)
    assert "date_format" in caught.value.hint
