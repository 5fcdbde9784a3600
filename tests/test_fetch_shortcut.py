"""A fetch with nothing new, told from the config cache without loading the config: the
same lines and poll as a full fetch, and a full fetch whenever anything changed."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from swfeed import pipeline
from swfeed.cli import main
from swfeed.config import load_config
from swfeed.fetchreport import FetchShortcut, unchanged_reports
from swfeed.sources.folderstate import files_match, folder_matches
from swfeed.store import Database
from swfeed.store.articles import ArticleStore
from swfeed.store.polls import polls_path
from tests.conftest import copy_sample_site

ARTICLE = "news/2018-07-10-rwanda-to-send-all-woman-peacekeeping-force.md"
IMAGE = "news/images/rwanda-all-woman-peacekeeping-force.jpg"
Fetch = Callable[..., str]


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A copy of the sample site, fetched once (the config is in the cache): its config."""
    config = copy_sample_site(tmp_path / "site")
    os.chdir(config.parent.parent)
    assert main(["--config", str(config), "fetch"]) == 0
    return config


@pytest.fixture
def fetch(sample: Path, capsys: pytest.CaptureFixture[str]) -> Fetch:
    """Runs ``swfeed fetch`` on the sample (with these arguments); what it printed."""

    def run(*args: str) -> str:
        capsys.readouterr()
        assert main(["--config", str(sample), "fetch", *args]) == 0
        return capsys.readouterr().out

    return run


@pytest.fixture
def no_config_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """Makes loading the config fail: what still works did not load it."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the config was loaded")

    monkeypatch.setattr("swfeed.cli.feeds.load", refuse)


def shortcut_of(config: Path) -> FetchShortcut:
    found = pipeline.fetch_shortcut(load_config(config))
    assert found is not None
    return found


def polls(config: Path) -> dict[str, dict[str, str]]:
    store = load_config(config).store.path
    data: dict[str, dict[str, str]] = json.loads(polls_path(store).read_text(encoding="utf-8"))
    return data


def test_unchanged_fetch_prints_what_a_full_one_prints(
    fetch: Fetch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the config, a fetch with nothing new prints the full fetch's lines."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    full = fetch()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    monkeypatch.setattr("swfeed.cli.feeds.load", lambda *_a, **_k: pytest.fail("loaded"))
    assert fetch() == full


def test_unchanged_fetch_records_its_poll(fetch: Fetch, sample: Path, no_config_load: None) -> None:
    """The poll a fetch told from the cache notes is "not modified", as a full one's."""
    fetch()
    assert polls(sample)["site"]["outcome"] == "not modified"


def test_edited_article_is_fetched(fetch: Fetch, sample: Path) -> None:
    """An edited article file makes the fetch read it."""
    path = sample.parent.parent / "content" / ARTICLE
    path.write_text(path.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    assert "site: 0 new, 1 updated" in fetch()


def test_removed_article_is_fetched(fetch: Fetch, sample: Path) -> None:
    """A deleted article file makes the fetch remove its article."""
    (sample.parent.parent / "content" / ARTICLE).unlink()
    assert ", 1 removed," in fetch()


def test_replaced_image_is_fetched(fetch: Fetch, sample: Path) -> None:
    """An article whose image changed is read again (its enclosure's length changed)."""
    image = sample.parent.parent / "content" / IMAGE
    image.write_bytes(image.read_bytes() + b"\0")
    assert "site: 0 new, 1 updated" in fetch()


def test_failed_source_is_fetched_in_full(sample: Path) -> None:
    """A source whose last fetch failed is not told unchanged: the fetch runs."""
    shortcut = shortcut_of(sample)
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    with Database(shortcut.store) as db:
        ArticleStore(db).record_failure("site", now, "the folder was missing", None)
        assert unchanged_reports(shortcut, db, now + timedelta(hours=1)) is None


def test_named_source_and_force_run_the_fetch(fetch: Fetch, no_config_load: None) -> None:
    """``--source NAME`` and ``--force`` never take the shortcut."""
    with pytest.raises(AssertionError, match="the config was loaded"):
        fetch("--force")
    with pytest.raises(AssertionError, match="the config was loaded"):
        fetch("--source", "site")


def test_remote_sources_have_no_shortcut(sample: Path) -> None:
    """A config with a source that is not a content folder keeps no fetch shortcut."""
    text = sample.read_text(encoding="utf-8").replace(
        "sources:\n", "sources:\n  - {kind: feed, name: up, url: 'https://example.org/rss'}\n"
    )
    sample.write_text(text, encoding="utf-8")
    assert pipeline.fetch_shortcut(load_config(sample)) is None


def test_folder_matches_its_own_state(sample: Path) -> None:
    """After a fetch, the folder matches the state the fetch saved."""
    shortcut = shortcut_of(sample)
    (folder,) = shortcut.folders
    with Database(shortcut.store) as db:
        state = ArticleStore(db).source_status("site").state
    assert folder_matches(folder.path, state, folder.settings)


def test_other_settings_do_not_match(sample: Path) -> None:
    """A state saved under other settings (another link pattern ...) does not match."""
    shortcut = shortcut_of(sample)
    (folder,) = shortcut.folders
    with Database(shortcut.store) as db:
        state = ArticleStore(db).source_status("site").state
    assert not folder_matches(folder.path, state, "another-key")


@pytest.mark.parametrize(
    "damage",
    [
        {"format": 2},
        {"files": None},
        {"files": {ARTICLE: {"size": 1}}},
        {"files": {ARTICLE: "not an entry"}},
    ],
)
def test_damaged_state_does_not_match(sample: Path, damage: dict[str, object]) -> None:
    """A state of another format, or damaged, never matches (the fetch reads the files)."""
    shortcut = shortcut_of(sample)
    (folder,) = shortcut.folders
    with Database(shortcut.store) as db:
        state = {**ArticleStore(db).source_status("site").state, **damage}
    assert not files_match(folder.path, [], state, folder.settings)
    assert not folder_matches(folder.path, state, folder.settings)


def test_missing_folder_does_not_match(tmp_path: Path) -> None:
    """A folder that is not there matches no state."""
    assert not folder_matches(tmp_path / "gone", {"format": 1, "files": {}}, "key")
