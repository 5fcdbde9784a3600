"""The daemon's tasks run in-process with ``now`` passed in: rebuilds, failures, reloads."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from swfeed import websub
from swfeed.config import ScheduleConfig, load_config
from swfeed.daemon.clock import Clock
from swfeed.daemon.lock import DaemonLock
from swfeed.daemon.sendworker import DigestJob
from swfeed.daemon.service import Daemon
from swfeed.sources.http import backoff_delay
from swfeed.store.issues import IssueStore
from tests.daemonsite import Site, make_site
from tests.httpfixture import running, sequence, status

NOW = datetime(2026, 3, 25, 12, tzinfo=UTC)


@pytest.fixture
def site(tmp_path: Path) -> Site:
    made = make_site(tmp_path / "site")
    made.write_config()
    return made


@pytest.fixture
def daemon(site: Site) -> Iterator[Daemon]:
    lock = DaemonLock(site.store)
    lock.acquire()
    clock = Clock(start=NOW, real_start=NOW)
    made = Daemon(site.config, load_config(site.config), clock, lock)
    try:
        yield made
    finally:
        made.close()
        lock.release()


def events(logs: Sequence[MutableMapping[str, Any]], name: str) -> list[MutableMapping[str, Any]]:
    return [entry for entry in logs if entry["event"] == name]


def test_unchanged_fetch_does_not_rebuild(daemon: Daemon) -> None:
    """The second fetch with nothing new writes no feeds."""
    with capture_logs() as logs:
        daemon.fetch(NOW)
        daemon.fetch(NOW + timedelta(minutes=15))
    assert len(events(logs, "feeds_built")) == 1


def test_edited_article_rebuilds(daemon: Daemon, site: Site) -> None:
    """A changed article file makes the next fetch rebuild the feeds."""
    daemon.fetch(NOW)
    site.add_article("fresh", "A fresh story from Juba", "2026-03-24")
    with capture_logs() as logs:
        daemon.fetch(NOW + timedelta(minutes=15))
    assert events(logs, "source_changed")[0]["new"] == 1
    assert events(logs, "feeds_built")[0]["written"] > 0


def test_future_article_rebuilds_when_it_becomes_visible(daemon: Daemon, site: Site) -> None:
    """An article dated tomorrow changes nothing today and rebuilds the feeds tomorrow."""
    site.add_article("tomorrow", "Embargoed until Thursday", "2026-03-26 10:00")
    with capture_logs() as logs:
        daemon.fetch(NOW)
        daemon.fetch(NOW + timedelta(hours=1))
        daemon.fetch(NOW + timedelta(days=1))
    assert len(events(logs, "feeds_built")) == 2
    assert "Embargoed until Thursday" in site.atom.read_text(encoding="utf-8")


def test_a_failing_step_is_logged_and_the_next_step_still_runs(daemon: Daemon, site: Site) -> None:
    """A build that cannot write is logged as task_failed; the task carries on."""
    (site.root / "public").write_text("not a folder")
    with capture_logs() as logs:
        daemon.run_task("fetch")
    assert events(logs, "task_failed")[0]["task"] == "fetch"
    assert (site.store.parent / "swfeed.sqlite3.daemon.json").exists()


def test_reload_refuses_a_new_store_path(daemon: Daemon, site: Site) -> None:
    """Switching stores needs a restart: the reload is rejected and the old config kept."""
    text = site.config.read_text().replace("var/swfeed.sqlite3", "var/other.sqlite3")
    site.config.write_text(text)
    old = daemon.config
    with capture_logs() as logs:
        daemon.reload()
    assert daemon.config is old
    assert "store.path changed" in events(logs, "config_rejected")[0]["error"]


def test_reload_applies_the_new_schedule(daemon: Daemon, site: Site) -> None:
    """A reloaded config's schedule replaces the jobs (no delivery section: no digest job)."""
    text = site.config.read_text().replace("fetch_every: 1h", "fetch_every: 5m")
    site.config.write_text(text)
    daemon.reload()
    assert [job.id for job in daemon.scheduler.get_jobs()] == ["fetch"]
    assert daemon.config.schedule.fetch_every == timedelta(minutes=5)


def test_digest_check_without_delivery_does_nothing(daemon: Daemon) -> None:
    """With no delivery section the digest check makes no issue at all."""
    DigestJob(daemon.config, daemon.db, daemon.clock, daemon.stop).run(check=True)
    assert IssueStore(daemon.db).list() == []


def job_triggers(daemon: Daemon) -> dict[str, str]:
    return {job.id: str(job.trigger) for job in daemon.scheduler.get_jobs()}


def test_reload_with_an_impossible_digest_time_keeps_config_and_jobs(
    daemon: Daemon, site: Site
) -> None:
    """SIGHUP with ``monday 25:00``: the error names the key, old config and jobs stay."""
    site.write_config(smtp_port=2525)
    daemon.reload()
    before, jobs = daemon.config, job_triggers(daemon)
    assert set(jobs) == {"fetch", "digest"}
    site.write_config(smtp_port=2525, digest="monday 25:00")
    with capture_logs() as logs:
        daemon.reload()
    assert daemon.config is before
    assert job_triggers(daemon) == jobs
    assert "schedule.digest" in events(logs, "config_error")[0]["error"]
    assert events(logs, "config_rejected")


