"""Whether a build has anything to do.

A build's *stamp* is a digest of everything the files it writes are made from: the store's
count of writes to articles and their categories (kept by triggers), the config, swfeed's
version and its own files (code, bundled templates), the admin's template folder, and the
images in the content folders. ``pipeline.build`` renders nothing when the stamp equals the
one the last build of the same output folder recorded, no dated-ahead article has become
visible since (``BuildRecord.next_visible``), and every file that build wrote or kept is
still there as it was (same size, modification and change times, inode): a file that is
missing or was altered makes it build again, and atomic writes then restore it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path

from swfeed import __version__
from swfeed.config import Config, ContentSourceConfig
from swfeed.ownfiles import Found, files_under, own_files
from swfeed.store.builds import FileStats

STAMP_FORMAT = 1
"""Bump when what goes into a stamp changes."""


def build_stamp(config: Config, changes: int) -> str:
    """The stamp of a build from ``config`` over a store that has had ``changes`` writes."""
    parts = [
        STAMP_FORMAT,
        __version__,
        changes,
        config.model_dump_json(),
        [list(item) for item in own_files()],
        [list(item) for item in _template_files(config)],
        [list(item) for item in _media_files(config)],
    ]
    return hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()


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


def _template_files(config: Config) -> list[Found]:
    folder = config.digest.templates if config.digest else None
    return list(files_under(folder)) if folder is not None and folder.is_dir() else []


def _media_files(config: Config) -> list[Found]:
    """The images of every content folder (the build publishes them under media/)."""
    from swfeed.sources.content import IMAGE_TYPES, scan

    found: list[Found] = []
    for source in config.sources:
        if isinstance(source, ContentSourceConfig) and source.path.is_dir():
            images, _errors = scan(source.path, frozenset(IMAGE_TYPES))
            found += [(f"{source.name}/{i.rel}", i.size, i.mtime_ns) for i in images]
    return found
