"""The files about the feeds: the feeds page, the OPML list and the feeds' stylesheet."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import feedparser
import lxml.html
import pytest
from lxml import etree

from swfeed.feeds import atom, jsonfeed, rss
from swfeed.feeds.build import WriteReport, write_feeds
from swfeed.feeds.directory import css_string, render_directory, write_directory
from tests.feedcheck import SITE, check_atom, check_rss, sample_article, sample_config, sample_meta

NOW = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
CATEGORIES = [("peacekeeping", "Peacekeeping"), ("women-in-security", "Women in Security")]
INDEX = PurePosixPath("feeds/index.html")
OPML = PurePosixPath("feeds/feeds.opml")
STYLESHEET = PurePosixPath("feeds/feed.css")


def page(tmp_path: Path, **feeds: object) -> lxml.html.HtmlElement:
    files = render_directory(sample_config(tmp_path, **feeds), CATEGORIES)
    return lxml.html.document_fromstring(files[INDEX])


def test_feeds_page_lists_every_feed_with_its_address(tmp_path: Path) -> None:
    """The site's three feeds and each category's, each linked by its own address."""
    root = page(tmp_path)
    links = [a.get("href") for a in root.xpath("//dd/a")]
    expected = [
        f"{SITE}feeds/{folder}{name}"
        for folder in ("", "category/peacekeeping/", "category/women-in-security/")
        for name in ("rss.xml", "atom.xml", "feed.json")
    ]
    assert links == expected
    assert [a.text_content() for a in root.xpath("//dd/a")] == expected


def test_feeds_page_says_what_each_feed_holds(tmp_path: Path) -> None:
    """Each set says what it carries, and the page how to subscribe."""
    root = page(tmp_path, max_items=20)
    holds = [p.text_content() for p in root.xpath("//p[@class='holds']")]
    assert holds == [
        "The newest 20 stories of the whole site.",
        "The newest 20 stories in the category Peacekeeping.",
        "The newest 20 stories in the category Women in Security.",
    ]
    assert root.xpath("//h2[@id='how']")[0].text_content() == "How to subscribe"
    assert root.xpath("//a[@href=$u]", u=f"{SITE}feeds/feeds.opml")


def test_feeds_page_is_found_by_readers(tmp_path: Path) -> None:
    """Its head carries the site's autodiscovery links, as the site's pages should."""
    root = page(tmp_path)
    found = [(e.get("type"), e.get("href")) for e in root.xpath("//link[@rel='alternate']")]
    assert found == [
        ("application/rss+xml", f"{SITE}feeds/rss.xml"),
        ("application/atom+xml", f"{SITE}feeds/atom.xml"),
        ("application/feed+json", f"{SITE}feeds/feed.json"),
    ]


def test_feeds_page_without_category_feeds_lists_the_site_only(tmp_path: Path) -> None:
    """With feeds.per_category false only the site's feeds are listed (and exist)."""
    root = page(tmp_path, per_category=False)
    assert len(root.xpath("//dd/a")) == 3
    assert not root.xpath("//h2[@class='group']")


def test_feeds_page_is_branded_like_the_archive(tmp_path: Path) -> None:
    """It is a page of the house: the site's logo, the brand's accent colour."""
    files = render_directory(sample_config(tmp_path), CATEGORIES)
    html = files[INDEX].decode()
    assert f'<img class="plate" src="{SITE}media/logo.png"' in html
    assert "--accent: #7a1f4f;" in html


def opml(tmp_path: Path) -> etree._Element:
    files = render_directory(sample_config(tmp_path), CATEGORIES)
    return etree.fromstring(files[OPML])


def test_opml_has_one_outline_per_feed_in_atom(tmp_path: Path) -> None:
    """OPML 2.0, one subscription per feed set (the site, each category), in Atom."""
    root = opml(tmp_path)
    assert root.get("version") == "2.0"
    outlines = root.findall("body/outline")
    assert [o.get("xmlUrl") for o in outlines] == [
        f"{SITE}feeds/atom.xml",
        f"{SITE}feeds/category/peacekeeping/atom.xml",
        f"{SITE}feeds/category/women-in-security/atom.xml",
    ]
    assert [o.get("text") for o in outlines] == [
        "Test Site",
        "Test Site: Peacekeeping",
        "Test Site: Women in Security",
    ]


