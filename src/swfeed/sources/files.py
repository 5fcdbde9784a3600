"""The files of a content folder, as ``stat`` sees them: what a fetch looks at first, and
what a build's stamp reads of the folder's images (without loading the config's models)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from swfeed.errors import ContentError, Location

IMAGE_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
}
_SKIPPED_NAMES = frozenset({"readme.md"})


class FoundFile(NamedTuple):
    """A regular file in the content folder, with what ``stat`` said about it.

    A plain tuple, cheap to make: a fetch makes one per file even when nothing changed.
    """

    rel: str
    full_path: str
    mtime_ns: int
    size: int

    @property
    def path(self) -> Path:
        """The file's path (made when asked for: a no-change fetch never needs it)."""
        return Path(self.full_path)


def scan(root: Path, suffixes: frozenset[str]) -> tuple[list[FoundFile], list[ContentError]]:
    """Regular files under ``root`` with one of ``suffixes`` (by path); symlinks refused."""
    found: list[FoundFile] = []
    errors: list[ContentError] = []
    endings = tuple(suffixes)
    for entry, rel in _walk(str(root), ""):
        wanted = entry.name.lower().endswith(endings)
        if entry.is_symlink():
            if wanted or entry.is_dir():
                errors.append(symlink_error(Path(entry.path)))
        elif wanted and entry.is_file(follow_symlinks=False):
            info = entry.stat(follow_symlinks=False)
            found.append(FoundFile(rel, entry.path, info.st_mtime_ns, info.st_size))
    found.sort()  # by rel: each file's rel is unique
    return found, errors


def _walk(folder: str, prefix: str) -> Iterator[tuple[os.DirEntry[str], str]]:
    with os.scandir(folder) as entries:
        children = sorted(entries, key=lambda entry: entry.name)
    for entry in children:
        name = entry.name
        if name.startswith((".", "_")) or name.lower() in _SKIPPED_NAMES:
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(entry.path, prefix + name + "/")
        else:
            yield entry, prefix + name


def symlink_error(path: Path) -> ContentError:
    return ContentError(
        "symbolic links are refused",
        location=Location(path),
        hint="Copy the file or folder into the content folder instead of linking to it.",
    )
