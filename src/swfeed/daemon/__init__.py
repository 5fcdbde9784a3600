"""``swfeed run``: the long-running service, in one package.

- ``service``: the main loop (one task at a time: fetch, rebuild, reload), signals;
- ``sendworker``: the digest's sends in a thread of their own;
- ``scheduler``: APScheduler as the alarm clock that wakes the main loop;
- ``clock``: real time, or a shifted and sped-up one for tests;
- ``lock``: one daemon per store, and what it tells ``swfeed status``;
- ``logs``: one line per event, text or JSON.

``run_daemon`` is the one entry point. Importing this package loads none of the above, so
``swfeed status`` can read the lock without loading APScheduler.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from pathlib import Path

    from swfeed.daemon.clock import Clock

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")
"""The formats of the daemon's log lines (see ``logs``)."""


def run_daemon(config_path: Path, clock: Clock) -> int:
    """Load the config, take the store's daemon lock, serve until stopped; the exit code."""
    from swfeed.daemon.service import serve_until_stopped

    return serve_until_stopped(config_path, clock)