def test_opml_outlines_carry_what_readers_import(tmp_path: Path) -> None:
    """Each outline is type rss (the spec's word for any feed), with title and home page."""
    for outline in opml(tmp_path).findall("body/outline"):
        assert outline.get("type") == "rss"
        assert outline.get("title") == outline.get("text")
        assert outline.get("htmlUrl") == SITE
        assert outline.get("language") == "en"
    head = opml(tmp_path).find("head")
    assert head is not None
    assert [(e.tag, e.text) for e in head] == [
        ("title", "Test Site feeds"),
        ("ownerName", "Test Desk"),
        ("ownerEmail", "desk@example.org"),
    ]


def test_stylesheet_takes_the_brand_and_points_at_the_feeds_page(tmp_path: Path) -> None:
    """feed.css has the brand's colours, light and dark, and names the feeds page."""
    css = render_directory(sample_config(tmp_path), CATEGORIES)[STYLESHEET].decode()
    assert "--accent: #7a1f4f;" in css
    assert "--accent: #f2a3c9;" in css
    assert f'"{SITE}feeds/";' in css
    assert "@namespace atom url(http://www.w3.org/2005/Atom);" in css


@pytest.mark.parametrize(
    ("text", "css"),
    [
        ("https://x.org/feeds/", '"https://x.org/feeds/"'),
        ('say "hi"', '"say \\22 hi\\22 "'),
        ("a\\b", '"a\\5c b"'),
        ("line\nbreak", '"line\\a break"'),
        ("</style>", '"\\3c /style\\3e "'),
    ],
)
def test_css_string_escapes_what_css_gives_a_meaning(text: str, css: str) -> None:
    """Quotes, backslashes, line breaks and angle brackets cannot end the string."""
    assert str(css_string(text)) == css


def test_feeds_name_the_stylesheet_for_browsers(tmp_path: Path) -> None:
    """RSS and Atom carry <?xml-stylesheet?> right after the declaration; JSON cannot."""
    config = sample_config(tmp_path)
    write_feeds(config, [sample_article(1)], [], now=NOW)
    instruction = f'<?xml-stylesheet type="text/css" href="{SITE}feeds/feed.css"?>'
    for name in ("rss.xml", "atom.xml"):
        lines = (tmp_path / "public" / "feeds" / name).read_text().splitlines()
        assert lines[1] == instruction
    assert b"stylesheet" not in (tmp_path / "public" / "feeds" / "feed.json").read_bytes()


def test_feeds_with_a_stylesheet_stay_valid_and_readable(tmp_path: Path) -> None:
    """The processing instruction changes nothing for validators or feed readers."""
    meta = sample_meta("rss.xml", stylesheet=f"{SITE}feeds/feed.css")
    articles = [sample_article(1), sample_article(2)]
    data = rss.render(meta, articles)
    assert check_rss(data, f"{SITE}feeds/rss.xml") == []
    atom_meta = sample_meta("atom.xml", stylesheet=f"{SITE}feeds/feed.css")
    assert check_atom(atom.render(atom_meta, articles), f"{SITE}feeds/atom.xml") == []
    parsed = feedparser.parse(data)
    assert not parsed.bozo
    assert [e.title for e in parsed.entries] == [a.title for a in reversed(articles)]
    assert jsonfeed.render(meta, articles) == jsonfeed.render(sample_meta("rss.xml"), articles)


def test_stylesheet_url_is_escaped_in_the_instruction(tmp_path: Path) -> None:
    """A URL with & is written as a reference inside the pseudo-attribute, never raw."""
    meta = sample_meta("atom.xml", stylesheet=f"{SITE}feed.css?a=1&b=2")
    data = atom.render(meta, [])
    assert b'href="https://news.example.org/feed.css?a=1&amp;b=2"?>' in data
    assert b"1&b" not in rss.render(meta, [])


def test_directory_is_rewritten_only_when_it_changes(tmp_path: Path) -> None:
    """The same categories give the same bytes: a second build writes none of the files;
    a new category rewrites the page and the list, not the stylesheet."""
    config = sample_config(tmp_path)
    first, second, third = WriteReport(), WriteReport(), WriteReport()
    write_directory(config, CATEGORIES, first)
    write_directory(config, CATEGORIES, second)
    write_directory(config, [*CATEGORIES, ("policing", "Policing")], third)
    assert written(first) == ["feed.css", "feeds.opml", "index.html"]
    assert written(second) == []
    assert written(third) == ["feeds.opml", "index.html"]


def written(report: WriteReport) -> list[str]:
    return sorted(path.name for path in report.written)