def test_config_whose_jobs_cannot_be_built_is_rejected_whole(daemon: Daemon, site: Site) -> None:
    """If the new jobs cannot be made, neither the config nor the jobs change."""
    site.write_config(smtp_port=2525)
    daemon.reload()
    before, jobs = daemon.config, job_triggers(daemon)
    unchecked = ScheduleConfig.model_construct(
        fetch_every=timedelta(minutes=5), digest="monday 25:00", max_lateness=timedelta(hours=1)
    )
    with capture_logs() as logs:
        applied = daemon.apply_config(before.model_copy(update={"schedule": unchecked}))
    assert not applied
    assert daemon.config is before
    assert job_triggers(daemon) == jobs
    assert "cannot schedule" in events(logs, "config_rejected")[0]["error"]


def test_failing_source_is_logged_and_retried_with_backoff(daemon: Daemon, site: Site) -> None:
    """A vanished content folder is logged with its failure count; the retry backs off."""
    daemon.fetch(NOW)
    site.content.rename(site.root / "content-away")
    retry = NOW + timedelta(minutes=30) + backoff_delay(2)
    with capture_logs() as logs:
        daemon.fetch(NOW + timedelta(minutes=15))
        daemon.fetch(NOW + timedelta(minutes=30))
        daemon.fetch(retry - timedelta(seconds=1))
    failed = events(logs, "source_failed")
    assert [event["failures"] for event in failed] == [1, 2]
    assert failed[1]["next_attempt"] == retry.isoformat()
    assert events(logs, "source_backoff")[0]["source"] == "site"


def test_broken_article_is_reported_once_not_at_every_fetch(daemon: Daemon, site: Site) -> None:
    """A broken file is logged when first seen, and again only after it changed."""
    broken = site.content / "news" / "broken.md"
    broken.write_text("---\ntitle: [unclosed\n---\nbody\n", encoding="utf-8")
    with capture_logs() as logs:
        daemon.fetch(NOW)
        daemon.fetch(NOW + timedelta(minutes=15))
    assert len(events(logs, "article_problem")) == 1
    assert "broken.md" in events(logs, "article_problem")[0]["error"]


def hub_daemon(site: Site, hub_url: str) -> tuple[Daemon, DaemonLock]:
    """A daemon whose config names ``hub_url`` as its WebSub hub (on 127.0.0.1)."""
    text = site.config.read_text(encoding="utf-8").replace(
        "feeds:\n  per_category: false\n",
        "feeds:\n  per_category: false\n  websub:\n"
        f"    hubs: [{hub_url}]\n    http: {{allow_private_addresses: true, retries: 0}}\n",
    )
    site.config.write_text(text, encoding="utf-8")
    lock = DaemonLock(site.store)
    lock.acquire()
    return Daemon(
        site.config, load_config(site.config), Clock(start=NOW, real_start=NOW), lock
    ), lock


def test_rebuild_pings_the_hub_and_a_failed_ping_is_retried(site: Site) -> None:
    """After a rebuild the daemon pings its hub; a failed ping goes out at a later fetch
    even when nothing changed; then fetches with nothing owed send nothing."""
    with running() as hub:
        hub.serve("/hub", sequence(status(503), status(204)))
        daemon, lock = hub_daemon(site, hub.url("/hub"))
        try:
            with capture_logs() as logs:
                daemon.fetch(NOW)
                daemon.fetch(NOW + timedelta(minutes=15))
                daemon.fetch(NOW + timedelta(minutes=30))
        finally:
            daemon.close()
            lock.release()
    assert len(events(logs, "feeds_built")) == 1
    assert events(logs, "websub_failed")[0]["waiting"] == 3
    assert events(logs, "websub_pinged")[0]["feeds"] == 3
    assert len(hub.requests) == 4


def test_pings_owed_by_another_job_go_out_at_the_next_fetch(site: Site) -> None:
    """A ping owed since the last one went out (the issues feed's, after the send worker
    froze an issue) goes out at the next fetch, although that fetch rebuilds nothing."""
    with running() as hub:
        hub.serve("/hub", status(204))
        daemon, lock = hub_daemon(site, hub.url("/hub"))
        try:
            daemon.fetch(NOW)
            websub.queue(daemon.config, daemon.db, ["https://example.org/digest/feed.xml"], NOW)
            with capture_logs() as logs:
                daemon.fetch(NOW + timedelta(minutes=15))
        finally:
            daemon.close()
            lock.release()
    assert not events(logs, "feeds_built")
    assert events(logs, "websub_pinged")[0]["feeds"] == 1
    assert b"digest%2Ffeed.xml" in hub.requests[-1].body
