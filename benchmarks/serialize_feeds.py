"""RSS 2.0 + Atom 1.0 of 5,000 entries: swfeed's serializers, bare lxml, and feedgen.

The same articles (title, link, id, dates, summary, HTML body, author, two categories, an
image with type and size) become one RSS and one Atom document, three ways, taking turns:

- bare lxml (the baseline): the same elements and attributes written into two lxml trees
  with the values as they are, no rule applied (no cleaning, no URI canonicalization, no
  lead figure, no excerpts), pretty-printed;
- swfeed: ``prepare_all`` (every rule, once per article) then ``rss.render_entries`` and
  ``atom.render_entries``, as ``swfeed build`` does;
- feedgen 1.0.0 (a benchmark-only dependency): one ``FeedGenerator`` with the same entries
  as far as it can write them (its dc and media extensions for ``dc:creator`` and
  ``media:content``; it has no ``media:description``/``media:credit``), ``rss_str`` and
  ``atom_str``.

CPU and wall time, medians and min–max, ratios against bare lxml. Target: swfeed at most
1.3x the baseline, and faster than feedgen.

    .venv/bin/python benchmarks/serialize_feeds.py [--entries 5000] [--runs 9]
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Sequence
from dataclasses import replace
from email.utils import format_datetime
from pathlib import Path

from build_feeds import NOW, make_article
from lxml import etree
from timing import alternate, in_process, ratio, report

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.feedcheck import sample_meta

from swfeed.feeds import FeedMeta, atom, rss
from swfeed.feeds.entry import prepare_all
from swfeed.models import Article, Image

ATOM_NS = "http://www.w3.org/2005/Atom"
MEDIA_NS = "http://search.yahoo.com/mrss/"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"


def make_articles(count: int) -> list[Article]:
    rng = random.Random(42)
    return [make_article(n, rng) for n in range(count)]


def meta() -> FeedMeta:
    return sample_meta("rss.xml")


def swfeed_both(feed: FeedMeta, articles: Sequence[Article]) -> int:
    entries = prepare_all(feed, articles)
    data = rss.render_entries(feed, entries)
    data += atom.render_entries(replace(feed, self_url=feed.feed_id), entries)
    return len(data)


def _sub(
    parent: etree._Element, tag: str, text: str | None = None, **attributes: str
) -> etree._Element:
    child = etree.SubElement(parent, tag, attributes)
    child.text = text
    return child


def _media(parent: etree._Element, image: Image) -> None:
    media = _sub(parent, f"{{{MEDIA_NS}}}content", url=image.url, medium="image")
    media.set("type", image.mime_type or "")
    media.set("fileSize", str(image.length))
    _sub(media, f"{{{MEDIA_NS}}}description", image.alt, type="plain")
    _sub(media, f"{{{MEDIA_NS}}}credit", image.credit)


def bare_rss(feed: FeedMeta, articles: Sequence[Article]) -> bytes:
    """The fields swfeed's RSS has, as they are: no cleaning, no rules."""
    nsmap = {"atom": ATOM_NS, "content": CONTENT_NS, "dc": DC_NS, "media": MEDIA_NS}
    root = etree.Element("rss", nsmap=nsmap, version="2.0")
    channel = _sub(root, "channel")
    for tag, text in (("title", feed.title), ("link", feed.link), ("description", feed.title)):
        _sub(channel, tag, text)
    _sub(channel, f"{{{ATOM_NS}}}link", href=feed.self_url, rel="self")
    for a in articles:
        item = _sub(channel, "item")
        _sub(item, "title", a.title)
        _sub(item, "link", a.url)
        _sub(item, "description", a.summary)
        _sub(item, f"{{{CONTENT_NS}}}encoded", a.body_html)
        _sub(item, f"{{{DC_NS}}}creator", a.authors[0])
        for category in a.categories:
            _sub(item, "category", category)
        _sub(item, "guid", a.id)
        _sub(item, "pubDate", format_datetime(a.published))
        _sub(item, f"{{{ATOM_NS}}}updated", a.modified.isoformat())
        if a.image is not None:
            length, kind = str(a.image.length), a.image.mime_type or ""
            _sub(item, "enclosure", url=a.image.url, length=length, type=kind)
            _media(item, a.image)
    return bytes(etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True))


