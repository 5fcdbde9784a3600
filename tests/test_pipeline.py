"""The pipeline: one failing source never stops the others, and backs off across runs."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from swfeed import pipeline
from swfeed.config import Config
from swfeed.store import Database
from swfeed.store.articles import ArticleStore
from tests.conftest import ROOT
from tests.httpfixture import FAST_HTTP, FixtureServer, fixture, running, status

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def server() -> Any:
    with running() as srv:
        yield srv


def site_config(tmp_path: Path, feed_url: str) -> Config:
    """The sample content folder plus one remote feed, writing into tmp_path."""
    shutil.copytree(ROOT / "content", tmp_path / "content")
    data = {
        "site": {
            "title": "SecurityWomen",
            "url": "https://www.securitywomen.org/",
            "description": "News.",
            "timezone": "Europe/London",
            "author": {"name": "SecurityWomen"},
        },
        "sources": [
            {"kind": "content", "name": "site", "path": "content"},
            {"kind": "feed", "name": "partner", "url": feed_url, "http": FAST_HTTP},
        ],
    }
    return Config.model_validate(data, context={"base_dir": tmp_path})


def test_failing_source_does_not_stop_others(tmp_path: Path, server: FixtureServer) -> None:
    """A partner feed answering 500 is reported; the content folder still publishes."""
    config = site_config(tmp_path, server.serve("/feed.xml", status(500)))
    db = Database(config.store.path)
    result = pipeline.publish(config, db, NOW)
    site, partner = result.sources
    assert site.counts.new == 9
    assert partner.error is not None
    assert "500" in str(partner.error)
    assert (config.output.path / "feeds" / "atom.xml").exists()


def test_failing_source_backs_off_then_force_retries(tmp_path: Path, server: FixtureServer) -> None:
    """After repeated failures a source is skipped until its next attempt; --force retries."""
    config = site_config(tmp_path, server.serve("/feed.xml", status(503)))
    db = Database(config.store.path)
    pipeline.fetch(config, db, NOW, only=["partner"])
    pipeline.fetch(config, db, NOW + timedelta(minutes=1), only=["partner"])
    hits = server.hits("/feed.xml")
    [skipped] = pipeline.fetch(config, db, NOW + timedelta(minutes=2), only=["partner"])
    assert skipped.skipped_until is not None
    assert server.hits("/feed.xml") == hits
    [forced] = pipeline.fetch(config, db, NOW + timedelta(minutes=2), ["partner"], force=True)
    assert forced.error is not None
    assert server.hits("/feed.xml") > hits
    assert ArticleStore(db).source_status("partner").failures == 3


def test_recovered_source_resets_failures(tmp_path: Path, server: FixtureServer) -> None:
    """A source that answers again publishes and its failure count goes back to zero."""
    url = server.serve("/feed.xml", status(500))
    config = site_config(tmp_path, url)
    db = Database(config.store.path)
    pipeline.fetch(config, db, NOW, only=["partner"])
    server.serve("/feed.xml", fixture("feeds/partner.rss", "application/rss+xml"))
    [report] = pipeline.fetch(config, db, NOW + timedelta(minutes=1), only=["partner"])
    assert report.error is None
    assert report.counts.new > 0
    assert ArticleStore(db).source_status("partner").failures == 0
