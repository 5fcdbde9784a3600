"""Whole-site golden output: the sample site's feeds and digest archive, byte for byte.

Regenerate after an intended change with ``SWFEED_UPDATE_GOLDEN=1 make test`` and review the
diff like code.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from swfeed import pipeline
from swfeed.config import load_config
from swfeed.digest.freeze import ensure_issue
from swfeed.store import Database
from tests.conftest import ROOT, copy_sample_site
from tests.feedcheck import check_atom, check_feed_file

GOLDEN = ROOT / "tests" / "data" / "golden"
NOW = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)  # Monday of 2026-W03, the digest time
TEXT_SUFFIXES = {".xml", ".json", ".html", ".opml", ".css"}


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample site published into a temporary folder at a fixed time."""
    environ = {"SWFEED_UNSUBSCRIBE_SECRET": "golden-secret-0123456789-abcdefghijkl"}
    config = load_config(copy_sample_site(tmp_path_factory.mktemp("site")), environ=environ)
    db = Database(config.store.path)
    pipeline.publish(config, db, NOW)
    assert ensure_issue(config, db, NOW) is not None
    db.close()
    return config.output.path


def _text_files(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.suffix in TEXT_SUFFIXES
    }


def test_output_matches_golden_files(published: Path) -> None:
    """Every feed and archive page equals its golden copy, and no file is extra or missing."""
    produced = _text_files(published)
    if os.environ.get("SWFEED_UPDATE_GOLDEN") == "1":
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for name, data in produced.items():
            (GOLDEN / name).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / name).write_bytes(data)
    expected = _text_files(GOLDEN)
    assert sorted(produced) == sorted(expected)
    for name, data in produced.items():
        assert data == expected[name], f"{name} differs from tests/data/golden/{name}"


def test_golden_feeds_are_valid(published: Path) -> None:
    """Every feed of the sample site passes the local validator rules."""
    feeds = [p for p in published.rglob("*") if p.name in {"rss.xml", "atom.xml", "feed.json"}]
    assert len(feeds) >= 3
    for path in feeds:
        url = "https://news.securitywomen.org/" + path.relative_to(published).as_posix()
        assert check_feed_file(path, url, NOW) == [], path


def test_digest_archive_feed_is_valid_atom(published: Path) -> None:
    """The Atom feed of past issues passes the local validator rules."""
    url = "https://news.securitywomen.org/digest/feed.xml"
    assert check_atom((published / "digest" / "feed.xml").read_bytes(), url, NOW) == []
