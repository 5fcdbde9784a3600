"""Where things live: articles on the site's host, swfeed's own files on a host of their own."""

from __future__ import annotations

import email
import json
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path
from urllib.parse import urlsplit

import lxml.etree
import lxml.html
import pytest

from swfeed import pipeline
from swfeed.cli import main
from swfeed.config import load_config
from swfeed.configcheck import host_warnings
from swfeed.digest.freeze import ensure_issue
from swfeed.digest.preview import delivered_message
from swfeed.store import Database
from tests.samplesite import NEWS_HOST, SITE_HOST, copy_sample

NOW = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
ATOM = "{http://www.w3.org/2005/Atom}"


def host(url: str) -> str:
    return urlsplit(url).hostname or ""


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """The sample site published, with this week's issue frozen; the output folder."""
    config = load_config(copy_sample(tmp_path))
    with Database(config.store.path) as db:
        pipeline.publish(config, db, NOW)
        issue = ensure_issue(config, db, NOW)
    assert issue is not None
    raw = delivered_message(config, issue, NOW).eml
    (tmp_path / "sample.eml").write_bytes(raw)
    return config.output.path


def html_part(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode("utf-8")
    raise AssertionError("no HTML part")


def test_digest_images_and_links_point_at_the_news_host(sample: Path) -> None:
    """Every image, the view-in-browser and unsubscribe links of the mailed digest are on
    swfeed's host; the stories link to the site."""
    message = email.message_from_bytes((sample.parent / "sample.eml").read_bytes())
    page: lxml.html.HtmlElement = lxml.html.document_fromstring(html_part(message))
    images = [img.get("src") or "" for img in page.iter("img")]
    assert images
    assert {host(src) for src in images} == {NEWS_HOST}
    links = {(a.text_content().strip(), a.get("href") or "") for a in page.iter("a")}
    by_text = dict(links)
    assert host(by_text["View in browser"]) == NEWS_HOST
    assert host(by_text["Unsubscribe"]) == NEWS_HOST
    assert urlsplit(by_text["Unsubscribe"]).path == "/unsubscribe"
    header = str(message["List-Unsubscribe"])
    assert f"<https://{NEWS_HOST}/unsubscribe?" in header
    stories = [href for _text, href in links if "/post/" in href or "/news/" in href]
    assert stories
    assert {host(href) for href in stories} == {SITE_HOST}


def test_feed_self_links_point_at_the_news_host(sample: Path) -> None:
    """RSS, Atom and JSON Feed name their own URL on swfeed's host; their site link is the site."""
    rss = lxml.etree.parse(sample / "feeds" / "rss.xml").getroot()
    atom_self = rss.find(f"channel/{ATOM}link[@rel='self']")
    assert atom_self is not None
    assert atom_self.get("href") == f"https://{NEWS_HOST}/feeds/rss.xml"
    assert host(rss.findtext("channel/link") or "") == SITE_HOST
    atom = lxml.etree.parse(sample / "feeds" / "atom.xml").getroot()
    self_link = atom.find(f"{ATOM}link[@rel='self']")
    assert self_link is not None
    assert self_link.get("href") == f"https://{NEWS_HOST}/feeds/atom.xml"
    feed = json.loads((sample / "feeds" / "feed.json").read_text(encoding="utf-8"))
    assert feed["feed_url"] == f"https://{NEWS_HOST}/feeds/feed.json"
    assert host(feed["home_page_url"]) == SITE_HOST
    digest_feed = lxml.etree.parse(sample / "digest" / "feed.xml").getroot()
    digest_self = digest_feed.find(f"{ATOM}link[@rel='self']")
    assert digest_self is not None
    assert host(digest_self.get("href") or "") == NEWS_HOST


def test_check_warns_when_swfeeds_files_would_live_on_the_wix_host(tmp_path: Path) -> None:
    """With platform wix and no host of its own, check names output.base_url and the fix."""
    path = copy_sample(tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  base_url: https://news.securitywomen.org/\n", ""))
    (warning,) = host_warnings(load_config(path))
    assert warning.key == "output.base_url"
    assert "defaults to the site URL" in warning.message
    assert "https://news.securitywomen.org/" in warning.hint


def test_check_of_the_sample_config_prints_no_host_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The sample config keeps swfeed's files on news.securitywomen.org: no warning."""
    path = copy_sample(tmp_path)
    assert main(["--config", str(path), "check"]) == 0
    assert "warning:" not in capsys.readouterr().out


def test_check_prints_the_host_warning_and_still_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A wrong host is a warning in `swfeed check`, not an error."""
    path = copy_sample(tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("base_url: https://news.", "base_url: https://www."))
    assert main(["--config", str(path), "check"]) == 0
    out = capsys.readouterr().out
    assert "warning: output.base_url: is on www.securitywomen.org, which Wix serves" in out
