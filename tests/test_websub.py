"""WebSub: the feeds name their hubs; builds that changed feeds ping them (a real hub
server on 127.0.0.1); a failing hub is retried later and never fails the build."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from lxml import etree

from swfeed import pipeline
from swfeed.cli import main
from swfeed.config import Config
from swfeed.digest.archive import archive_folder, feed_url
from swfeed.digest.freeze import ensure_issue
from swfeed.status import gather_status, render_text, to_json
from swfeed.store import Database
from swfeed.store.articles import ArticleStore
from swfeed.store.pings import PingStore
from swfeed.websub import HubReport
from tests.conftest import MINIMAL_CONFIG, WriteConfig
from tests.feedcheck import ATOM, SITE, check_atom, check_feed_file, sample_article, sample_config
from tests.httpfixture import FAST_HTTP, FixtureServer, running, sequence, status
from tests.test_digest_support import make_article, make_config, store_articles

NOW = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
ARTICLES = [sample_article(n) for n in range(1, 4)]
FEEDS = [
    f"{SITE}feeds/{folder}{name}"
    for folder in ("", "category/peacekeeping/", "category/women-in-security/")
    for name in ("rss.xml", "atom.xml", "feed.json")
]


@pytest.fixture
def hub() -> Iterator[FixtureServer]:
    """A hub on 127.0.0.1 that takes every ping with 204 No Content."""
    with running() as server:
        server.serve("/hub", status(204))
        yield server


def websub_config(tmp_path: Path, *hubs: str, **http: Any) -> Config:
    return sample_config(tmp_path, websub={"hubs": list(hubs), "http": {**FAST_HTTP, **http}})


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database(tmp_path / "store.sqlite3") as opened:
        ArticleStore(opened).apply_fetch("site", ARTICLES, [], {}, NOW - timedelta(days=1))
        yield opened


def build_and_notify(config: Config, db: Database, now: datetime = NOW) -> list[HubReport]:
    pipeline.build(config, db, now)
    return pipeline.notify_hubs(config, db, now)


def pings(server: FixtureServer) -> list[dict[str, str]]:
    """The forms the hub received."""
    return [dict(parse_qsl(seen.body.decode())) for seen in server.requests]


# --- the feeds name their hubs ------------------------------------------------------------


def test_feeds_name_each_hub(tmp_path: Path, db: Database) -> None:
    """RSS and Atom link each hub with rel="hub"; JSON Feed lists them in hubs; all valid."""
    hubs = ("https://hub.example.org/", "https://push.example.net/hub")
    config = websub_config(tmp_path, *hubs)
    pipeline.build(config, db, NOW)
    feeds = tmp_path / "public" / "feeds"
    rss = etree.parse(str(feeds / "rss.xml")).getroot()
    atom = etree.parse(str(feeds / "atom.xml")).getroot()
    in_rss = [link.get("href") for link in rss.iterfind(f"channel/{{{ATOM}}}link[@rel='hub']")]
    in_atom = [link.get("href") for link in atom.iterfind(f"{{{ATOM}}}link[@rel='hub']")]
    in_json = json.loads((feeds / "feed.json").read_text())["hubs"]
    assert in_rss == in_atom == list(hubs)
    assert in_json == [{"type": "WebSub", "url": hub} for hub in hubs]
    for name in ("rss.xml", "atom.xml", "feed.json"):
        assert check_feed_file(feeds / name, f"{SITE}feeds/{name}", NOW) == [], name


def test_without_hubs_the_feeds_name_none(tmp_path: Path, db: Database) -> None:
    """No hubs configured: no hub links, no hubs key, and nothing is owed to anyone."""
    config = sample_config(tmp_path)
    pipeline.build(config, db, NOW)
    feeds = tmp_path / "public" / "feeds"
    assert b'rel="hub"' not in (feeds / "atom.xml").read_bytes()
    assert "hubs" not in json.loads((feeds / "feed.json").read_text())
    assert pipeline.notify_hubs(config, db, NOW) == []


# --- pings --------------------------------------------------------------------------------


def test_build_pings_the_hub_for_each_changed_feed(
    tmp_path: Path, db: Database, hub: FixtureServer
) -> None:
    """One POST per changed feed: hub.mode=publish, hub.url=<the feed's URL>, as a form."""
    [report] = build_and_notify(websub_config(tmp_path, hub.url("/hub")), db)
    assert report.error is None
    assert pings(hub) == [{"hub.mode": "publish", "hub.url": url} for url in FEEDS]
    request = hub.requests[0]
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["user-agent"].startswith("swfeed/")


def test_unchanged_build_pings_nothing(tmp_path: Path, db: Database, hub: FixtureServer) -> None:
    """A build that wrote no feed owes no ping."""
    config = websub_config(tmp_path, hub.url("/hub"))
    build_and_notify(config, db)
    assert build_and_notify(config, db, NOW + timedelta(minutes=15)) == []
    assert len(hub.requests) == len(FEEDS)


