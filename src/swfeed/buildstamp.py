"""Whether a build has anything to do.

A build's *stamp* is a digest of everything the files it writes are made from: the store's
count of writes to articles and their categories (kept by triggers), the config, swfeed's
version and its own files (code, bundled templates), the admin's template folder, and the
images in the content folders. ``pipeline.build`` renders nothing when the stamp equals the
one the last build of the same output folder recorded, no dated-ahead article has become
visible since (``BuildRecord.next_visible``), and every file that build wrote or kept is
still there as it was (same size, modification and change times, inode): a file that is
missing or was altered makes it build again, and atomic writes then restore it.

What the stamp needs of the config is a ``BuildFacts`` (made by ``feeds.stamp``), plain
data: the validated-config cache keeps one, so ``swfeed build`` can tell it has nothing to
do without loading the config's models.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from swfeed import __version__
from swfeed.atomicfile import remove_temp_files
from swfeed.ownfiles import Found, files_under, own_files
from swfeed.store import Database
from swfeed.store.articles import ArticleStore
from swfeed.store.builds import BuildStore, FileStats

STAMP_FORMAT = 1
"""Bump when what goes into a stamp changes."""
FEEDS_FOLDER = "feeds"
"""The output folder's sub-folder of the feeds."""


@dataclass(frozen=True, slots=True)
class BuildFacts:
    """What a build's stamp is made of, as far as the config goes."""

    output: Path
    config_json: str
    templates: Path | None
    content_folders: tuple[tuple[str, Path], ...]
    """Each content source's name and folder."""


@dataclass(frozen=True, slots=True)
class BuildShortcut:
    """What ``swfeed build`` needs of the config to find, and say, that it has nothing to
    do (kept in the validated-config cache)."""

    store: Path
    facts: BuildFacts
    websub: bool
    """WebSub hubs are configured: pings may be owed, so the build loads the config."""
    index_url: str
    autodiscovery_tags: str


def build_stamp(facts: BuildFacts, changes: int) -> str:
    """The stamp of a build from ``facts`` over a store that has had ``changes`` writes."""
    parts = [
        STAMP_FORMAT,
        __version__,
        changes,
        facts.config_json,
        [list(item) for item in own_files()],
        [list(item) for item in _template_files(facts)],
        [list(item) for item in _media_files(facts)],
    ]
    return hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()


def check_build(facts: BuildFacts, db: Database, now: datetime) -> tuple[str, list[str] | None]:
    """The stamp of a build now, and the files of the last build of the output folder if
    that build is still current (same stamp, nothing dated-ahead due, files intact): then
    nothing needs rendering, and temporary files a crash left are removed."""
    stamp = build_stamp(facts, ArticleStore(db).change_count())
    last = BuildStore(db).get(str(facts.output))
    if last is None or not last.still_current(stamp, now) or not files_intact(last.files):
        return stamp, None
    remove_temp_files(facts.output / FEEDS_FOLDER, now)
    return stamp, list(last.files)


def file_stats(paths: Iterable[Path | str]) -> FileStats:
    """What ``stat`` says of each file now, to tell later whether it was changed or removed."""
    stats: FileStats = {}
    for path in paths:
        info = os.stat(path, follow_symlinks=False)
        stats[str(path)] = [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]
    return stats


def files_intact(stats: FileStats) -> bool:
    """Every file is still there as ``file_stats`` saw it."""
    try:
        return file_stats(stats) == stats
    except OSError:  # one is gone (or cannot be read)
        return False


def _template_files(facts: BuildFacts) -> list[Found]:
    folder = facts.templates
    return list(files_under(folder)) if folder is not None and folder.is_dir() else []


def _media_files(facts: BuildFacts) -> list[Found]:
    """The images of every content folder (the build publishes them under media/)."""
    from swfeed.sources.files import IMAGE_TYPES, scan

    found: list[Found] = []
    for name, folder in facts.content_folders:
        if folder.is_dir():
            images, _errors = scan(folder, frozenset(IMAGE_TYPES))
            found += [(f"{name}/{i.rel}", i.size, i.mtime_ns) for i in images]
    return found