def bare_atom(feed: FeedMeta, articles: Sequence[Article]) -> bytes:
    """The fields swfeed's Atom has, as they are: no cleaning, no rules."""
    nsmap = {None: ATOM_NS, "media": MEDIA_NS}
    root = etree.Element(f"{{{ATOM_NS}}}feed", nsmap=nsmap)  # type: ignore[arg-type]
    for tag, text in (("id", feed.feed_id), ("title", feed.title), ("updated", NOW.isoformat())):
        _sub(root, f"{{{ATOM_NS}}}{tag}", text)
    for a in articles:
        entry = _sub(root, f"{{{ATOM_NS}}}entry")
        _sub(entry, f"{{{ATOM_NS}}}id", a.id)
        _sub(entry, f"{{{ATOM_NS}}}title", a.title)
        _sub(entry, f"{{{ATOM_NS}}}link", rel="alternate", type="text/html", href=a.url)
        _sub(entry, f"{{{ATOM_NS}}}published", a.published.isoformat())
        _sub(entry, f"{{{ATOM_NS}}}updated", a.modified.isoformat())
        _sub(_sub(entry, f"{{{ATOM_NS}}}author"), f"{{{ATOM_NS}}}name", a.authors[0])
        for category in a.categories:
            _sub(entry, f"{{{ATOM_NS}}}category", term=category)
        _sub(entry, f"{{{ATOM_NS}}}summary", a.summary, type="text")
        _sub(entry, f"{{{ATOM_NS}}}content", a.body_html, type="html")
        if a.image is not None:
            kind, length = a.image.mime_type or "", str(a.image.length)
            link = _sub(entry, f"{{{ATOM_NS}}}link", rel="enclosure", type=kind)
            link.set("href", a.image.url)
            link.set("length", length)
            link.set("title", a.image.alt)
            _media(entry, a.image)
    return bytes(etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True))


def bare_both(feed: FeedMeta, articles: Sequence[Article]) -> int:
    return len(bare_rss(feed, articles)) + len(bare_atom(feed, articles))


def feedgen_both(feed: FeedMeta, articles: Sequence[Article]) -> int:
    from feedgen.feed import FeedGenerator

    generator = FeedGenerator()
    generator.load_extension("dc")
    generator.load_extension("media")
    generator.id(feed.feed_id)
    generator.title(feed.title)
    generator.link(href=feed.link, rel="alternate")
    generator.description(feed.description)
    generator.updated(NOW)
    for a in reversed(articles):  # feedgen puts each new entry first
        entry = generator.add_entry()
        entry.id(a.id)
        entry.guid(a.id, permalink=True)
        entry.title(a.title)
        entry.link(href=a.url, rel="alternate")
        entry.published(a.published)
        entry.updated(a.published)
        entry.author(name=a.authors[0])
        entry.dc.dc_creator(a.authors[0])
        for category in a.categories:
            entry.category(term=category)
        entry.summary(a.summary)
        entry.description(a.summary)
        entry.content(a.body_html, type="html")
        if a.image is not None:
            entry.enclosure(a.image.url, str(a.image.length), a.image.mime_type)
            entry.media.content(
                url=a.image.url,
                type=a.image.mime_type,
                fileSize=str(a.image.length),
                medium="image",
            )
    return len(generator.rss_str(pretty=True)) + len(generator.atom_str(pretty=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    feed, articles = meta(), make_articles(args.entries)
    sizes = {
        "bare lxml": bare_both(feed, articles),
        "swfeed": swfeed_both(feed, articles),
        "feedgen 1.0.0": feedgen_both(feed, articles),
    }
    samples = alternate(
        {
            "bare lxml": in_process(lambda: bare_both(feed, articles)),
            "swfeed": in_process(lambda: swfeed_both(feed, articles)),
            "feedgen 1.0.0": in_process(lambda: feedgen_both(feed, articles)),
        },
        args.runs,
    )
    report(f"RSS + Atom of {args.entries:,} entries, in process", samples, "bare lxml")
    for name, size in sizes.items():
        print(f"  {name}: {size / 1e6:.1f} MB written")
    share = ratio(samples["swfeed"], samples["bare lxml"])
    versus = ratio(samples["swfeed"], samples["feedgen 1.0.0"])
    print(f"  swfeed / bare lxml (CPU): {share:.2f}x   target: at most 1.3x")
    print(f"  swfeed / feedgen (CPU): {versus:.2f}x   target: below 1")


if __name__ == "__main__":
    main()
