"""The command line on a copy of the sample site: exit codes, messages, idempotent runs."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from swfeed.cli import build_parser, main
from tests.conftest import ROOT


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A copy of the sample config and content, writing into tmp_path."""
    shutil.copytree(ROOT / "content", tmp_path / "content")
    (tmp_path / "config").mkdir()
    shutil.copy(ROOT / "config" / "swfeed.yaml", tmp_path / "config" / "swfeed.yaml")
    return tmp_path / "config" / "swfeed.yaml"


def test_publish_writes_feeds(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`swfeed publish` on the sample site loads nine articles and writes the feeds."""
    assert main(["--config", str(site), "publish"]) == 0
    out = capsys.readouterr().out
    assert "site: 9 new, 0 updated, 0 unchanged, 0 removed, 0 failed" in out
    feeds = site.parent.parent / "public" / "feeds"
    assert {p.name for p in feeds.iterdir()} >= {"rss.xml", "atom.xml", "feed.json", "category"}
    assert '<link rel="alternate" type="application/rss+xml"' in out


def test_second_publish_changes_nothing(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A second publish with nothing new reports unchanged and rewrites no file."""
    main(["--config", str(site), "publish"])
    public = site.parent.parent / "public"
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in public.rglob("*") if p.is_file()}
    capsys.readouterr()
    assert main(["--config", str(site), "publish"]) == 0
    out = capsys.readouterr().out
    assert "site: 0 new, 0 updated, 9 unchanged, 0 removed, 0 failed (not modified)" in out
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in public.rglob("*") if p.is_file()}
    assert after == before


def test_config_error_exits_2_without_traceback(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A config error prints file:line:key and the fix, exit code 2, no traceback."""
    site.write_text(site.read_text().replace("path: ../content", "path: ../contnt"))
    assert main(["--config", str(site), "fetch"]) == 2
    err = capsys.readouterr().err
    assert f"{site}:" in err
    assert "sources[0].path: folder" in err
    assert "Traceback" not in err


def test_debug_shows_traceback(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--debug adds the traceback to a config error."""
    site.write_text(site.read_text() + "bogus: 1\n")
    assert main(["--debug", "--config", str(site), "check"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_check_writes_nothing(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`swfeed check` validates config and sources and creates no store or output."""
    assert main(["--config", str(site), "check"]) == 0
    assert "site: 9 articles, 0 problems" in capsys.readouterr().out
    assert not (site.parent.parent / "var").exists()
    assert not (site.parent.parent / "public").exists()


def test_broken_article_is_reported_and_others_publish(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A broken article file is named with its line; the other nine still publish."""
    broken = site.parent.parent / "content" / "news" / "broken.md"
    broken.write_text("---\ntitle: [unclosed\n---\nBody\n", encoding="utf-8")
    assert main(["--config", str(site), "publish"]) == 0
    out = capsys.readouterr().out
    assert "site: 9 new, 0 updated, 0 unchanged, 0 removed, 1 failed" in out
    assert "broken.md:" in out


def test_config_schema_is_json(capsys: pytest.CaptureFixture[str]) -> None:
    """`swfeed config schema` prints a JSON Schema for editors."""
    assert main(["config", "schema"]) == 0
    assert '"title": "swfeed configuration"' in capsys.readouterr().out


def test_readme_config_reference_is_current() -> None:
    """The README's config reference matches the models (`swfeed config reference`)."""
    from swfeed.configdoc import BEGIN, END, reference

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split(BEGIN, 1)[1].split(END, 1)[0]
    assert section.strip() == reference().strip()


def test_python_dash_m_runs() -> None:
    """`python -m swfeed --version` works."""
    result = subprocess.run(
        [sys.executable, "-m", "swfeed", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("swfeed ")


def subcommands(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every command and subcommand parser, with its full name."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            shown = {choice.dest for choice in action._choices_actions}
            for name, child in action.choices.items():
                if name in shown:
                    yield name, child
                    for sub, grandchild in subcommands(child):
                        yield f"{name} {sub}", grandchild


def test_every_command_explains_itself() -> None:
    """Each subcommand's --help starts with a one-line sentence, and groups show examples."""
    commands = dict(subcommands(build_parser()))
    assert {"check", "fetch", "build", "publish", "digest send", "subscribers add"} <= set(commands)
    for name, parser in commands.items():
        first = (parser.description or "").split("\n")[0]
        assert first.endswith("."), name
        assert first[0].isupper(), name
        assert len(first) <= 100, name
        has_subcommands = any(isinstance(a, argparse._SubParsersAction) for a in parser._actions)
        if has_subcommands or name in ("digest send", "fetch", "run"):
            assert "examples:" in (parser.epilog or ""), name


def test_placeholders_are_consistent() -> None:
    """Arguments name what they take in capitals from one small vocabulary."""
    known = {
        "NAME",
        "DIR",
        "ADDRESS",
        "PERIOD",
        "FILE",
        "PATH",
        "HOST",
        "PORT",
        "IP",
        "IP[:PORT]",
        "FORMAT",
        "STATUS",
        "COMMAND",
        "TOPICS",
    }
    for name, parser in subcommands(build_parser()):
        for action in parser._actions:
            if action.option_strings and action.nargs == 0:
                continue
            if isinstance(action, argparse._SubParsersAction | argparse._HelpAction):
                continue
            assert action.metavar in known, (name, action.dest, action.metavar)


def test_digest_build_still_freezes_under_its_old_name(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`digest build` (the name before 0.2) still freezes, hidden from the help."""
    digest_help = dict(subcommands(build_parser()))["digest"].format_help()
    assert "freeze" in digest_help
    assert "build" not in digest_help
    with time_machine.travel(datetime(2026, 1, 12, 9, tzinfo=UTC), tick=False):
        assert main(["--config", str(site), "fetch"]) == 0
        assert main(["--config", str(site), "digest", "build"]) == 0
    assert "frozen:   2026-01-12 09:00 UTC" in capsys.readouterr().out
