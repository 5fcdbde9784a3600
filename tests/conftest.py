"""Fixtures shared by all tests: configs written to real files in tmp_path."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

MINIMAL_CONFIG = """\
site:
  title: Test Site
  url: https://news.example.org/
  description: A site for tests.
  timezone: Europe/London
  author:
    name: Test Desk
sources:
  - kind: content
    name: site
    path: content
"""

WriteConfig = Callable[..., Path]


@pytest.fixture
def write_config(tmp_path: Path) -> WriteConfig:
    """Write a config (default: a minimal valid one) to tmp_path/swfeed.yaml."""

    def write(text: str = MINIMAL_CONFIG, name: str = "swfeed.yaml") -> Path:
        (tmp_path / "content").mkdir(exist_ok=True)
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


def copy_sample_site(root: Path) -> Path:
    """The sample site's content folder and config copied into ``root``: the config's path."""
    shutil.copytree(ROOT / "content", root / "content")
    (root / "config").mkdir()
    shutil.copy(ROOT / "config" / "swfeed.yaml", root / "config" / "swfeed.yaml")
    return root / "config" / "swfeed.yaml"


SAMPLE_SECRET = "sample-unsubscribe-secret-for-tests-only"


@pytest.fixture(autouse=True)
def sample_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sample config reads its unsubscribe secret from the environment: give it one."""
    monkeypatch.setenv("SWFEED_UNSUBSCRIBE_SECRET", SAMPLE_SECRET)


@pytest.fixture(autouse=True, scope="session")
def private_cache_folder() -> Iterator[Path]:
    """The validated-config cache of the whole session (every swfeed the tests start, in
    process or as a child) goes to a temporary folder, never the real home's."""
    with tempfile.TemporaryDirectory(prefix="swfeed-cache-") as folder:
        saved = os.environ.get("XDG_CACHE_HOME")
        os.environ["XDG_CACHE_HOME"] = folder
        yield Path(folder)
        if saved is None:
            del os.environ["XDG_CACHE_HOME"]
        else:
            os.environ["XDG_CACHE_HOME"] = saved
