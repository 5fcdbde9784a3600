"""Digest periods: ISO weeks on the site's wall clock, DST weeks, cutoffs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from swfeed.digest.periods import (
    cutoff_of,
    date_range,
    parse_period,
    period_bounds,
    period_label,
    period_of,
    shift_period,
)
from swfeed.errors import DigestError

LONDON = ZoneInfo("Europe/London")


def test_period_of_names_the_iso_week() -> None:
    """A Saturday in late November 2026 is in week 48."""
    assert period_of(datetime(2026, 11, 28, 10, tzinfo=UTC), LONDON) == "2026-W48"


def test_period_counts_the_site_zone_not_utc() -> None:
    """Sunday 23:30 UTC in British Summer Time is already Monday in London: the next week."""
    moment = datetime(2026, 5, 31, 23, 30, tzinfo=UTC)
    assert period_of(moment, ZoneInfo("UTC")) == "2026-W22"
    assert period_of(moment, LONDON) == "2026-W23"


def test_period_of_uses_the_iso_year_at_new_year() -> None:
    """1 January 2027 (a Friday) belongs to week 53 of 2026."""
    assert period_of(datetime(2027, 1, 1, 12, tzinfo=UTC), LONDON) == "2026-W53"


def test_period_of_refuses_naive_datetimes() -> None:
    """A naive moment has no place on the site's clock."""
    with pytest.raises(ValueError, match="timezone-aware"):
        period_of(datetime(2026, 1, 1), LONDON)


def test_bounds_are_local_midnights() -> None:
    """A period runs from Monday 00:00 to the next Monday 00:00 in the site zone."""
    start, end = period_bounds("2026-W48", LONDON)
    assert start == datetime(2026, 11, 23, tzinfo=LONDON)
    assert end == datetime(2026, 11, 30, tzinfo=LONDON)


def test_spring_dst_week_is_167_hours() -> None:
    """The week ending Sunday 29 March 2026 (clocks go forward) lasts 167 hours."""
    start, end = period_bounds("2026-W13", LONDON)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=167)


def test_autumn_dst_week_is_169_hours() -> None:
    """The week ending Sunday 25 October 2026 (clocks go back) lasts 169 hours."""
    start, end = period_bounds("2026-W43", LONDON)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=169)


def test_consecutive_periods_touch_across_dst() -> None:
    """Each period ends exactly where the next begins, across both 2026 DST changes."""
    for period in ("2026-W12", "2026-W13", "2026-W42", "2026-W43"):
        assert period_bounds(period, LONDON)[1] == period_bounds(shift_period(period, 1), LONDON)[0]


def test_every_moment_of_a_dst_week_maps_back_to_it() -> None:
    """Period bounds and period_of agree at the first and last instant of a DST week."""
    for period in ("2026-W13", "2026-W43"):
        start, end = period_bounds(period, LONDON)
        assert period_of(start, LONDON) == period
        assert period_of(end - timedelta(microseconds=1), LONDON) == period
        assert period_of(end, LONDON) == shift_period(period, 1)


@pytest.mark.parametrize("text", ["2026-48", "2026-W4", "2026-W00", "2025-W53", "W48", ""])
def test_bad_periods_are_refused_with_a_hint(text: str) -> None:
    """Anything but an existing YEAR-Www week is a DigestError saying how to write one."""
    with pytest.raises(DigestError, match="not an ISO week") as caught:
        parse_period(text)
    assert "2026-W48" in caught.value.hint


def test_cutoff_is_now_while_the_period_runs() -> None:
    """An issue made during its week covers up to now, never the future."""
    now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    assert cutoff_of("2026-W48", LONDON, now) == now


def test_cutoff_is_the_period_end_afterwards() -> None:
    """An issue made after its week covers up to the week's end."""
    now = datetime(2026, 12, 10, tzinfo=UTC)
    assert cutoff_of("2026-W48", LONDON, now) == datetime(2026, 11, 30, tzinfo=LONDON)


def test_cutoff_of_a_future_period_is_refused() -> None:
    """A week that has not begun has no issue yet."""
    with pytest.raises(DigestError, match="has not started"):
        cutoff_of("2026-W50", LONDON, datetime(2026, 11, 28, tzinfo=UTC))


def test_labels_and_date_ranges_read_naturally() -> None:
    """Labels and ranges for a plain week, a month change and a year change."""
    assert period_label("2026-W48") == "Week 48, 2026"
    assert date_range("2026-W48") == "23–29 November 2026"
    assert date_range("2026-W49") == "30 November – 6 December 2026"
    assert date_range("2026-W53") == "28 December 2026 – 3 January 2027"
