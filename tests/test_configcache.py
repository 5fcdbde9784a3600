"""The validated-config cache: the same config as a full load, keyed on every input, never a
secret on disk, only the user's own private files, and any fault a silent full load."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from swfeed import configcache
from swfeed.config import Config, load_config
from swfeed.errors import ConfigErrors
from tests.conftest import SAMPLE_SECRET, copy_sample_site

EVERY_SECTION = """\
site:
  title: Every Section
  url: https://news.example.org/
  description: A config with every section.
  timezone: Europe/London
  author: {name: Desk, email: desk@example.org}
  logo: https://news.example.org/logo.png
sources:
  - {kind: content, name: site, path: content, link_pattern: "/post/{slug}"}
  - kind: html
    name: partner
    url: https://partner.example.org/news
    follow_links: true
    selectors: {item: article, title: h2, link: a, date: time, body: .body}
  - {kind: feed, name: upstream, url: "https://feeds.example.org/rss.xml"}
store: {path: var/swfeed.sqlite3}
output: {path: public, base_url: "https://feeds.example.org/"}
feeds: {max_items: 20, websub: {hubs: ["https://hub.example.org/"]}}
digest: {postal_address: 1 Main Street, templates: templates, subject: "{{ count }} new"}
delivery:
  method: smtp
  smtp: {host: smtp.example.org, username: mailer, password: "${SWFEED_SMTP_PASSWORD}"}
  from_address: news@example.org
  unsubscribe_secret: "${SWFEED_UNSUBSCRIBE_SECRET}"
  previous_secrets: ["${SWFEED_OLD_SECRET}"]
  dkim: {domain: example.org, selector: s1, private_key_file: keys/dkim.pem}
  bounce_address: bounces@example.org
bounces:
  imap: {host: imap.example.org, username: bounces, password: "${SWFEED_IMAP_PASSWORD}"}
subscribe: {privacy_url: "https://news.example.org/privacy", trusted_proxies: [10.0.0.0/8]}
schedule: {fetch_every: 10m, digest: "fri 17:30"}
"""
SECRETS = {
    "SWFEED_SMTP_PASSWORD": "smtp-password-not-on-disk-1",
    "SWFEED_OLD_SECRET": "an-older-unsubscribe-secret-not-on-disk-0123456789",
    "SWFEED_IMAP_PASSWORD": "imap-password-not-on-disk-2",
}


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache folder of this test's own."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    return folder / "swfeed"


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A copy of the sample site: its config's path."""
    return copy_sample_site(tmp_path / "site")


@pytest.fixture
def every_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config with every section, its folders and secrets: its path."""
    root = tmp_path / "full"
    for folder in ("content", "templates", "keys"):
        (root / folder).mkdir(parents=True)
    (root / "keys" / "dkim.pem").write_text("not read by validation", encoding="utf-8")
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    path = root / "swfeed.yaml"
    path.write_text(EVERY_SECTION, encoding="utf-8")
    return path


def kept(path: Path) -> Config:
    """Load ``path`` through the cache once (so it is kept); the next load's result."""
    configcache.load_config(path)
    found = configcache.cached_config(path)
    assert found is not None
    return found


def entry_bytes(cache: Path) -> bytes:
    (entry,) = cache.glob("config-*.pickle")
    return entry.read_bytes()


@pytest.mark.usefixtures("cache")
def test_cached_sample_equals_a_full_load(sample: Path) -> None:
    """The sample config from the cache is the config a full load makes."""
    assert kept(sample).model_dump() == load_config(sample).model_dump()


@pytest.mark.usefixtures("cache")
def test_cached_config_with_every_section_equals_a_full_load(every_section: Path) -> None:
    """A config with every section, secrets included, comes back from the cache the same."""
    cached = kept(every_section)
    full = load_config(every_section)
    assert cached.model_dump() == full.model_dump()
    assert cached == full
    assert cached.delivery is not None
    assert cached.delivery.smtp is not None
    assert cached.delivery.smtp.password is not None
    assert cached.delivery.smtp.password.get_secret_value() == SECRETS["SWFEED_SMTP_PASSWORD"]
    assert cached.source_file == every_section


def test_no_secret_is_written(cache: Path, every_section: Path) -> None:
    """The cache file holds none of the values that came from the environment."""
    kept(every_section)
    data = entry_bytes(cache)
    for value in [*SECRETS.values(), SAMPLE_SECRET]:
        assert value.encode() not in data


