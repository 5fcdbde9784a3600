"""Atomic file output: every file swfeed publishes or keeps beside the store.

``atomic_write`` writes a temp file in the target's own folder (same file system), fsyncs
it, sets mode 0644 and renames it over the target, then fsyncs the folder: readers see the
old file or the new one, never half of one. Identical bytes are not rewritten, so mtimes and
ETags stay put. Temp files are named ``.<name>.swfeed-tmp-XXXXXXXX`` so ones left behind by
a crash can be recognised and removed (``remove_temp_files``).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from swfeed.errors import OutputError

TEMP_MARK = ".swfeed-tmp-"
FILE_MODE = 0o644
TEMP_MAX_AGE = timedelta(minutes=10)


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise OutputError(f"cannot read {path}: {exc.strerror or exc}") from None


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: Path, data: bytes, mode: int = FILE_MODE) -> bool:
    """Replace ``path`` with ``data`` atomically; False (file untouched) when already equal."""
    if _same_bytes(path, data):
        return False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}{TEMP_MARK}", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"cannot write in {path.parent}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    _fsync_folder(path.parent)
    return True


def is_temp_file(path: Path) -> bool:
    """True for a name ``atomic_write`` gives its temp files."""
    return path.name.startswith(".") and TEMP_MARK in path.name


def remove_temp_files(folder: Path, now: datetime, max_age: timedelta = TEMP_MAX_AGE) -> list[Path]:
    """Delete temp files under ``folder`` older than ``max_age`` (leftovers of a crash).

    Younger ones may belong to a write in progress in another process, so they stay.
    """
    if not folder.is_dir():
        return []
    removed: list[Path] = []
    cutoff = (now - max_age).timestamp()
    for path in sorted(folder.rglob(f".*{TEMP_MARK}*")):
        with contextlib.suppress(FileNotFoundError):
            if path.is_file() and is_temp_file(path) and path.stat().st_mtime < cutoff:
                path.unlink()
                removed.append(path)
    return removed
