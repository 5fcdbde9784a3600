"""The bundled sample site copied into a test's folder (no tests here)."""

from __future__ import annotations

import shutil
from pathlib import Path

from swfeed.config import Config, load_config
from tests.conftest import ROOT, SAMPLE_SECRET

SITE_HOST = "www.securitywomen.org"
NEWS_HOST = "news.securitywomen.org"


def copy_sample(root: Path) -> Path:
    """Copy ``config/swfeed.yaml`` and ``content/`` under ``root``; the config's path.

    The copy writes its store to ``root/var`` and its output to ``root/public``.
    """
    shutil.copytree(ROOT / "content", root / "content")
    (root / "config").mkdir()
    shutil.copy(ROOT / "config" / "swfeed.yaml", root / "config" / "swfeed.yaml")
    return root / "config" / "swfeed.yaml"


def load_sample(path: Path) -> Config:
    """The copied sample config, with the unsubscribe secret it reads from the environment
    (for module-scoped fixtures, which run before the per-test environment is set)."""
    return load_config(path, environ={"SWFEED_UNSUBSCRIBE_SECRET": SAMPLE_SECRET})