def test_only_the_feeds_that_changed_are_pinged(
    tmp_path: Path, db: Database, hub: FixtureServer
) -> None:
    """A new story in one category: the site's feeds and that category's, not the other's."""
    config = websub_config(tmp_path, hub.url("/hub"))
    build_and_notify(config, db)
    later = NOW + timedelta(hours=1)
    fresh = sample_article(4, categories=("Peacekeeping",))
    ArticleStore(db).apply_fetch("site", [*ARTICLES, fresh], [], {"n": 4}, later)
    hub.requests.clear()
    build_and_notify(config, db, later)
    assert [ping["hub.url"] for ping in pings(hub)] == FEEDS[:6]


def test_a_failing_hub_never_fails_the_build(
    tmp_path: Path, db: Database, hub: FixtureServer
) -> None:
    """The hub answers 500: the build is written, the error reported, every ping kept."""
    hub.serve("/broken", status(500))
    config = websub_config(tmp_path, hub.url("/broken"))
    [report] = build_and_notify(config, db)
    assert (tmp_path / "public" / "feeds" / "rss.xml").is_file()
    assert report.pinged == ()
    assert "HTTP 500" in (report.error or "")
    assert report.waiting == len(FEEDS)
    assert PingStore(db).summary(hub.url("/broken")).pending == len(FEEDS)
    assert len(hub.requests) == 1, "the other feeds wait instead of hammering the hub"


def test_failed_pings_go_out_on_the_next_chance(
    tmp_path: Path, db: Database, hub: FixtureServer
) -> None:
    """After a first failure the owed pings are due at once: the next build or fetch."""
    hub.serve("/flaky", sequence(status(503), status(204)))
    config = websub_config(tmp_path, hub.url("/flaky"))
    build_and_notify(config, db)
    [report] = pipeline.notify_hubs(config, db, NOW + timedelta(minutes=1))
    assert report.error is None
    assert [ping["hub.url"] for ping in pings(hub)] == [FEEDS[0], *FEEDS]
    assert PingStore(db).summary(hub.url("/flaky")).pending == 0


def test_a_hub_that_keeps_failing_is_left_alone_for_longer(
    tmp_path: Path, db: Database, hub: FixtureServer
) -> None:
    """The second failure in a row waits 15 minutes before the next attempt."""
    hub.serve("/down", status(502))
    config = websub_config(tmp_path, hub.url("/down"))
    build_and_notify(config, db)
    [second] = pipeline.notify_hubs(config, db, NOW)
    assert second.retry_at == NOW + timedelta(minutes=15)
    assert pipeline.notify_hubs(config, db, NOW + timedelta(minutes=14)) == []
    assert len(pipeline.notify_hubs(config, db, NOW + timedelta(minutes=15))) == 1
    assert len(hub.requests) == 3


def test_retry_after_of_the_hub_is_honoured(
    tmp_path: Path, db: Database, hub: FixtureServer
) -> None:
    """A 429 with Retry-After: 3600 is not asked again for an hour."""
    hub.serve("/busy", status(429, Retry_After="3600"))
    [report] = build_and_notify(websub_config(tmp_path, hub.url("/busy")), db)
    assert report.retry_at == NOW + timedelta(hours=1)


def test_hub_on_a_private_address_needs_the_opt_in(
    tmp_path: Path, db: Database, hub: FixtureServer
) -> None:
    """The guarded client refuses loopback unless feeds.websub.http allows it."""
    config = websub_config(tmp_path, hub.url("/hub"), allow_private_addresses=False)
    [report] = build_and_notify(config, db)
    assert "not a public address" in (report.error or "")
    assert "feeds.websub.http.allow_private_addresses: true" in (report.error or "")
    assert hub.requests == []


def test_a_hub_taken_out_of_the_config_is_owed_nothing(
    tmp_path: Path, db: Database, hub: FixtureServer
) -> None:
    """Pings owed to a hub no longer configured are dropped, not sent."""
    hub.serve("/old", status(500))
    build_and_notify(websub_config(tmp_path, hub.url("/old")), db)
    pipeline.notify_hubs(websub_config(tmp_path, hub.url("/hub")), db, NOW)
    assert PingStore(db).summary(hub.url("/old")).pending == 0
    assert pipeline.notify_hubs(websub_config(tmp_path, hub.url("/old")), db, NOW) == []


def test_no_ping_starts_once_swfeed_is_asked_to_stop(
    tmp_path: Path, db: Database, hub: FixtureServer
) -> None:
    """SIGTERM (the stop event) ends the pinging; what was not sent stays owed."""
    config = websub_config(tmp_path, hub.url("/hub"))
    pipeline.build(config, db, NOW)
    stop = threading.Event()
    stop.set()
    assert pipeline.notify_hubs(config, db, NOW, stop) == []
    assert hub.requests == []
    assert PingStore(db).summary(hub.url("/hub")).pending == len(FEEDS)


# --- status -------------------------------------------------------------------------------


