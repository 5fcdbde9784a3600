"""The daemon's clock: real time, or (for tests only) a shifted and sped-up one.

Production always uses ``Clock.real()``. The test suite runs ``swfeed run`` as a real
subprocess and needs a week to pass in seconds, so an environment variable selects a
**test-only** clock::

    SWFEED_TEST_CLOCK="start=2026-03-23T08:00:00+00:00;scale=3600"

Clock time then starts at ``start`` when the process starts and runs ``scale`` times faster
than real time (3600: one real second is one hour). Both parts are optional. Never set it on
a real deployment: the digest would go out at the wrong time.

The clock is linear in real time, so it converts both ways: the scheduler keeps APScheduler
on real time and maps its triggers' fire times through ``to_real`` / ``from_real``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from swfeed.errors import SwfeedError

TEST_CLOCK_ENV = "SWFEED_TEST_CLOCK"


class ClockError(SwfeedError):
    """``SWFEED_TEST_CLOCK`` cannot be read."""

    default_hint = (
        "Unset SWFEED_TEST_CLOCK (it is for tests only), or write it as "
        "'start=2026-03-23T08:00:00+00:00;scale=3600'."
    )


@dataclass(frozen=True, slots=True)
class Clock:
    """Clock time = ``start + scale * (real time - real_start)``; the real clock is scale 1."""

    start: datetime
    real_start: datetime
    scale: float = 1.0

    @classmethod
    def real(cls) -> Clock:
        """The wall clock: what every deployment uses."""
        epoch = datetime(2000, 1, 1, tzinfo=UTC)
        return cls(start=epoch, real_start=epoch)

    @property
    def is_real(self) -> bool:
        return self.scale == 1.0 and self.start == self.real_start

    def now(self) -> datetime:
        """The current clock time (aware, UTC)."""
        return self.from_real(datetime.now(UTC))

    def from_real(self, real: datetime) -> datetime:
        """The clock time at a real moment."""
        return (self.start + (real - self.real_start) * self.scale).astimezone(UTC)

    def to_real(self, moment: datetime) -> datetime:
        """The first real moment (to the microsecond) at which the clock shows ``moment``
        or later: rounded up, so that ``from_real(to_real(m)) >= m`` and an alarm set for
        ``m`` never goes off while the clock still reads a little before it."""
        micros = (moment - self.start) // timedelta(microseconds=1)
        real = math.ceil(Fraction(micros) / Fraction(self.scale))
        return (self.real_start + timedelta(microseconds=real)).astimezone(UTC)

    def real_seconds(self, span: timedelta) -> float:
        """How many real seconds a span of clock time takes."""
        return span.total_seconds() / self.scale


def clock_from_env(environ: Mapping[str, str], real_now: datetime) -> Clock:
    """The clock selected by ``SWFEED_TEST_CLOCK``, or the real one when it is unset."""
    text = environ.get(TEST_CLOCK_ENV, "").strip()
    if not text:
        return Clock.real()
    fields = _fields(text)
    start = _start(fields.pop("start", None), real_now)
    scale = _scale(fields.pop("scale", "1"))
    if fields:
        raise ClockError(f"{TEST_CLOCK_ENV}: unknown part(s) {', '.join(sorted(fields))}")
    return Clock(start=start, real_start=real_now, scale=scale)


def _fields(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in filter(None, (piece.strip() for piece in text.split(";"))):
        key, sep, value = part.partition("=")
        if not sep:
            raise ClockError(f"{TEST_CLOCK_ENV}: expected key=value, got {part!r}")
        fields[key.strip()] = value.strip()
    return fields


def _start(value: str | None, real_now: datetime) -> datetime:
    if value is None:
        return real_now
    try:
        start = datetime.fromisoformat(value)
    except ValueError:
        raise ClockError(f"{TEST_CLOCK_ENV}: start={value!r} is not an ISO 8601 time") from None
    if start.tzinfo is None:
        raise ClockError(f"{TEST_CLOCK_ENV}: start={value!r} needs a UTC offset such as +00:00")
    return start.astimezone(UTC)


def _scale(value: str) -> float:
    try:
        scale = float(value)
    except ValueError:
        scale = 0.0
    if not scale > 0 or scale == float("inf"):
        raise ClockError(f"{TEST_CLOCK_ENV}: scale={value!r} must be a positive number")
    return scale