def test_cache_is_private(cache: Path, sample: Path) -> None:
    """The folder is 0700 and the file 0600."""
    kept(sample)
    (entry,) = cache.glob("config-*.pickle")
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600


def test_changed_variable_is_a_miss(sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new value of a variable the config names is read, not the old one."""
    kept(sample)
    monkeypatch.setenv("SWFEED_UNSUBSCRIBE_SECRET", "another-secret-of-at-least-32-characters")
    assert configcache.cached_config(sample) is None
    config = configcache.load_config(sample)
    assert config.delivery is not None
    assert config.delivery.unsubscribe_secret is not None
    secret = config.delivery.unsubscribe_secret.get_secret_value()
    assert secret == "another-secret-of-at-least-32-characters"


@pytest.mark.usefixtures("cache")
def test_changed_file_is_a_miss(sample: Path) -> None:
    """An edit of the config file is validated, not taken from the cache."""
    kept(sample)
    sample.write_text(sample.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert configcache.cached_config(sample) is None


@pytest.mark.usefixtures("cache")
def test_deleted_content_folder_gives_the_same_error(sample: Path) -> None:
    """A content folder deleted after the config was kept is the usual file:line error."""
    kept(sample)
    content = sample.parent.parent / "content"
    for root, folders, files in os.walk(content, topdown=False):
        for name in files:
            os.unlink(os.path.join(root, name))
        for name in folders:
            os.rmdir(os.path.join(root, name))
    content.rmdir()
    with pytest.raises(ConfigErrors) as cached:
        configcache.load_config(sample)
    with pytest.raises(ConfigErrors) as full:
        load_config(sample)
    assert str(cached.value) == str(full.value)
    assert "does not exist" in str(cached.value)


@pytest.mark.usefixtures("cache")
def test_config_with_errors_is_never_kept(sample: Path, cache: Path) -> None:
    """A config that does not validate leaves no cache file."""
    sample.write_text("site: {title: x}\nsources: []\n", encoding="utf-8")
    with pytest.raises(ConfigErrors):
        configcache.load_config(sample)
    assert not list(cache.glob("config-*"))


def test_secret_in_the_file_is_never_kept(
    every_section: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A secret written in the config itself keeps the config out of the cache."""
    text = every_section.read_text(encoding="utf-8")
    every_section.write_text(
        text.replace('"${SWFEED_SMTP_PASSWORD}"', "a-password-in-the-file"), encoding="utf-8"
    )
    configcache.load_config(every_section)
    assert not list(cache.glob("config-*"))


def test_corrupt_file_is_a_full_load(sample: Path, cache: Path) -> None:
    """A damaged cache file is ignored and written again."""
    kept(sample)
    (entry,) = cache.glob("config-*.pickle")
    data = entry.read_bytes()
    entry.write_bytes(data[: len(data) // 2])
    assert configcache.cached_config(sample) is None
    assert configcache.load_config(sample).model_dump() == load_config(sample).model_dump()
    assert configcache.cached_config(sample) is not None


def test_file_others_may_write_is_not_read(sample: Path, cache: Path) -> None:
    """A cache file writable by group or others is not loaded."""
    kept(sample)
    (entry,) = cache.glob("config-*.pickle")
    entry.chmod(0o666)
    assert configcache.cached_config(sample) is None


def test_folder_others_may_write_is_not_used(sample: Path, cache: Path) -> None:
    """A cache folder writable by others is neither read nor written."""
    kept(sample)
    cache.chmod(0o777)
    assert configcache.cached_config(sample) is None
    for entry in cache.glob("config-*"):
        entry.unlink()
    configcache.load_config(sample)
    assert not list(cache.glob("config-*"))


def test_unwritable_cache_is_a_full_load(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cache folder that cannot be made costs nothing but the time."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert configcache.load_config(sample).model_dump() == load_config(sample).model_dump()


@pytest.mark.usefixtures("cache")
def test_check_always_validates(sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`swfeed check` validates even when the cache holds the config."""
    from swfeed.cli import main

    kept(sample)
    calls: list[Path] = []
    real = configcache.cached_config

    def spy(path: Path, environ: object = None) -> Config | None:
        calls.append(path)
        return real(path)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(configcache, "cached_config", spy)
        main(["--config", str(sample), "check"])
    assert calls == []
    assert "config OK" in capsys.readouterr().out
