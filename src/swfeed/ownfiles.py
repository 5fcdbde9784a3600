"""swfeed's own files, as ``stat`` sees them: what a build's stamp and the validated-config
cache key on, so that a changed swfeed (even before its version moves) counts as a change."""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import swfeed
from swfeed.errors import SwfeedError

Found = tuple[str, int, int]
"""A file's path (relative to its folder), size and modification time."""


def files_under(folder: Path) -> Iterator[Found]:
    """Every file under ``folder`` (bytecode caches left out), in a stable order."""
    start = len(str(folder)) + 1
    for root, folders, files in os.walk(folder):
        folders[:] = sorted(name for name in folders if name != "__pycache__")
        for name in sorted(files):
            path = os.path.join(root, name)
            info = os.stat(path)
            yield path[start:], info.st_size, info.st_mtime_ns


@cache
def own_files() -> list[Found]:
    """swfeed's own files: its code and, in a source checkout, the bundled templates beside
    it. Read once per process: what runs is the code this process loaded."""
    from swfeed.templating import bundled_templates

    package = Path(swfeed.__file__).resolve().parent
    found = list(files_under(package))
    try:
        templates = bundled_templates()
    except SwfeedError:  # not installed with them: the digest reports that, not the feeds
        return found
    if not templates.is_relative_to(package):
        found += files_under(templates)
    return found
