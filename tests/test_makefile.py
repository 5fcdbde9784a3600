"""The Makefile's sample runs: the unsubscribe secret is random, made once, kept private."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

SECRET = Path("var") / "unsubscribe-secret"


def make_secret(folder: Path) -> str:
    """Run the Makefile's secret target in ``folder``; the secret it holds afterwards."""
    shutil.copy(ROOT / "Makefile", folder / "Makefile")
    result = subprocess.run(
        ["make", "--no-print-directory", str(SECRET), f"PYTHON={sys.executable}"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stderr == ""
    return (folder / SECRET).read_text().strip()


def test_sample_secret_is_random_private_and_kept(tmp_path: Path) -> None:
    """Two checkouts get different secrets, readable by the owner only, kept across runs."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = make_secret(tmp_path / "a")
    assert len(first) >= 40
    assert make_secret(tmp_path / "b") != first
    assert make_secret(tmp_path / "a") == first
    assert (tmp_path / "a" / SECRET).stat().st_mode & 0o077 == 0


def test_makefile_holds_no_secret_value() -> None:
    """No fixed unsubscribe secret is written in the Makefile."""
    text = (ROOT / "Makefile").read_text()
    assert "SWFEED_UNSUBSCRIBE_SECRET:-$$(cat $(SECRET_FILE))" in text
    assert "sample-only-secret" not in text
