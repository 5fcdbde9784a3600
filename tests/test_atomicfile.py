"""Atomic writes: whole files or nothing, mode 0644, no rewrite of equal bytes, cleanup."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from swfeed.atomicfile import (
    TEMP_MARK,
    atomic_write,
    is_temp_file,
    remove_temp_files,
)
from swfeed.errors import OutputError
from swfeed.feeds.build import remove_stale_folders

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
OWNED = frozenset({"rss.xml", "atom.xml", "feed.json"})


@pytest.fixture
def strict_umask() -> Iterator[None]:
    """Run with umask 077, which would make new files private without an explicit chmod."""
    old = os.umask(0o077)
    yield
    os.umask(old)


def _temp_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if TEMP_MARK in p.name]


def _age(path: Path, moment: datetime) -> None:
    os.utime(path, (moment.timestamp(), moment.timestamp()))


@pytest.mark.usefixtures("strict_umask")
def test_new_file_is_written_with_mode_0644(tmp_path: Path) -> None:
    """A new file gets the bytes, mode 0644 whatever the umask, and missing folders."""
    path = tmp_path / "a" / "b" / "rss.xml"
    assert atomic_write(path, b"<rss/>") is True
    assert path.read_bytes() == b"<rss/>"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_equal_bytes_are_not_rewritten(tmp_path: Path) -> None:
    """Writing the same bytes again returns False and leaves the file (and mtime) alone."""
    path = tmp_path / "feed.json"
    atomic_write(path, b"{}")
    _age(path, NOW - timedelta(days=1))
    before = path.stat()
    assert atomic_write(path, b"{}") is False
    after = path.stat()
    assert (after.st_mtime_ns, after.st_ino) == (before.st_mtime_ns, before.st_ino)


def test_changed_bytes_replace_the_file_and_leave_no_temp(tmp_path: Path) -> None:
    """New bytes replace the file through a rename: a new inode, no temp file left."""
    path = tmp_path / "atom.xml"
    atomic_write(path, b"one")
    inode = path.stat().st_ino
    assert atomic_write(path, b"two") is True
    assert path.read_bytes() == b"two"
    assert path.stat().st_ino != inode
    assert _temp_files(tmp_path) == []


def test_failed_write_raises_output_error_and_cleans_up(tmp_path: Path) -> None:
    """When the rename fails (target is a folder) the error is clear and no temp remains."""
    target = tmp_path / "rss.xml"
    target.mkdir()
    (target / "keep").write_text("x")
    with pytest.raises(OutputError, match="cannot write"):
        atomic_write(target, b"data")
    assert _temp_files(tmp_path) == []
    assert (target / "keep").read_text() == "x"


def test_unwritable_parent_raises_output_error(tmp_path: Path) -> None:
    """A parent path that is a file gives an OutputError naming it, with a hint."""
    (tmp_path / "public").write_text("not a folder")
    with pytest.raises(OutputError) as caught:
        atomic_write(tmp_path / "public" / "feeds" / "rss.xml", b"x")
    assert "public" in str(caught.value)
    assert "hint:" in str(caught.value)


def test_old_temp_files_are_removed_young_ones_kept(tmp_path: Path) -> None:
    """Leftovers of a crash (older than 10 minutes) go; a write in progress stays."""
    old = tmp_path / "feeds" / f".rss.xml{TEMP_MARK}abc123"
    young = tmp_path / "feeds" / "category" / "x" / f".atom.xml{TEMP_MARK}def456"
    other = tmp_path / "feeds" / ".hidden-but-mine"
    for path in (old, young, other):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"partial")
    _age(old, NOW - timedelta(hours=1))
    _age(young, NOW - timedelta(minutes=1))
    assert remove_temp_files(tmp_path / "feeds", NOW) == [old]
    assert not old.exists()
    assert young.exists()
    assert other.exists()


def test_temp_file_names_are_recognisable() -> None:
    """Only dot-files carrying the swfeed temp mark count as temp files."""
    assert is_temp_file(Path(f".rss.xml{TEMP_MARK}x1"))
    assert not is_temp_file(Path(f"rss.xml{TEMP_MARK}x1"))
    assert not is_temp_file(Path(".rss.xml"))


def test_stale_feed_folders_are_removed(tmp_path: Path) -> None:
    """Folders of categories that are gone are removed; current ones stay."""
    for slug in ("kept", "gone"):
        (tmp_path / slug).mkdir()
        (tmp_path / slug / "rss.xml").write_text("x")
    assert remove_stale_folders(tmp_path, ["kept"], OWNED) == [tmp_path / "gone"]
    assert (tmp_path / "kept" / "rss.xml").exists()
    assert not (tmp_path / "gone").exists()


def test_folder_with_foreign_files_is_never_removed(tmp_path: Path) -> None:
    """A stale folder holding anything swfeed did not write (an admin's file) is kept."""
    folder = tmp_path / "gone"
    folder.mkdir()
    (folder / "rss.xml").write_text("x")
    (folder / "notes.txt").write_text("mine")
    assert remove_stale_folders(tmp_path, [], OWNED) == []
    assert (folder / "notes.txt").exists()