def test_status_shows_each_hubs_last_ping(tmp_path: Path, db: Database, hub: FixtureServer) -> None:
    """swfeed status: the last ping's time and result, and what a failing hub is owed."""
    hub.serve("/broken", status(500))
    config = websub_config(tmp_path, hub.url("/hub"), hub.url("/broken"))
    build_and_notify(config, db)
    status_now = gather_status(config, db, NOW)
    text = render_text(status_now)
    assert f"{hub.url('/hub')}: last ping 2026-02-01 12:00 GMT: ok (HTTP 204)" in text
    assert f"{hub.url('/broken')}: last ping 2026-02-01 12:00 GMT: " in text
    assert "9 feeds waiting, next attempt 2026-02-01 12:00 GMT" in text
    [good, bad] = to_json(status_now)["websub_hubs"]
    assert (good["waiting"], bad["waiting"]) == (0, 9)
    assert "HTTP 500" in bad["last_result"]


def test_status_of_a_hub_never_pinged(tmp_path: Path, db: Database) -> None:
    """A hub configured but not yet pinged says so."""
    config = websub_config(tmp_path, "https://hub.example.org/")
    assert "https://hub.example.org/: never pinged" in render_text(gather_status(config, db, NOW))


def test_build_command_reports_a_failing_hub_and_succeeds(
    write_config: WriteConfig, hub: FixtureServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """`swfeed build` exits 0 with a failing hub, and says what waits and until when."""
    hub.serve("/broken", status(500))
    websub = (
        f"feeds:\n  websub:\n    hubs: [{hub.url('/broken')}]\n"
        "    http: {allow_private_addresses: true, retries: 0}\n"
    )
    path = write_config(MINIMAL_CONFIG + websub)
    assert main(["--config", str(path), "build"]) == 0
    out = capsys.readouterr().out
    assert f"websub: {hub.url('/broken')}: FAILED, 3 changed feeds waiting (retried from " in out
    assert "the server answered HTTP 500" in out


# --- the issues feed (digest/feed.xml) ----------------------------------------------------

MONDAY = datetime(2026, 11, 23, 9, tzinfo=UTC)


def digest_config(tmp_path: Path, *hubs: str) -> Config:
    websub = {"hubs": list(hubs), "http": {**FAST_HTTP, "allow_private_addresses": True}}
    return make_config(tmp_path, feeds={"websub": websub})


def freeze_issue(config: Config, db: Database, when: datetime = MONDAY) -> None:
    store_articles(db, [make_article(1)], MONDAY - timedelta(days=1))
    assert ensure_issue(config, db, when) is not None


def test_issues_feed_names_each_hub(tmp_path: Path) -> None:
    """The digest's own feed names each hub as the site's feeds do, and stays valid."""
    config = digest_config(tmp_path, "https://hub.example.org/", "https://push.example.net/")
    with Database(config.store.path) as db:
        freeze_issue(config, db)
    data = (archive_folder(config) / "feed.xml").read_bytes()
    hubs = [link.get("href") for link in etree.fromstring(data).iterfind(f"{{{ATOM}}}link")]
    assert hubs[-2:] == ["https://hub.example.org/", "https://push.example.net/"]
    assert check_atom(data, feed_url(config)) == []


def test_a_new_issue_pings_the_hub_for_the_issues_feed(tmp_path: Path, hub: FixtureServer) -> None:
    """Freezing an issue owes each hub a ping for digest/feed.xml; notify_hubs sends it."""
    config = digest_config(tmp_path, hub.url("/hub"))
    with Database(config.store.path) as db:
        freeze_issue(config, db)
        [report] = pipeline.notify_hubs(config, db, MONDAY)
    assert report.error is None
    assert pings(hub) == [{"hub.mode": "publish", "hub.url": feed_url(config)}]


def test_the_same_issue_again_pings_nothing(tmp_path: Path, hub: FixtureServer) -> None:
    """Making the same issue again leaves the issues feed as it was: no ping is owed."""
    config = digest_config(tmp_path, hub.url("/hub"))
    with Database(config.store.path) as db:
        freeze_issue(config, db)
        pipeline.notify_hubs(config, db, MONDAY)
        freeze_issue(config, db, MONDAY + timedelta(hours=1))
        assert pipeline.notify_hubs(config, db, MONDAY + timedelta(hours=1)) == []
    assert len(hub.requests) == 1


def test_digest_freeze_command_pings_the_hub(
    write_config: WriteConfig, hub: FixtureServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """`swfeed digest freeze` tells the hubs of the new issue and says so."""
    path = write_config(
        MINIMAL_CONFIG
        + "digest: {postal_address: 1 Example Street, max_age: 1000w}\n"
        + f"feeds:\n  websub:\n    hubs: [{hub.url('/hub')}]\n"
        + "    http: {allow_private_addresses: true, retries: 0}\n"
    )
    story = "---\ntitle: A story of the week\ndate: 2026-01-07\n---\nWhat happened.\n"
    (path.parent / "content" / "story.md").write_text(story, encoding="utf-8")
    assert main(["--config", str(path), "fetch"]) == 0
    assert main(["--config", str(path), "digest", "freeze", "--period", "2026-W02"]) == 0
    assert f"websub: {hub.url('/hub')}: told of 1 changed feed" in capsys.readouterr().out
    assert pings(hub)[-1]["hub.url"] == "https://news.example.org/digest/feed.xml"
