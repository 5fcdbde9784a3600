"""The digest in a real browser (headless Chromium): no sideways scrolling at 600 and
375 px, dark mode applied, every image loaded. Screenshots go to tests/artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from swfeed.config import Config
from swfeed.digest.freeze import ensure_issue
from swfeed.models import DigestIssue
from swfeed.store import Database
from tests import browser as browser_module
from tests.browser import Browser, Page, chromium_executable
from tests.conftest import ROOT
from tests.test_digest_support import (
    SAMPLE_CONTENT,
    make_config,
    sample_articles,
    serve_sample_media,
    static_server,
    store_articles,
)

pytestmark = pytest.mark.chromium

ARTIFACTS = ROOT / "tests" / "artifacts"
MONDAY = datetime(2026, 1, 12, 9, tzinfo=ZoneInfo("Europe/London"))
INTRO = (
    "Welcome to this week's digest: the latest on women, peace and security, from "
    "peacekeeping missions to police academies."
)
OVERFLOW = (
    "({scroll: document.documentElement.scrollWidth, view: window.innerWidth,"
    " widest: Math.max(...[...document.querySelectorAll('body *')]"
    ".map(e => e.getBoundingClientRect().right))})"
)
IMAGES = "[...document.images].map(i => [i.currentSrc, i.complete && i.naturalWidth > 0])"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with Browser(chromium_executable()) as running:
        yield running


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Config, DigestIssue]]:
    """The sample site's issue, published to a folder served on 127.0.0.1."""
    tmp = tmp_path_factory.mktemp("site")
    public = tmp / "public"
    serve_sample_media(public)
    with static_server(public) as (base, _requests):
        config = make_config(
            tmp,
            content=SAMPLE_CONTENT,
            site={"logo": f"{base}logo.svg"},
            output={"path": str(public), "base_url": base},
            intro=INTRO,
        )
        db = Database(config.store.path)
        store_articles(db, sample_articles(config, MONDAY), MONDAY - timedelta(days=2))
        issue = ensure_issue(config, db, MONDAY)
        assert issue is not None
        yield base, config, issue


def open_issue(browser: Browser, issue: DigestIssue, width: int, dark: bool = False) -> Page:
    return browser.open(issue.archive_url, width, dark=dark, mobile=width < 500)


def assert_fits(page: Page, width: int) -> None:
    metrics = page.evaluate(OVERFLOW)
    assert metrics["view"] == width
    assert metrics["scroll"] <= width, metrics
    assert metrics["widest"] <= width + 0.5, metrics


@pytest.mark.parametrize("width", [600, 375])
def test_no_horizontal_scrolling(
    browser: Browser, site: tuple[str, Config, DigestIssue], width: int
) -> None:
    """At 600 px (desktop width) and 375 px (a phone) nothing sticks out sideways."""
    page = open_issue(browser, site[2], width)
    assert_fits(page, width)
    page.screenshot(ARTIFACTS / f"digest-{width}.png")
    page.close()


def test_every_image_loads(browser: Browser, site: tuple[str, Config, DigestIssue]) -> None:
    """The logo and every article picture load from their absolute URLs."""
    page = open_issue(browser, site[2], 800)
    images = page.evaluate(IMAGES)
    page.screenshot(ARTIFACTS / "digest-800.png")
    page.close()
    assert len(images) >= 8
    assert all(loaded for _src, loaded in images), images


def test_phone_layout_stacks_pictures_full_width(
    browser: Browser, site: tuple[str, Config, DigestIssue]
) -> None:
    """On a phone the story pictures span the column instead of sitting beside the text."""
    page = open_issue(browser, site[2], 375)
    widths = page.evaluate(
        "[...document.querySelectorAll('img.thumb')].map(i => i.getBoundingClientRect().width)"
    )
    page.close()
    assert widths
    assert all(width > 300 for width in widths), widths


def test_dark_mode_darkens_the_page(
    browser: Browser, site: tuple[str, Config, DigestIssue]
) -> None:
    """With prefers-color-scheme: dark the background turns dark and headlines light."""
    page = open_issue(browser, site[2], 600, dark=True)
    colours = page.evaluate(
        "[getComputedStyle(document.body).backgroundColor,"
        " getComputedStyle(document.querySelector('h1 a')).color]"
    )
    assert_fits(page, 600)
    page.screenshot(ARTIFACTS / "digest-600-dark.png")
    page.close()
    assert colours == ["rgb(18, 18, 18)", "rgb(243, 241, 238)"]


def test_archive_index_fits_a_phone(
    browser: Browser, site: tuple[str, Config, DigestIssue]
) -> None:
    """The archive's index page reads at 375 px without sideways scrolling."""
    base = site[0]
    page = browser.open(f"{base}digest/index.html", 375, mobile=True)
    assert_fits(page, 375)
    page.screenshot(ARTIFACTS / "archive-index-375.png")
    page.close()


def test_missing_chromium_skips_with_a_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without Chromium (and without CI=true) browser tests skip, saying what is missing."""
    monkeypatch.setattr(browser_module, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no-chromium is missing"):
        chromium_executable()


def test_missing_chromium_fails_on_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With CI=true a missing Chromium is a failure, never a silent skip."""
    monkeypatch.setattr(browser_module, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="required when CI=true"):
        chromium_executable()
