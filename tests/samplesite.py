"""The bundled sample site copied into a test's folder (no tests here)."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import ROOT

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
