"""A full disk or read-only store: a clear error and hint, nothing lost, working again after.

Two ways: a real small tmpfs filled to the last byte (needs root to mount; CI runs as root),
and SQLite's ``PRAGMA max_page_count``, which fails writes with the very same SQLITE_FULL.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from swfeed.cli import main
from swfeed.errors import StoreError, StoreFull
from swfeed.store import Database
from swfeed.store.subscribers import NewEntry, SubscriberStore
from tests.conftest import MINIMAL_CONFIG

NOW = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs mounted for the test (unmounted after)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        reason = f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(folder: Path) -> Path:
    """Write a file until the disk is full; the file (delete it to free the space)."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError:
            pass
    return filler


def article(path: Path, title: str, size: int) -> None:
    words = ("Peacekeeping news. " * (size // 19 + 1))[:size]
    path.write_text(f"---\ntitle: {title}\ndate: 2026-01-05\n---\n{words}\n", encoding="utf-8")


def test_real_full_disk_says_so_loses_nothing_and_recovers(
    small_disk: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """On a full tmpfs, fetch says "disk full" with a hint; after freeing space it works."""
    (tmp_path / "content").mkdir()
    article(tmp_path / "content" / "first.md", "First", 1000)
    config = tmp_path / "swfeed.yaml"
    config.write_text(MINIMAL_CONFIG + f"store:\n  path: {small_disk / 'swfeed.sqlite3'}\n")
    assert main(["--config", str(config), "fetch"]) == 0
    filler = fill(small_disk)
    article(tmp_path / "content" / "second.md", "Second", 400_000)
    capsys.readouterr()
    assert main(["--config", str(config), "fetch"]) == 1
    captured = capsys.readouterr()
    said = captured.out + captured.err
    assert "is full" in said
    assert "Free space on that disk" in said
    assert "Traceback" not in said
    assert "cannot rollback" not in said
    filler.unlink()
    assert main(["--config", str(config), "fetch"]) == 0
    assert "1 new" in capsys.readouterr().out


def test_store_full_is_reported_and_the_next_write_works(tmp_path: Path) -> None:
    """A write that finds the store full raises StoreFull, keeps nothing, and the store works
    again once there is room (SQLite's page limit standing in for the disk)."""
    with Database(tmp_path / "store.sqlite3") as db:
        people = SubscriberStore(db)
        people.add(NewEntry("first@example.org", "First"), NOW, [])
        pages = db.conn.execute("PRAGMA page_count").fetchone()[0]
        db.conn.execute(f"PRAGMA max_page_count = {pages}")
        entries = [NewEntry(f"reader{n}@example.org", "x" * 500) for n in range(500)]
        with pytest.raises(StoreFull, match="is full"):
            people.import_all(entries, NOW, lambda _address: [])
        db.conn.execute("PRAGMA max_page_count = 1073741823")
        assert people.get("first@example.org") is not None
        people.add(NewEntry("later@example.org", "Later"), NOW, [])
        assert people.get("later@example.org") is not None


def test_read_only_store_hint_keeps_the_database_in_place(small_disk: Path) -> None:
    """On a read-only file system the hint is about permissions, never moving the store."""
    path = small_disk / "swfeed.sqlite3"
    with Database(path) as db:
        SubscriberStore(db).add(NewEntry("first@example.org", "First"), NOW, [])
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    with pytest.raises(StoreError) as caught:
        Database(path)
    hint = caught.value.hint or ""
    assert "writ" in hint
    assert "move" not in hint.lower()
    assert "elsewhere" not in hint.lower()
