"""When each source was last asked, and what it said: a small JSON file beside the store.

A fetch that finds nothing new writes nothing to the SQLite file (its bytes, WAL and data
version stay as they were), so the store's ``last_fetch`` is the last fetch that changed
something. ``swfeed status`` still says when each source was last polled: every fetch (by
``swfeed fetch``/``publish`` or the daemon) replaces ``<store>.polls.json`` atomically with
each source's poll time and outcome. Losing the file loses only that line of ``status``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from swfeed.atomicfile import atomic_write

POLLS_SUFFIX = ".polls.json"


@dataclass(frozen=True, slots=True)
class Poll:
    """One source's last poll: when, and what it found (``nothing new``, ``3 new`` ...)."""

    at: datetime
    outcome: str


def polls_path(store: Path) -> Path:
    return store.with_name(store.name + POLLS_SUFFIX)


def read_polls(store: Path) -> dict[str, Poll]:
    """The last poll of each source; empty when there is no (readable) file."""
    try:
        data = json.loads(polls_path(store).read_text(encoding="utf-8"))
        return {
            name: Poll(datetime.fromisoformat(item["at"]), str(item["outcome"]))
            for name, item in data.items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def record_polls(store: Path, polls: Mapping[str, Poll]) -> None:
    """Note these sources' polls (the others' stay as they were)."""
    known = {**read_polls(store), **polls}
    data = {
        name: {"at": poll.at.isoformat(), "outcome": poll.outcome}
        for name, poll in sorted(known.items())
    }
    atomic_write(polls_path(store), (json.dumps(data, indent=1) + "\n").encode("utf-8"))
