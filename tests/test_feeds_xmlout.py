"""The XML writer: every document is byte for byte what lxml's pretty printer would write."""

from __future__ import annotations

import re
from dataclasses import replace
from types import ModuleType

import pytest
from lxml import etree

from swfeed.feeds import atom, opml, rss
from swfeed.feeds.xmlout import XmlWriter
from swfeed.models import Image
from tests.feedcheck import HOSTILE_TEXT, SITE, sample_article, sample_meta

AWKWARD = "a&b <c> \"d\" 'e' ]]> f\r\ng\th é ’ \x85 \u2028 &amp; &#13;"
"""Every character libxml2 escapes somewhere, and some it must leave alone."""
_HEX = {b"&amp;": b"&#x26;", b"&lt;": b"&#x3C;"}


def reprinted(document: bytes, *, hex_refs: bool = False) -> bytes:
    """``document`` parsed (indentation dropped) and pretty-printed again by lxml."""
    parser = etree.XMLParser(remove_blank_text=True)
    root = etree.fromstring(document, parser)
    body = etree.tostring(root, encoding="UTF-8", xml_declaration=False, pretty_print=True)
    if hex_refs:  # RSS: the profile's hexadecimal references for & and <
        body = re.sub(rb"&amp;|&lt;", lambda match: _HEX[match.group()], body)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


def lxml_tree() -> bytes:
    """The document the writer test writes, built as an lxml tree instead."""
    root = etree.Element("root", nsmap={"m": "urn:x-m"})
    root.set("lang", AWKWARD)
    etree.SubElement(root, "empty")
    etree.SubElement(root, "blank").text = ""
    etree.SubElement(root, "text").text = AWKWARD
    parent = etree.SubElement(root, "parent", a="1", b=AWKWARD)
    etree.SubElement(parent, "{urn:x-m}child", c="2").text = "x"
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(
        root, encoding="UTF-8", pretty_print=True
    )


def test_writer_writes_what_lxml_writes() -> None:
    """Escapes, empty and blank elements, nesting and attribute order match lxml's output."""
    out = XmlWriter()
    out.start("root", **{"xmlns:m": "urn:x-m"}, lang=AWKWARD)
    out.leaf("empty")
    out.leaf("blank", "")
    out.leaf("text", AWKWARD)
    out.start("parent", a="1", b=AWKWARD)
    out.leaf("m:child", "x", c="2")
    out.end("parent")
    out.end("root")
    assert out.document() == lxml_tree()


def test_rss_writer_uses_hexadecimal_references() -> None:
    """In RSS, & and < are written as &#x26; and &#x3C;, in text and attributes alike."""
    out = XmlWriter(hex_refs=True)
    out.leaf("title", "Q&A <b>", href="a&b<c")
    assert out.document().endswith(b'<title href="a&#x26;b&#x3C;c">Q&#x26;A &#x3C;b&gt;</title>\n')


HOSTILE = [
    sample_article(1, title=AWKWARD, summary=AWKWARD, authors=(AWKWARD, "Ann")),
    sample_article(
        2,
        title=HOSTILE_TEXT,
        categories=(HOSTILE_TEXT, AWKWARD),
        body_html=f"<p>{HOSTILE_TEXT}</p>\r\n<p>two</p>",
        external_url=f'{SITE}elsewhere?a=1&b="2"',
        external_source=AWKWARD,
        image=Image(f"{SITE}media/a&b.png", alt=AWKWARD, credit=AWKWARD, length=7),
    ),
    sample_article(3, image=None, summary="", authors=()),
    sample_article(4, id="urn:x-id:4&5", image=Image(f"{SITE}m.gif", width=4, height=3)),
    sample_article(5, language="fr-CA"),
]


@pytest.mark.parametrize("module", [rss, atom], ids=["rss", "atom"])
def test_feeds_are_what_lxml_would_print(module: ModuleType) -> None:
    """RSS and Atom of hostile articles equal lxml's pretty printing of the same tree."""
    meta = sample_meta(
        "feed.xml",
        title=AWKWARD,
        description=AWKWARD,
        category=AWKWARD,
        hubs=("https://hub.example.org/?a=1&b=2", "https://other.example/"),
    )
    render = module.render
    data = render(meta, HOSTILE)
    assert data == reprinted(data, hex_refs=module is rss)
    empty = render(replace(meta, logo=None, icon=None, author_email=None), [])
    assert empty == reprinted(empty, hex_refs=module is rss)


def test_opml_is_what_lxml_would_print() -> None:
    """The OPML list of feeds equals lxml's pretty printing of the same tree."""
    outline = opml.Outline(AWKWARD, f"{SITE}feeds/atom.xml?a&b", SITE, AWKWARD, "en")
    data = opml.render(AWKWARD, [outline, outline], owner=AWKWARD, owner_email="a@b.org")
    assert data == reprinted(data)
    assert opml.render("t", [], owner="o") == reprinted(opml.render("t", [], owner="o"))


def test_stylesheet_is_named_after_the_declaration() -> None:
    """A stylesheet URL becomes an escaped processing instruction on the second line."""
    out = XmlWriter(stylesheet='https://x.org/feed.css?a=1&b="2"')
    out.leaf("feed")
    assert out.document().splitlines()[1] == (
        b'<?xml-stylesheet type="text/css" href="https://x.org/feed.css?a=1&amp;b=&quot;2&quot;"?>'
    )
