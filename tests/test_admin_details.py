"""Admin details: unknown sources, the digest section, status, the mailing list, the docs."""

from __future__ import annotations

import re
import shlex
import signal
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from swfeed.cli import build_parser, main
from swfeed.daemon.lock import DaemonInfo, running_daemon
from swfeed.status import Status, render_text
from tests.conftest import ROOT
from tests.daemonsite import FAST, make_site, running, wait_until
from tests.samplesite import copy_sample

FIRST = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)
LATER = datetime(2026, 1, 12, 9, 30, tzinfo=UTC)


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    return copy_sample(tmp_path)


def run(sample: Path, *args: str, when: datetime = FIRST) -> int:
    with time_machine.travel(when, tick=False):
        return main(["--config", str(sample), *args])


def test_fetching_an_unknown_source_is_a_config_error(
    sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`fetch --source no-such-name` exits 2 and names the sources there are."""
    assert run(sample, "fetch", "--source", "sit") == 2
    err = capsys.readouterr().err
    assert "--source: no source is named 'sit'" in err
    assert "Did you mean 'site'? The sources are: site." in err


def test_a_digest_command_without_a_digest_section_is_a_config_error(
    sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`digest send` with no digest: section exits 2 with the section to add."""
    sample.write_text(sample.read_text().split("# The weekly digest email")[0])
    assert run(sample, "digest", "send") == 2
    err = capsys.readouterr().err
    assert "digest: the digest is not configured" in err
    assert "postal_address" in err


def test_status_shows_the_last_poll_when_nothing_was_new(
    sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second fetch that finds nothing new is shown as the last poll."""
    assert run(sample, "fetch") == 0
    assert run(sample, "fetch", when=LATER) == 0
    assert run(sample, "status", when=LATER) == 0
    out = capsys.readouterr().out
    assert (
        "site (content): ok, last poll 2026-01-12 09:30 GMT (not modified); "
        "last change 2026-01-12 08:00 GMT: 9 articles, 0 problems"
    ) in out


def test_status_works_with_a_broken_config(
    sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A config error: the errors, then what the store knows; exit 2."""
    assert run(sample, "publish") == 0
    sample.write_text(sample.read_text().replace("fetch_every: 15m", "fetch_every: 2s"))
    capsys.readouterr()
    assert run(sample, "status", when=LATER) == 2
    out = capsys.readouterr().out
    assert out.startswith("config: 1 error; below is what the store knows (times in UTC)")
    assert "schedule.fetch_every: fetching every 2s is too often" in out
    assert "site: ok, last fetch 2026-01-12 08:00 UTC: 9 articles, 0 problems" in out
    assert "articles: 9" in out
    assert "next digest: unknown: the config does not load" in out


def test_status_mentions_a_rejected_reload() -> None:
    """The daemon's record of a refused reload is shown with what to do."""
    rejected = datetime(2026, 1, 12, 10, 0, tzinfo=UTC)
    daemon = DaemonInfo(
        pid=42,
        started=FIRST,
        config="swfeed.yaml",
        rejected_at=rejected,
        rejected="swfeed.yaml:78:16: schedule.fetch_every: fetching every 2s is too often",
    )
    status = Status(
        now=LATER,
        zone=ZoneInfo("UTC"),
        sources=[],
        article_count=1,
        newest=None,
        daemon=daemon,
        next_fetch=None,
        next_digest=None,
        digest_schedule=None,
        issues=[],
    )
    text = render_text(status)
    assert "a reload was rejected 2026-01-12 10:00 UTC: swfeed.yaml:78:16:" in text
    assert "it runs with the config it had before" in text


def test_status_gets_its_plurals_right(sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One article is "1 article", not "1 articles"."""
    news = sample.parent.parent / "content" / "news"
    for path in sorted(news.glob("*.md"))[1:]:
        path.unlink()
    assert run(sample, "fetch") == 0
    assert run(sample, "status") == 0
    assert "1 article, 0 problems" in capsys.readouterr().out


def test_adding_a_known_address_without_a_name_keeps_its_name(
    sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`subscribers add` again without --name leaves the name as it was."""
    assert run(sample, "subscribers", "add", "ann@example.org", "--name", "Ann Smith") == 0
    assert run(sample, "subscribers", "add", "ann@example.org") == 0
    assert run(sample, "subscribers", "list") == 0
    assert "ann@example.org  Ann Smith" in capsys.readouterr().out


def test_removing_an_unknown_address_is_an_error_unless_suppressed(
    sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A typo in `subscribers remove` is an error; --suppress keeps the address out."""
    assert run(sample, "subscribers", "remove", "nobody@example.org") == 1
    err = capsys.readouterr().err
    assert "nobody@example.org is not on the list; nothing was changed" in err
    assert "--suppress" in err
    assert run(sample, "subscribers", "remove", "nobody@example.org", "--suppress") == 0
    assert "(was not on the list; kept out)" in capsys.readouterr().out


def test_a_semicolon_separated_csv_gets_a_hint(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CSV saved with ';' between the columns fails with how to save it."""
    csv = tmp_path / "list.csv"
    csv.write_text("email;name\nann@example.org;Ann Smith\n", encoding="utf-8")
    assert run(sample, "subscribers", "import", str(csv)) == 1
    err = capsys.readouterr().err
    assert "nothing imported" in err
    assert "separates its columns with semicolons" in err


def test_the_readme_says_how_to_run_swfeed_after_make_run() -> None:
    """The quick start shows the command line after `make run`, secret included."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.split("## What it writes")[0]
    assert 'export SWFEED_UNSUBSCRIBE_SECRET="$(cat var/unsubscribe-secret)"' in start
    assert ".venv/bin/swfeed status" in start
    assert "swfeed itself" in (ROOT / "Makefile").read_text(encoding="utf-8")


def commented_commands(path: Path) -> list[str]:
    """Every `swfeed ...` command the comments of a sample config name."""
    comments = " ".join(
        line.split("#", 1)[1].strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if "#" in line
    )
    found = re.findall(r"`swfeed ([^`]+)`", comments)
    found += re.findall(r":\s{2,}swfeed ([a-z][a-z ]*[a-z])", comments)
    return found


@pytest.mark.parametrize("name", ["swfeed.yaml", "sources-example.yaml"])
def test_the_config_comments_name_commands_that_exist(name: str) -> None:
    """Each command a sample config's comments suggest parses as a swfeed command."""
    commands = commented_commands(ROOT / "config" / name)
    assert commands
    parser = build_parser()
    for command in commands:
        words = [word for word in shlex.split(command) if "…" not in word]
        try:
            parser.parse_args(words)
        except SystemExit:
            pytest.fail(f"config/{name} names `swfeed {command}`, which is no command")


@pytest.mark.slow
def test_the_daemon_records_a_rejected_reload_for_status(tmp_path: Path) -> None:
    """SIGHUP with a broken config: the daemon's info file says so until a good reload."""
    site = make_site(tmp_path / "site")
    site.write_config(fetch_every="10s")
    good = site.config.read_text()
    with running(site, FAST) as daemon:
        daemon.wait_event("feeds_built")
        site.config.write_text(good.replace("fetch_every: 10s", "fetch_every: 2s"))
        daemon.signal(signal.SIGHUP)
        daemon.wait_event("config_rejected")
        wait_until(lambda: rejected(site.store) is not None, what="the rejected reload")
        assert "fetch_every" in (rejected(site.store) or "")
        site.config.write_text(good)
        daemon.signal(signal.SIGHUP)
        daemon.wait_event("config_reloaded")
        wait_until(lambda: rejected(site.store) is None, what="the good reload")
        assert daemon.stop() == 0


def rejected(store: Path) -> str | None:
    info = running_daemon(store)
    return info.rejected if info is not None else None
