"""The pages people see, in a real browser (headless Chromium) through a real
``swfeed serve``: a feed opened in the browser reads as a page (its stylesheet, no XSLT),
the feeds page, the archive and the server's own pages fit a phone and a desktop, light and
dark, with the right logo. Screenshots go to tests/artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from swfeed import pipeline
from swfeed.digest.freeze import ensure_issue
from swfeed.store import Database
from tests.browser import Browser, Page, chromium_executable
from tests.conftest import ROOT
from tests.test_digest_support import SAMPLE_CONTENT, make_config
from tests.test_web import listening_socket, running

pytestmark = pytest.mark.chromium

ARTIFACTS = ROOT / "tests" / "artifacts"
NOW = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
FITS = (
    "({scroll: document.documentElement.scrollWidth, view: window.innerWidth,"
    " widest: Math.max(...[...document.querySelectorAll('body *')]"
    ".map(e => e.getBoundingClientRect().right))})"
)
LOGO = (
    "(i => [i.currentSrc, i.complete && i.naturalWidth > 0])(document.querySelector('.site img'))"
)
SHOWN = (
    "[...document.querySelectorAll('{selector}')]"
    ".filter(e => e.getBoundingClientRect().height > 0).length"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with Browser(chromium_executable()) as running_browser:
        yield running_browser


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The sample site published and served by ``swfeed serve`` on 127.0.0.1: its URL."""
    tmp = tmp_path_factory.mktemp("site")
    listener = listening_socket()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
    brand = f"{url}media/site/brand/"
    config = make_config(
        tmp,
        content=SAMPLE_CONTENT,
        site={"logo": f"{brand}logo.png", "logo_dark": f"{brand}logo-dark.png"},
        output={"path": "public", "base_url": url},
    )
    with Database(config.store.path) as db:
        pipeline.publish(config, db, NOW)
        assert ensure_issue(config, db, NOW) is not None
    with running(config, listener):
        yield url


def shown(page: Page, selector: str) -> int:
    """How many elements matching ``selector`` take up room on the page."""
    return int(page.evaluate(SHOWN.replace("{selector}", selector)))


@pytest.mark.parametrize("name", ["rss", "atom"])
def test_feed_opened_in_a_browser_reads_as_a_page(browser: Browser, base: str, name: str) -> None:
    """The feed itself stays the document (no XSLT), styled: title, the note on how to
    subscribe, and each story's title, date, summary and address; the rest is hidden."""
    page = browser.open(f"{base}feeds/{name}.xml", 800)
    root = page.evaluate("document.documentElement.localName")
    note = page.evaluate(
        "getComputedStyle(document.documentElement.firstElementChild, '::after').content"
        if name == "rss"
        else "getComputedStyle(document.documentElement, '::after').content"
    )
    titles = shown(page, "item > title, entry > title")
    hidden = shown(page, "guid, id, generator, content, encoded")
    page.screenshot(ARTIFACTS / f"feed-{name}-800.png")
    page.close()
    assert root == ("rss" if name == "rss" else "feed")
    assert "copy the address of this page into your feed reader" in note
    assert f"{base}feeds/" in note
    assert titles == 9
    assert hidden == 0


def test_category_feed_finds_the_stylesheet(browser: Browser, base: str) -> None:
    """A category's feed, two folders deeper, is styled by the same stylesheet."""
    page = browser.open(f"{base}feeds/category/rwanda/atom.xml", 800)
    font = page.evaluate("getComputedStyle(document.querySelector('feed > title')).fontFamily")
    entries = shown(page, "entry")
    page.close()
    assert font.startswith("Georgia")
    assert entries > 0


def test_feed_page_turns_dark_with_the_system(browser: Browser, base: str) -> None:
    """In dark mode the feed's page takes the brand's dark colours."""
    page = browser.open(f"{base}feeds/rss.xml", 800, dark=True)
    colours = page.evaluate(
        "[getComputedStyle(document.documentElement).backgroundColor,"
        " getComputedStyle(document.querySelector('item > title')).color]"
    )
    page.screenshot(ARTIFACTS / "feed-rss-800-dark.png")
    page.close()
    assert colours == ["rgb(18, 18, 18)", "rgb(243, 241, 238)"]


@pytest.mark.parametrize(("width", "dark"), [(375, False), (800, False), (800, True)])
def test_feeds_page_fits_and_lists_every_feed(
    browser: Browser, base: str, width: int, dark: bool
) -> None:
    """The feeds page reads without sideways scrolling and links every feed and the OPML."""
    page = browser.open(f"{base}feeds/", width, dark=dark, mobile=width < 500)
    metrics = page.evaluate(FITS)
    links = page.evaluate("[...document.querySelectorAll('dd a')].map(a => a.href)")
    opml = page.evaluate("[...document.querySelectorAll('a')].some(a => a.href.endsWith('.opml'))")
    logo, loaded = page.evaluate(LOGO)
    suffix = "-dark" if dark else ""
    page.screenshot(ARTIFACTS / f"feeds-index-{width}{suffix}.png")
    page.close()
    assert metrics["scroll"] <= width, metrics
    assert metrics["widest"] <= width + 0.5, metrics
    assert len(links) == 3 * 10
    assert f"{base}feeds/rss.xml" in links
    assert opml
    assert logo.endswith("logo-dark.png" if dark else "logo.png")
    assert loaded


def test_archive_links_to_the_feeds_page(browser: Browser, base: str) -> None:
    """The digest archive's index points readers at every feed."""
    page = browser.open(f"{base}digest/", 800)
    hrefs = page.evaluate("[...document.querySelectorAll('a')].map(a => a.href)")
    page.screenshot(ARTIFACTS / "archive-index-800.png")
    page.close()
    assert f"{base}feeds/" in hrefs


def test_dark_logo_shows_in_the_dark_digest(browser: Browser, base: str) -> None:
    """The web copy of the issue shows the light logo in light mode and the dark one in
    dark mode, never both."""
    widths = []
    for dark in (False, True):
        page = browser.open(f"{base}digest/2026-W03.html", 600, dark=dark)
        widths.append(
            page.evaluate(
                "['logo-light', 'logo-dark'].map(c => document.querySelector('img.' + c)"
                ".getBoundingClientRect().width)"
            )
        )
        if dark:
            page.screenshot(ARTIFACTS / "digest-600-dark-logo.png")
        page.close()
    assert widths == [[200, 0], [0, 200]]


@pytest.mark.parametrize(("path", "name"), [("unsubscribe", "unsubscribe-help"), ("nope", "404")])
@pytest.mark.parametrize("dark", [False, True])
def test_server_pages_fit_a_phone_with_their_logo(
    browser: Browser, base: str, path: str, name: str, dark: bool
) -> None:
    """The server's own pages (how to unsubscribe, not found) take the house's frame: they
    fit 375 px and show the logo for the reader's colour scheme."""
    page = browser.open(f"{base}{path}", 375, dark=dark, mobile=True)
    metrics = page.evaluate(FITS)
    logo, loaded = page.evaluate(LOGO)
    page.screenshot(ARTIFACTS / f"{name}-375{'-dark' if dark else ''}.png")
    page.close()
    assert metrics["scroll"] <= 375, metrics
    assert logo.endswith("logo-dark.png" if dark else "logo.png")
    assert loaded, "the page's Content-Security-Policy must let the logo load"
