"""The injectable clock: real by default, shifted and scaled only for tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from swfeed.daemon.clock import TEST_CLOCK_ENV, Clock, ClockError, clock_from_env

REAL_NOW = datetime(2030, 1, 1, 12, tzinfo=UTC)


def test_no_variable_gives_the_real_clock() -> None:
    """Without SWFEED_TEST_CLOCK the clock is the wall clock."""
    clock = clock_from_env({}, REAL_NOW)
    assert clock.is_real
    with time_machine.travel(REAL_NOW, tick=False):
        assert clock.now() == REAL_NOW


def test_start_and_scale_are_read() -> None:
    """start= sets the clock's time at process start; scale= speeds it up."""
    env = {TEST_CLOCK_ENV: "start=2026-03-23T08:00:00+00:00; scale=3600"}
    clock = clock_from_env(env, REAL_NOW)
    later = REAL_NOW + timedelta(seconds=2)
    assert clock.from_real(REAL_NOW) == datetime(2026, 3, 23, 8, tzinfo=UTC)
    assert clock.from_real(later) == datetime(2026, 3, 23, 10, tzinfo=UTC)
    assert not clock.is_real


def test_to_real_inverts_from_real() -> None:
    """Converting a clock time to real time and back gives the same moment."""
    clock = Clock(start=datetime(2026, 3, 23, tzinfo=UTC), real_start=REAL_NOW, scale=36_000)
    moment = datetime(2026, 3, 30, 8, tzinfo=UTC)
    assert clock.from_real(clock.to_real(moment)) == moment
    assert clock.real_seconds(timedelta(hours=10)) == 1.0


def test_start_alone_is_an_offset_clock() -> None:
    """Without scale the clock runs at real speed from the given start."""
    clock = clock_from_env({TEST_CLOCK_ENV: "start=2026-01-01T00:00:00Z"}, REAL_NOW)
    assert clock.from_real(REAL_NOW + timedelta(minutes=5)) == datetime(
        2026, 1, 1, 0, 5, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "text",
    ["start=yesterday", "start=2026-01-01T00:00:00", "scale=0", "scale=-2", "speed=3", "nonsense"],
)
def test_bad_values_are_refused_with_a_hint(text: str) -> None:
    """A malformed SWFEED_TEST_CLOCK is an error that says how to write it."""
    with pytest.raises(ClockError) as caught:
        clock_from_env({TEST_CLOCK_ENV: text}, REAL_NOW)
    assert TEST_CLOCK_ENV in str(caught.value)
    assert "tests only" in caught.value.hint


def test_to_real_rounds_up_so_the_clock_has_reached_the_moment() -> None:
    """The real moment for a clock time is never a hair early, whatever the scale."""
    real_start = datetime(2030, 1, 1, 12, 0, 0, 123457, tzinfo=UTC)
    for scale in (1.0, 3.0, 3600.0, 201_600.0, 36_000.5):
        clock = Clock(start=datetime(2026, 3, 21, tzinfo=UTC), real_start=real_start, scale=scale)
        moment = datetime(2026, 3, 23, 9, 0, 0, 1, tzinfo=UTC)
        back = clock.from_real(clock.to_real(moment))
        assert moment <= back < moment + timedelta(microseconds=1) * max(scale, 1.0)
