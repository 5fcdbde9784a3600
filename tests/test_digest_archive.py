"""The web archive: issue pages without per-recipient parts, the index, the issues feed."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import lxml.html
import pytest

from swfeed.config import Config
from swfeed.digest.archive import archive_copy, archive_folder, unsubscribe_page, write_archive
from swfeed.digest.freeze import ensure_issue
from swfeed.models import RECIPIENT_ADDRESS_TOKEN, UNSUBSCRIBE_URL_TOKEN, DigestIssue
from swfeed.store import Database
from swfeed.store.issues import IssueStore
from tests.feedcheck import check_atom
from tests.smtpfixture import make_issue
from tests.test_digest_support import document, make_article, make_config, store_articles

MONDAY = datetime(2026, 11, 23, 9, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path, output={"base_url": "https://www.example.org/news-out/"})


@pytest.fixture
def db(config: Config) -> Database:
    return Database(config.store.path)


def two_issues(config: Config, db: Database) -> tuple[DigestIssue, DigestIssue]:
    store_articles(db, [make_article(1), make_article(2)], MONDAY - timedelta(days=1))
    first = ensure_issue(config, db, MONDAY)
    store_articles(db, [make_article(3)], MONDAY + timedelta(days=1))
    second = ensure_issue(config, db, MONDAY + timedelta(days=7))
    assert first is not None
    assert second is not None
    return first, second


def test_issue_page_has_no_per_recipient_parts(config: Config, db: Database) -> None:
    """The web copy has generic values where each email has the recipient's."""
    first, _second = two_issues(config, db)
    page = (archive_folder(config) / "2026-W48.html").read_text(encoding="utf-8")
    assert UNSUBSCRIBE_URL_TOKEN not in page
    assert RECIPIENT_ADDRESS_TOKEN not in page
    assert first.archive_url == "https://www.example.org/news-out/digest/2026-W48.html"


def test_web_copy_footer_speaks_to_web_readers(config: Config, db: Database) -> None:
    """The web copy's footer says it is the web copy, not "sent to you", and no Unsubscribe."""
    two_issues(config, db)
    root = document((archive_folder(config) / "2026-W48.html").read_text(encoding="utf-8"))
    (footer,) = root.xpath("//td[contains(@class, 'footer')]")
    words = " ".join(footer.text_content().split())
    assert "This is the web copy of the SecurityWomen weekly digest." in words
    assert "sent to" not in words.lower()
    assert "you" not in words.lower().split()
    labels = [a.text_content() for a in footer.xpath(".//a")]
    assert "Unsubscribe" not in labels
    (how,) = [a for a in footer.xpath(".//a") if a.text_content() == "How to unsubscribe"]
    assert how.get("href") == config.site.base_url


def test_email_keeps_its_per_recipient_footer(config: Config, db: Database) -> None:
    """The frozen email HTML still names the recipient and links their unsubscribe URL."""
    first, _second = two_issues(config, db)
    root = document(first.html)
    (footer,) = root.xpath("//td[contains(@class, 'footer')]")
    words = " ".join(footer.text_content().split())
    assert f"This email was sent to {RECIPIENT_ADDRESS_TOKEN} as a subscriber" in words
    (link,) = [a for a in footer.xpath(".//a") if a.text_content() == "Unsubscribe"]
    assert link.get("href") == UNSUBSCRIBE_URL_TOKEN


def test_template_without_markers_still_hides_the_address(config: Config) -> None:
    """An admin template without the markers gets the generic values in its placeholders."""
    issue = make_issue()
    page = archive_copy(config, issue)
    assert RECIPIENT_ADDRESS_TOKEN not in page
    assert f'href="{config.site.base_url}"' in page


def test_index_lists_issues_newest_first(config: Config, db: Database) -> None:
    """index.html links every issue, newest first, with its headlines."""
    first, second = two_issues(config, db)
    root = lxml.html.parse(str(archive_folder(config) / "index.html")).getroot()
    subjects = root.xpath("//a[@class='subject']")
    assert [a.get("href") for a in subjects] == [second.archive_url, first.archive_url]
    assert "Story number 3 about women in peacekeeping" in root.text_content()
    assert root.xpath("//link[@rel='alternate']/@href") == [
        "https://www.example.org/news-out/digest/feed.xml"
    ]


def test_issues_feed_is_valid_atom(config: Config, db: Database) -> None:
    """feed.xml passes the Atom checks and reads back with feedparser, newest first."""
    first, second = two_issues(config, db)
    data = (archive_folder(config) / "feed.xml").read_bytes()
    assert check_atom(data, "https://www.example.org/news-out/digest/feed.xml") == []
    parsed = feedparser.parse(data)
    assert not parsed.bozo
    assert [e.link for e in parsed.entries] == [second.archive_url, first.archive_url]
    assert parsed.entries[0].title == second.subject
    assert "Story number 3" in parsed.entries[0].content[0].value


def test_skipped_issues_leave_the_index(config: Config, db: Database) -> None:
    """An issue marked skipped (never sent) is not listed once the archive is rewritten."""
    first, second = two_issues(config, db)
    store = IssueStore(db)
    store.set_status(first.period, "skipped", MONDAY + timedelta(days=8))
    write_archive(config, second, store.list())
    index = (archive_folder(config) / "index.html").read_text(encoding="utf-8")
    assert second.archive_url in index
    assert first.archive_url not in index
    parsed = feedparser.parse((archive_folder(config) / "feed.xml").read_bytes())
    assert [e.link for e in parsed.entries] == [second.archive_url]


def test_unchanged_archive_is_not_rewritten(config: Config, db: Database) -> None:
    """Writing the archive again with nothing new changes no file (stable ETags)."""
    _first, second = two_issues(config, db)
    assert write_archive(config, second, IssueStore(db).list()) == []


def test_lost_archive_page_is_written_again(config: Config, db: Database) -> None:
    """ensure_issue on a frozen issue restores its web copy if it went missing."""
    first, _second = two_issues(config, db)
    page = archive_folder(config) / "2026-W48.html"
    before = page.read_bytes()
    page.unlink()
    assert ensure_issue(config, db, MONDAY + timedelta(days=1), first.period) == first
    assert page.read_bytes() == before


def with_delivery(tmp_path: Path, **delivery: str) -> Config:
    """The test config plus a ``delivery:`` section."""
    base = make_config(tmp_path)
    section = {"from_address": "news@example.org", **delivery}
    return Config.model_validate({**base.model_dump(exclude={"source_file"}), "delivery": section})


def test_archive_unsubscribe_uses_the_unsubscribe_page(tmp_path: Path) -> None:
    """With delivery.unsubscribe_url set, the web copy links that page."""
    config = with_delivery(tmp_path, unsubscribe_url="https://u.example.org/x")
    db = Database(config.store.path)
    store_articles(db, [make_article(1)], MONDAY - timedelta(days=1))
    ensure_issue(config, db, MONDAY)
    page = (archive_folder(config) / "2026-W48.html").read_text(encoding="utf-8")
    assert 'href="https://u.example.org/x"' in page


def test_archive_unsubscribe_defaults_to_the_served_endpoint(tmp_path: Path) -> None:
    """Without delivery.unsubscribe_url, the web copy links <output.base_url>unsubscribe."""
    config = with_delivery(tmp_path)
    assert unsubscribe_page(config) == config.output_base_url + "unsubscribe"
