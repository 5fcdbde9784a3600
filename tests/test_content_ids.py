"""Article links follow the source's link_pattern; article ids stay as first stored."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from swfeed import pipeline
from swfeed.cli import main
from swfeed.config import Config, load_config
from swfeed.errors import ConfigErrors
from swfeed.fetchreport import SourceReport
from swfeed.sources import build_source
from swfeed.store import Database
from swfeed.store.articles import ArticleStore
from tests.conftest import ROOT
from tests.samplesite import copy_sample

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
WIX = ROOT / "tests" / "data" / "remote" / "wix"

CONFIG = """\
site:
  title: Example
  url: https://www.example.org/
  description: Test site
  timezone: Europe/London
  author: {{name: Editor}}
sources:
  - kind: content
    name: site
    path: content
{pattern}
store: {{path: store.sqlite3}}
"""


def story(title: str, day: str = "2026-01-06", extra: str = "", body: str = "Body.") -> str:
    return f"---\ntitle: {title}\ndate: {day}\n{extra}---\n{body}\n"


def configure(tmp_path: Path, pattern: str | None) -> Config:
    line = f"    link_pattern: {pattern}" if pattern else ""
    (tmp_path / "content").mkdir(exist_ok=True)
    (tmp_path / "swfeed.yaml").write_text(CONFIG.format(pattern=line), encoding="utf-8")
    return load_config(tmp_path / "swfeed.yaml")


def fetch(config: Config, when: datetime = NOW) -> SourceReport:
    with Database(config.store.path) as db:
        (report,) = pipeline.fetch(config, db, when)
    return report


def stored(config: Config) -> dict[str, str]:
    """id -> URL of every live article in the store."""
    with Database(config.store.path) as db:
        return {a.id: a.url for a in ArticleStore(db).latest(NOW + timedelta(days=30), 100)}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / "content" / name
    path.write_text(text, encoding="utf-8")
    return path


def test_link_pattern_makes_the_article_url(tmp_path: Path) -> None:
    """An absolute pattern with {slug} gives each article its page on the site."""
    config = configure(tmp_path, "https://www.example.org/post/{slug}")
    write(tmp_path, "2026-01-06-a-story.md", story("A story"))
    (article,) = build_source(config.sources[0], config).fetch({}, NOW).articles
    assert article.url == "https://www.example.org/post/a-story"


def test_relative_link_pattern_resolves_against_the_site(tmp_path: Path) -> None:
    """A pattern starting with / is a path on site.url; slug: fills it."""
    config = configure(tmp_path, "/post/{slug}")
    write(tmp_path, "a.md", story("A story", extra="slug: chosen\n"))
    (article,) = build_source(config.sources[0], config).fetch({}, NOW).articles
    assert article.url == "https://www.example.org/post/chosen"


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("https://www.example.org/post/", "must contain {slug} once"),
        ("https://www.example.org/{year}/{slug}", "no other {...} field"),
        ("ftp://www.example.org/{slug}", "an http(s) URL or a path on the site"),
    ],
)
def test_bad_link_pattern_is_a_config_error(tmp_path: Path, pattern: str, message: str) -> None:
    """A pattern without {slug}, with another field, or not on the web names the key."""
    with pytest.raises(ConfigErrors) as caught:
        configure(tmp_path, f'"{pattern}"')
    (error,) = caught.value.errors
    assert error.key == "sources[0].link_pattern"
    assert message in error.message
    assert error.hint
    assert error.location is not None
    assert error.location.line == 11


def test_a_new_link_pattern_moves_links_and_keeps_ids(tmp_path: Path) -> None:
    """Switching /news/ to /post/ updates each stored article's URL; nothing is new."""
    config = configure(tmp_path, None)
    write(tmp_path, "2026-01-06-a-story.md", story("A story"))
    assert fetch(config).counts.new == 1
    before = stored(config)
    assert list(before.values()) == ["https://www.example.org/news/a-story"]
    moved = configure(tmp_path, "https://www.example.org/post/{slug}")
    report = fetch(moved, NOW + timedelta(hours=1))
    assert (report.counts.new, report.counts.updated, report.counts.removed) == (0, 1, 0)
    assert stored(moved) == {next(iter(before)): "https://www.example.org/post/a-story"}


def test_a_renamed_file_keeps_its_id(tmp_path: Path) -> None:
    """git mv of a file without id: is the same article under a new slug, not a new one."""
    config = configure(tmp_path, "/post/{slug}")
    old = write(tmp_path, "2026-01-06-first-name.md", story("A story"))
    fetch(config)
    (article_id,) = stored(config)
    old.rename(tmp_path / "content" / "2026-01-06-second-name.md")
    report = fetch(config, NOW + timedelta(hours=1))
    assert (report.counts.new, report.counts.removed) == (0, 0)
    assert stored(config) == {article_id: "https://www.example.org/post/second-name"}


def test_a_renamed_and_edited_file_keeps_its_id(tmp_path: Path) -> None:
    """A rename with an edited body is recognised by its date and title."""
    config = configure(tmp_path, "/post/{slug}")
    old = write(tmp_path, "a.md", story("A story"))
    fetch(config)
    (article_id,) = stored(config)
    old.unlink()
    write(tmp_path, "b.md", story("A Story!", body="A longer body."))
    report = fetch(config, NOW + timedelta(hours=1))
    assert (report.counts.new, report.counts.updated, report.counts.removed) == (0, 1, 0)
    assert set(stored(config)) == {article_id}


def test_another_story_in_an_old_file_name_is_new(tmp_path: Path) -> None:
    """Reusing a file name for a story of another date and title announces it as new."""
    config = configure(tmp_path, "/post/{slug}")
    write(tmp_path, "a.md", story("A story"))
    fetch(config)
    (first_id,) = stored(config)
    write(tmp_path, "a.md", story("Something else", day="2026-02-01"))
    report = fetch(config, NOW + timedelta(hours=1))
    assert (report.counts.new, report.counts.removed) == (1, 1)
    (second_id,) = stored(config)
    assert second_id != first_id


def test_check_lists_files_without_an_id_with_the_line_to_add(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """check names each file lacking id: and the id the store knows it by."""
    config = configure(tmp_path, None)
    write(tmp_path, "2026-01-06-a-story.md", story("A story"))
    write(tmp_path, "b.md", story("Another", extra="id: tag:example.org,2026:b\n"))
    fetch(config)
    moved = configure(tmp_path, "/post/{slug}")
    assert main(["--config", str(moved.source_file), "check"]) == 0
    out = capsys.readouterr().out
    assert "1 article file without an id: line" in out
    path = tmp_path / "content" / "2026-01-06-a-story.md"
    assert f"{path}: id: https://www.example.org/news/a-story" in out
    assert "b.md: id:" not in out


def test_every_sample_item_links_to_its_post_page_on_the_site() -> None:
    """The sample's nine stories link to the /post/ pages the Wix listing links to."""
    config = load_config(ROOT / "config" / "swfeed.yaml")
    result = build_source(config.sources[0], config).fetch({}, NOW)
    listing = "".join(p.read_text(encoding="utf-8") for p in WIX.glob("news*.html"))
    posts = {
        f"https://www.securitywomen.org{path}"
        for path in re.findall(r'href="(/post/[^"]+)"', listing)
    }
    assert {article.url for article in result.articles} == posts


def test_the_sample_check_reports_no_missing_ids(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every sample article carries its own id: line."""
    assert main(["--config", str(copy_sample(tmp_path)), "check"]) == 0
    assert "without an id: line" not in capsys.readouterr().out
