"""The pipeline: one failing source never stops the others, and backs off across runs."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from swfeed import pipeline
from swfeed.cli import main
from swfeed.config import Config
from swfeed.store import Database
from swfeed.store.articles import ArticleStore
from tests.conftest import ROOT
from tests.httpfixture import FAST_HTTP, FixtureServer, body, fixture, running, status

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


HIJACK_RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Partner</title><link>https://p.example.org/</link>
<description>x</description><item><title>HIJACKED</title>
<link>https://p.example.org/x</link><guid isPermaLink="false">{guid}</guid>
<pubDate>Thu, 08 Jan 2026 10:00:00 +0000</pubDate><description>x</description></item>
</channel></rss>"""


def test_partner_feed_cannot_overwrite_a_site_article(
    tmp_path: Path, server: FixtureServer
) -> None:
    """An upstream entry reusing a site article's id is refused and reported."""
    victim = "tag:securitywomen.org,2026-01-08:rwanda-peacebuilding-recovery"
    rss = HIJACK_RSS.format(guid=victim).encode()
    config = site_config(tmp_path, server.serve("/feed.xml", body(rss, "application/rss+xml")))
    db = Database(config.store.path)
    site, partner = pipeline.fetch(config, db, NOW)
    assert site.counts.new == 9
    assert partner.counts.new == 0
    assert any("already published by source 'site'" in str(p) for p in partner.problems)
    stored = ArticleStore(db).get(victim)
    assert stored is not None
    assert stored.title == "Women at the Center of Rwanda’s Peacebuilding and Recovery"


def test_huge_retry_after_backs_off_at_most_a_day(tmp_path: Path, server: FixtureServer) -> None:
    """A hostile Retry-After neither crashes the fetch nor parks the source for centuries."""
    url = server.serve("/feed.xml", status(503, Retry_After="99999999999999"))
    config = site_config(tmp_path, url)
    db = Database(config.store.path)
    _site, partner = pipeline.fetch(config, db, NOW)
    assert partner.error is not None
    next_attempt = ArticleStore(db).source_status("partner").next_attempt
    assert next_attempt is not None
    assert next_attempt <= NOW + timedelta(days=1)


@pytest.mark.slow
def test_check_shows_a_failing_sources_backoff(
    tmp_path: Path, server: FixtureServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """`swfeed check` names a source that keeps failing, and still writes nothing."""
    shutil.copytree(ROOT / "content", tmp_path / "content")
    url = server.serve("/feed.xml", status(503))
    path = tmp_path / "swfeed.yaml"
    path.write_text(
        "site: {title: T, url: 'https://www.securitywomen.org/', description: D,"
        " timezone: Europe/London, author: {name: A}}\n"
        "sources:\n  - {kind: content, name: site, path: content}\n"
        f"  - kind: feed\n    name: partner\n    url: {url}\n"
        "    http: {allow_private_addresses: true, retries: 0, total_timeout: 3}\n",
        encoding="utf-8",
    )
    main(["--config", str(path), "fetch"])
    main(["--config", str(path), "fetch", "--force"])
    store = tmp_path / "var" / "swfeed.sqlite3"
    before = store.read_bytes()
    capsys.readouterr()
    assert main(["--config", str(path), "check"]) == 1
    out = capsys.readouterr().out
    assert "partner: failed 2 fetches in a row; backing off until" in out
    assert "503" in out
    assert store.read_bytes() == before
