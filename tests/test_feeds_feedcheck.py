"""The local validator stand-ins catch what the W3C Feed Validation Service would report.

Each case takes a clean feed, breaks one thing the way a generator could, and expects the
matching problem; without these, a silent checker would make every other feed test pass.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from swfeed.feeds import atom, jsonfeed, rss
from tests.feedcheck import check_atom, check_json_feed, check_rss, sample_article, sample_meta

NOW = datetime(2026, 2, 1, tzinfo=UTC)
ARTICLES = [sample_article(1), sample_article(2, id="plain-id", title="Q&A", authors=())]
Check = Callable[[bytes, str | None, datetime | None], list[str]]

RSS = rss.render(sample_meta("rss.xml"), ARTICLES)
ATOM = atom.render(sample_meta("atom.xml"), ARTICLES)
JSON = jsonfeed.render(sample_meta("feed.json"), ARTICLES)

CASES: list[tuple[str, bytes, Check, str, bytes, bytes, str]] = [
    (
        "rss-no-guid",
        RSS,
        check_rss,
        "rss.xml",
        b'<guid isPermaLink="false">tag:news.example.org,2026-01-02:plain-id</guid>',
        b"<comments>https://news.example.org/c</comments>",
        "missing <guid>",
    ),
    ("rss-weekday", RSS, check_rss, "rss.xml", b"Fri, 02 Jan", b"Sat, 02 Jan", "wrong weekday"),
    ("rss-zone", RSS, check_rss, "rss.xml", b"09:00:00 +0000", b"09:00:00 CET", "RFC 822"),
    (
        "rss-future",
        RSS,
        check_rss,
        "rss.xml",
        b"Fri, 02 Jan 2026",
        b"Tue, 02 Jan 2029",
        "implausible",
    ),
    (
        "rss-self",
        RSS,
        check_rss,
        "rss.xml",
        b'href="https://news.example.org/feeds/rss.xml"',
        b'href="https://news.example.org/rss"',
        "does not match",
    ),
    (
        "rss-author",
        RSS,
        check_rss,
        "rss.xml",
        b"<dc:creator>Amina Diallo</dc:creator>",
        b"<author>Amina Diallo</author>",
        "email (Name)",
    ),
    (
        "rss-order",
        RSS,
        check_rss,
        "rss.xml",
        "<description>Summary 2: Rwanda’s women peacekeepers.</description>".encode(),
        b"",
        "before",
    ),
    (
        "rss-relative",
        RSS,
        check_rss,
        "rss.xml",
        b"https://news.example.org/about",
        b"/about",
        "relative",
    ),
    ("rss-script", RSS, check_rss, "rss.xml", b"&#x3C;p&gt;Body 2", b"&#x3C;script&gt;", "unsafe"),
    ("rss-chardata", RSS, check_rss, "rss.xml", b"Q&#x26;A", b"Q&amp;lt;b&amp;gt;A", "&#x26;"),
    ("rss-length", RSS, check_rss, "rss.xml", b'length="12345"', b'length="-1"', "length"),
    ("rss-iri", RSS, check_rss, "rss.xml", b"story-1</link>", "stöｒy</link>".encode(), "full URI"),
    (
        "rss-image",
        RSS,
        check_rss,
        "rss.xml",
        b"<title>Test Site</title>\n      <link",
        b"<title>X</title><link",
        "image",
    ),
    ("rss-lang", RSS, check_rss, "rss.xml", b"<language>en</language>", b"", "language"),
    (
        "atom-schema",
        ATOM,
        check_atom,
        "atom.xml",
        b"<updated>2026-01-02",
        b"<updated>2 Jan 2026",
        "RELAX NG",
    ),
    (
        "atom-unknown",
        ATOM,
        check_atom,
        "atom.xml",
        b"<subtitle>News for tests.</subtitle>",
        b"<subtitel>x</subtitel>",
        "RELAX NG",
    ),
    ("atom-self", ATOM, check_atom, "atom.xml", b'rel="self"', b'rel="me"', "missing self"),
    (
        "atom-canonical",
        ATOM,
        check_atom,
        "atom.xml",
        b"<id>https://news.example.org/news/story-1</id>",
        b"<id>HTTPS://news.example.org:443/news/story-1</id>",
        "scheme not lower case",
    ),
    (
        "atom-author",
        ATOM,
        check_atom,
        "atom.xml",
        b"<author>\n    <name>Test Desk</name>\n    <email>desk@example.org</email>\n"
        b"    <uri>https://news.example.org/</uri>\n  </author>",
        b"",
        "no author",
    ),
    (
        "atom-rel",
        ATOM,
        check_atom,
        "atom.xml",
        b'rel="enclosure"',
        b'rel="sideways"',
        "unregistered",
    ),
    ("atom-html", ATOM, check_atom, "atom.xml", b"Summary 2: ", b"a &lt;/b&gt; b", "contains HTML"),
    ("json-version", JSON, check_json_feed, "feed.json", b"version/1.1", b"version/2", "schema"),
    (
        "json-content",
        JSON,
        check_json_feed,
        "feed.json",
        b'"content_html"',
        b'"_content"',
        "schema",
    ),
    (
        "json-date",
        JSON,
        check_json_feed,
        "feed.json",
        b'"2026-01-02T09:00:00Z"',
        b'"2026-01-02"',
        "date-time",
    ),
    (
        "json-self",
        JSON,
        check_json_feed,
        "feed.json",
        b"feeds/feed.json",
        b"feed.json",
        "does not match",
    ),
    ("json-extra", JSON, check_json_feed, "feed.json", b'"summary"', b'"summery"', "schema"),
]


@pytest.mark.parametrize(
    ("data", "check", "name", "old", "new", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_defect_is_reported(
    data: bytes, check: Check, name: str, old: bytes, new: bytes, expected: str
) -> None:
    """Breaking one thing in a clean feed makes its checker report exactly that kind of problem."""
    location = f"https://news.example.org/feeds/{name}"
    assert check(data, location, NOW) == []
    assert old in data
    problems = check(data.replace(old, new, 1), location, NOW)
    assert any(expected in problem for problem in problems), problems


def test_duplicate_entries_are_reported() -> None:
    """Two items with the same guid / id are reported in every format."""
    twice = [sample_article(1), sample_article(1)]
    assert any("duplicate guid" in p for p in check_rss(rss.render(sample_meta(), twice)))
    assert any("duplicate id" in p for p in check_atom(atom.render(sample_meta(), twice)))
    assert any("duplicate id" in p for p in check_json_feed(jsonfeed.render(sample_meta(), twice)))


def test_malformed_xml_is_reported() -> None:
    """A document that is not well-formed is reported, not raised."""
    assert check_rss(b"<rss><channel>")[0].startswith("not well-formed")
    assert check_atom(b"<feed")[0].startswith("not well-formed")
    assert check_json_feed(b"{")[0].startswith("not UTF-8 JSON")


def test_two_entries_updated_at_the_same_second_are_reported() -> None:
    """Atom entries sharing an updated value are reported (the validator's DuplicateUpdated)."""
    same = datetime(2026, 1, 8, 12, tzinfo=UTC)
    twins = [sample_article(1, published=same), sample_article(2, published=same)]
    problems = check_atom(atom.render(sample_meta("atom.xml"), twins))
    assert any("same updated value" in problem for problem in problems), problems
