"""Local stand-ins for the W3C Feed Validation Service, for any test to import.

We cannot reach https://validator.w3.org/feed/ from here, so these functions reproduce the
checks it makes that a feed generator can get wrong (errors *and* warnings), from reading
its rules: ``check_rss``, ``check_atom`` and ``check_json_feed`` each take the document's
bytes, optionally the URL it is served from (the self link must match it) and a ``now``
(dates after it are implausible), and return a list of problems, empty when the feed is
clean. Atom is also validated against the RELAX NG schema of RFC 4287 and JSON Feed against
a JSON Schema of version 1.1 (both in ``tests/data/schemas``).
"""

from __future__ import annotations

import html
import html.entities
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import lxml.html
from lxml import etree

from swfeed.config import Config
from swfeed.feeds import FeedMeta
from swfeed.models import Article, Image

SCHEMAS = Path(__file__).parent / "data" / "schemas"

ATOM = "http://www.w3.org/2005/Atom"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
DC = "http://purl.org/dc/elements/1.1/"
MEDIA = "http://search.yahoo.com/mrss/"
XML = "http://www.w3.org/XML/1998/namespace"
STANDARD_PREFIXES = {"atom": ATOM, "content": CONTENT, "dc": DC, "media": MEDIA}

FULL_URI = re.compile(r"[a-zA-Z][0-9a-zA-Z+\-.]*:(//)?[0-9a-zA-Z;/?:@&=+$.\-_!~*'()%,#]+\Z")
TAG_URI = re.compile(
    r"tag:([a-z0-9\-._]+?@)?[a-z0-9.\-]+?,\d{4}(-\d{2}(-\d{2})?)?:"
    r"[0-9a-zA-Z;/?:@&=+$.\-_!~*'()%,]*(#[0-9a-zA-Z;/?:@&=+$.\-_!~*'()%,]*)?\Z"
)
URN = re.compile(
    r"urn:[a-zA-Z0-9][a-zA-Z0-9-]{1,31}:([a-zA-Z0-9()+,.:=@;$_!*'\-]|%[0-9A-Fa-f]{2})+\Z"
)
MIME = re.compile(
    r"[^\s()<>,;:\\\"/\[\]?=]+/[^\s()<>,;:\\\"/\[\]?=]+(\s*;\s*[^\s()<>,;:\\\"/\[\]?=]+=(\"(\\\"|[^\"])*\"|[^\s()<>,;:\\\"/\[\]?=]+))*\Z"
)
RFC2822 = re.compile(
    r"((Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?\d\d? (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r" \d{4} \d\d:\d\d(:\d\d)? ([+-]?\d\d[03]0|UT|GMT|EST|EDT|CST|CDT|MST|MDT|PST|PDT|Z)\Z"
)
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*)?(Z|[+-]\d\d:\d\d)\Z")
LANGUAGE = re.compile(r"[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8})*\Z")
EMAIL_WITH_NAME = re.compile(
    r"[A-Za-z0-9_\-+.']+@([A-Za-z0-9\-]+\.)+[A-Za-z0-9][-A-Za-z0-9]* \(.+\)\Z"
)
HTML_END_TAG = re.compile(r"</(\w+)>")
ENTITY_LIKE = re.compile(r"&(#?\w+)")
RSS_CHARDATA = re.compile(r"&#[x0-9]|<[/a-zA-Z]")
BAD_CHARACTERS = re.compile("[\x80-\x9f\ufffd]")
HTML_TAGS = frozenset(
    [
        "a",
        "abbr",
        "acronym",
        "address",
        "applet",
        "area",
        "article",
        "aside",
        "audio",
        "b",
        "base",
        "basefont",
        "bdi",
        "bdo",
        "big",
        "blockquote",
        "body",
        "br",
        "button",
        "canvas",
        "caption",
        "center",
        "cite",
        "code",
        "col",
        "colgroup",
        "data",
        "datalist",
        "dd",
        "del",
        "details",
        "dfn",
        "dialog",
        "dir",
        "div",
        "dl",
        "dt",
        "em",
        "embed",
        "fieldset",
        "figcaption",
        "figure",
        "font",
        "footer",
        "form",
        "frame",
        "frameset",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "head",
        "header",
        "hr",
        "html",
        "i",
        "iframe",
        "img",
        "input",
        "ins",
        "kbd",
        "label",
        "legend",
        "li",
        "link",
        "main",
        "map",
        "mark",
        "menu",
        "meta",
        "meter",
        "nav",
        "noframes",
        "noscript",
        "object",
        "ol",
        "optgroup",
        "option",
        "output",
        "p",
        "param",
        "picture",
        "pre",
        "progress",
        "q",
        "rp",
        "rt",
        "ruby",
        "s",
        "samp",
        "script",
        "section",
        "select",
        "small",
        "source",
        "span",
        "strike",
        "strong",
        "style",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "template",
        "textarea",
        "tfoot",
        "th",
        "thead",
        "time",
        "title",
        "tr",
        "track",
        "tt",
        "u",
        "ul",
        "var",
        "video",
        "wbr",
    ]
)
UNSAFE_TAGS = frozenset(
    [
        "applet",
        "base",
        "basefont",
        "embed",
        "frame",
        "frameset",
        "head",
        "html",
        "iframe",
        "link",
        "meta",
        "object",
        "param",
        "script",
        "style",
        "title",
    ]
)
REGISTERED_RELS = frozenset(
    [
        "alternate",
        "current",
        "describedby",
        "edit",
        "edit-media",
        "enclosure",
        "first",
        "hub",
        "last",
        "license",
        "next",
        "next-archive",
        "payment",
        "prev-archive",
        "previous",
        "related",
        "replies",
        "search",
        "self",
        "service",
        "up",
        "via",
    ]
)
MEDIA_MEDIUMS = frozenset({"image", "audio", "video", "document", "executable"})
DEFAULT_PORTS = {"http": "80", "https": "443"}
UNRESERVED_ESCAPE = re.compile(r"%(2[dDeE]|3[0-9]|[46][1-9a-fA-F]|[57][0-9aA]|5[fF]|7[eE])")


# --- values -----------------------------------------------------------------------------


def uri_problems(value: str, where: str) -> list[str]:
    """A full (absolute, ASCII) URI, as the validator's rfc2396_full rule wants."""
    if not FULL_URI.match(value):
        return [f"{where}: not a full URI: {value!r}"]
    scheme = value.split(":", 1)[0].lower()
    if scheme in ("http", "https", "ftp") and not re.match(r"\w+://[^/]", value):
        return [f"{where}: URL without a host: {value!r}"]
    if scheme == "tag" and not TAG_URI.match(value):
        return [f"{where}: invalid tag: URI {value!r}"]
    if scheme == "urn" and not URN.match(value):
        return [f"{where}: invalid urn: URI {value!r}"]
    return []


def canonical_problems(value: str, where: str) -> list[str]:
    """RFC 3986 normal form, as the validator's NonCanonicalURI warning wants for ids."""
    problems: list[str] = []
    scheme, _, rest = value.partition(":")
    if scheme != scheme.lower():
        problems.append(f"{where}: scheme not lower case in {value!r}")
    if re.search(r"%[0-9A-F]?[a-f]", value):
        problems.append(f"{where}: lower-case percent escape in {value!r}")
    if UNRESERVED_ESCAPE.search(value):
        problems.append(f"{where}: escaped unreserved character in {value!r}")
    if rest.startswith("//"):
        parts = urlsplit(value)
        host = parts.netloc.rsplit("@", 1)[-1]
        if host != host.lower():
            problems.append(f"{where}: host not lower case in {value!r}")
        if host.endswith(":" + DEFAULT_PORTS.get(scheme.lower(), "-")):
            problems.append(f"{where}: default port given in {value!r}")
        if not parts.path:
            problems.append(f"{where}: empty path (should be '/') in {value!r}")
    return problems


def http_url_problems(value: str, where: str) -> list[str]:
    """An absolute http(s) URL (enclosures)."""
    if not re.match(r"https?://([A-Za-z0-9\-]+\.)+[A-Za-z0-9][-A-Za-z0-9]*(:\d+)?(/|\Z)", value):
        return [f"{where}: not an http(s) URL: {value!r}"]
    return uri_problems(value, where)


def _plausible(moment: datetime, value: str, where: str, now: datetime | None) -> list[str]:
    if moment < datetime(1990, 1, 1, tzinfo=UTC):
        return [f"{where}: implausible date (before 1990): {value}"]
    if now is not None and moment > now + timedelta(minutes=10):
        return [f"{where}: implausible date (in the future): {value}"]
    return []


def rfc822_problems(value: str, where: str, now: datetime | None = None) -> list[str]:
    """An RSS date: RFC 822/2822 in the strict form, right weekday, plausible."""
    if not RFC2822.match(value):
        return [f"{where}: not an RFC 822 date with a numeric zone: {value!r}"]
    try:
        moment = datetime.strptime(value.replace(" UT", " +0000"), "%a, %d %b %Y %H:%M:%S %z")
    except ValueError:
        return [f"{where}: wrong weekday or impossible date: {value!r}"]
    if value[:3] != moment.strftime("%a"):
        return [f"{where}: wrong weekday: {value!r}"]
    return _plausible(moment, value, where, now)


def rfc3339_problems(value: str, where: str, now: datetime | None = None) -> list[str]:
    """An Atom or JSON Feed date: RFC 3339 with a zone, plausible."""
    if not RFC3339.match(value):
        return [f"{where}: not an RFC 3339 date-time: {value!r}"]
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return [f"{where}: impossible date: {value!r}"]
    return _plausible(moment, value, where, now)


def plain_text_problems(value: str, where: str) -> list[str]:
    """Plain text must not look like HTML (the validator's ContainsHTML warning)."""
    tags = [t for t in HTML_END_TAG.findall(value) if t.lower() in HTML_TAGS]
    if tags:
        return [f"{where}: plain text contains HTML (</{tags[0]}>): {value!r}"]
    if BAD_CHARACTERS.search(value):
        return [f"{where}: C1 control or U+FFFD character in {value!r}"]
    return []


def html_problems(fragment: str, where: str) -> list[str]:
    """Escaped HTML must be safe (no script, handlers...) and use only absolute URLs."""
    if not fragment.strip():
        return []
    if BAD_CHARACTERS.search(fragment):
        return [f"{where}: C1 control or U+FFFD character in the HTML"]
    problems: list[str] = []
    root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag.lower() in UNSAFE_TAGS:
            problems.append(f"{where}: unsafe HTML element <{element.tag}>")
        for name, value in element.attrib.items():
            problems += _html_attribute_problems(name.lower(), value, where)
    return problems


def _html_attribute_problems(name: str, value: str, where: str) -> list[str]:
    if name.startswith("on") or name == "style":
        return [f"{where}: unsafe HTML attribute {name}"]
    if name not in ("href", "src", "cite", "poster", "longdesc"):
        return []
    scheme = value.strip().split(":", 1)[0].lower() if ":" in value else ""
    if scheme in ("javascript", "vbscript", "data", "file"):
        return [f"{where}: unsafe URL in {name}: {value!r}"]
    if not re.match(r"\w+:", value.strip()):
        return [f"{where}: relative URL in {name}: {value!r}"]
    return []


# --- XML documents ------------------------------------------------------------------------


def _parse_xml(data: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    return etree.fromstring(data, parser)


def _text(element: etree._Element | None) -> str:
    return "" if element is None or element.text is None else element.text


def _str(value: str | bytes) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _all_characters(root: etree._Element) -> Iterable[tuple[str, str]]:
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        name = etree.QName(element).localname
        if element.text:
            yield name, element.text
        for attribute, value in element.attrib.items():
            yield f"{name}@{_str(attribute)}", _str(value)


def _bad_character_problems(root: etree._Element) -> list[str]:
    return [
        f"{where}: C1 control or U+FFFD character"
        for where, text in _all_characters(root)
        if BAD_CHARACTERS.search(text)
    ]


def _self_link_problems(href: str | None, location: str | None, where: str) -> list[str]:
    if href is None:
        return [f"{where}: missing self link"]
    if not urlsplit(href).netloc:
        return [f"{where}: relative self link {href!r}"]
    if location is not None and href != location:
        return [f"{where}: self link {href!r} does not match the location {location!r}"]
    return []


# --- RSS 2.0 ------------------------------------------------------------------------------


def check_rss(data: bytes, location: str | None = None, now: datetime | None = None) -> list[str]:
    """Every problem the W3C validator would report for this RSS 2.0 document."""
    try:
        root = _parse_xml(data)
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed XML: {exc}"]
    if root.tag != "rss" or root.get("version") != "2.0":
        return [f"root element is <{root.tag} version={root.get('version')!r}>, not RSS 2.0"]
    channels = root.findall("channel")
    if len(channels) != 1:
        return [f"expected one <channel>, found {len(channels)}"]
    lines = data.decode("utf-8").split("\n")
    channel = channels[0]
    problems = _namespace_problems(root) + _bad_character_problems(root)
    problems += _rss_channel_problems(channel, location, now, lines)
    guids: set[str] = set()
    for number, item in enumerate(channel.findall("item"), 1):
        problems += _rss_item_problems(item, f"item {number}", now, lines)
        guid = _text(item.find("guid"))
        if guid in guids:
            problems.append(f"item {number}: duplicate guid {guid!r}")
        guids.add(guid)
    return problems


def _namespace_problems(root: etree._Element) -> list[str]:
    problems = []
    for element in root.iter():
        for prefix, uri in (element.nsmap or {}).items():
            expected = STANDARD_PREFIXES.get(prefix or "")
            if expected is not None and uri != expected:
                problems.append(f"namespace prefix {prefix!r} bound to {uri!r}, not {expected!r}")
    return sorted(set(problems))


def _character_data_problems(element: etree._Element, where: str, lines: list[str]) -> list[str]:
    """RSS Profile: '&' and '<' in plain text should be hexadecimal character references."""
    value = _text(element)
    entity_like = [
        v
        for v in ENTITY_LIKE.findall(value)
        if v in html.entities.name2codepoint or v == "apos" or not v.isalpha()
    ]
    if not entity_like and not RSS_CHARDATA.search(value):
        return []
    line = element.sourceline
    first = (line if isinstance(line, int) else 1) - 1
    span = lines[first : first + value.count("\n") + 1]
    if any("&#x" in line for line in span):
        return []
    return [f"{where}: encode '&' and '<' in plain text as &#x26; and &#x3C;: {value!r}"]


def _plain_element_problems(element: etree._Element, where: str, lines: list[str]) -> list[str]:
    value = _text(element)
    if not value.strip():
        return [f"{where}: blank"]
    return plain_text_problems(value, where) + _character_data_problems(element, where, lines)


def _rss_channel_problems(
    channel: etree._Element, location: str | None, now: datetime | None, lines: list[str]
) -> list[str]:
    problems: list[str] = []
    for name in ("title", "link", "description"):
        if channel.find(name) is None:
            problems.append(f"channel: missing <{name}>")
    for name in ("title", "description", "category"):
        for element in channel.findall(name):
            problems += _plain_element_problems(element, f"channel/{name}", lines)
    problems += uri_problems(_text(channel.find("link")), "channel/link")
    if not LANGUAGE.match(_text(channel.find("language"))):
        problems.append("channel: missing or invalid <language>")
    for name in ("managingEditor", "webMaster"):
        if channel.find(name) is not None and not EMAIL_WITH_NAME.match(_text(channel.find(name))):
            problems.append(f"channel/{name}: not 'email (Name)'")
    for name in ("pubDate", "lastBuildDate"):
        if channel.find(name) is not None:
            problems += rfc822_problems(_text(channel.find(name)), f"channel/{name}", now)
    problems += _rss_self_problems(channel, location)
    problems += _rss_image_problems(channel)
    return problems + _misplaced_item_problems(channel)


def _rss_self_problems(channel: etree._Element, location: str | None) -> list[str]:
    links = [link for link in channel.findall(f"{{{ATOM}}}link") if link.get("rel") == "self"]
    href = links[0].get("href") if links else None
    problems = _self_link_problems(href, location, "channel/atom:link[@rel=self]")
    if links and links[0].get("type") != "application/rss+xml":
        problems.append("channel/atom:link[@rel=self]: type is not application/rss+xml")
    return problems


def _rss_image_problems(channel: etree._Element) -> list[str]:
    image = channel.find("image")
    if image is None:
        return []
    problems = []
    for name in ("url", "title", "link"):
        if image.find(name) is None:
            problems.append(f"channel/image: missing <{name}>")
    if _text(image.find("title")) != _text(channel.find("title")):
        problems.append("channel/image: title does not match the channel title")
    if _text(image.find("link")) != _text(channel.find("link")):
        problems.append("channel/image: link does not match the channel link")
    extension = _text(image.find("url")).rsplit(".", 1)[-1].lower()
    if re.fullmatch(r"\w+", extension) and extension not in ("jpg", "jpeg", "gif", "png"):
        problems.append("channel/image: url should be a GIF, JPEG or PNG")
    return problems + uri_problems(_text(image.find("url")), "channel/image/url")


def _misplaced_item_problems(channel: etree._Element) -> list[str]:
    seen_item = False
    for child in channel:
        if child.tag == "item":
            seen_item = True
        elif seen_item and isinstance(child.tag, str):
            return [f"channel: <{etree.QName(child).localname}> after the items"]
    return []


def _rss_item_problems(
    item: etree._Element, where: str, now: datetime | None, lines: list[str]
) -> list[str]:
    problems: list[str] = []
    names = [etree.QName(child).text for child in item if isinstance(child.tag, str)]
    if "title" not in names and "description" not in names:
        problems.append(f"{where}: needs a title or a description")
    for element in item.findall("title") + item.findall("category"):
        problems += _plain_element_problems(element, f"{where}/{element.tag}", lines)
    if item.find("link") is not None:
        problems += uri_problems(_text(item.find("link")), f"{where}/link")
    encoded = f"{{{CONTENT}}}encoded"
    if encoded in names and (
        "description" not in names or names.index("description") > names.index(encoded)
    ):
        problems.append(f"{where}: <description> must come before <content:encoded>")
    if "author" in names and f"{{{DC}}}creator" in names:
        problems.append(f"{where}: both <author> and <dc:creator>")
    for author in item.findall("author"):
        if not EMAIL_WITH_NAME.match(_text(author)):
            problems.append(f"{where}/author: not 'email (Name)': {_text(author)!r}")
    for name in ("description", encoded):
        problems += html_problems(_text(item.find(name)), f"{where}/{etree.QName(name).localname}")
    if item.find("pubDate") is not None:
        problems += rfc822_problems(_text(item.find("pubDate")), f"{where}/pubDate", now)
    for updated in item.findall(f"{{{ATOM}}}updated"):
        problems += rfc3339_problems(_text(updated), f"{where}/atom:updated", now)
    for link in item.findall(f"{{{ATOM}}}link"):
        problems += uri_problems(link.get("href", ""), f"{where}/atom:link")
    problems += _guid_problems(item.find("guid"), where)
    problems += _enclosure_problems(item.findall("enclosure"), where)
    return problems + _media_problems(item, where, lines)


def _guid_problems(guid: etree._Element | None, where: str) -> list[str]:
    if guid is None:
        return [f"{where}: missing <guid>"]
    value = _text(guid)
    permalink = guid.get("isPermaLink", "true")
    if permalink not in ("true", "false"):
        return [f"{where}/guid: isPermaLink must be true or false"]
    if permalink == "false":
        if len(value) < 9 and value.isdigit():
            return [f"{where}/guid: not sufficiently unique: {value!r}"]
        return [] if value.strip() else [f"{where}/guid: blank"]
    if value.lower().startswith(("tag:", "urn:uuid:")):
        return [f"{where}/guid: a {value.split(':')[0]}: id is not a permalink"]
    return uri_problems(value, f"{where}/guid")


def _enclosure_problems(enclosures: list[etree._Element], where: str) -> list[str]:
    problems = [f"{where}: more than one enclosure"] if len(enclosures) > 1 else []
    for enclosure in enclosures:
        length = enclosure.get("length")
        if length is None or not length.isdigit():
            problems.append(f"{where}/enclosure: length must be a non-negative integer")
        if not MIME.match(enclosure.get("type", "")):
            problems.append(f"{where}/enclosure: missing or invalid type")
        problems += http_url_problems(enclosure.get("url", ""), f"{where}/enclosure@url")
    return problems


def _media_problems(parent: etree._Element, where: str, lines: list[str]) -> list[str]:
    problems: list[str] = []
    for media in parent.findall(f"{{{MEDIA}}}content"):
        here = f"{where}/media:content"
        if media.get("medium") is not None and media.get("medium") not in MEDIA_MEDIUMS:
            problems.append(f"{here}: invalid medium {media.get('medium')!r}")
        if media.get("type") is not None and not MIME.match(media.get("type", "")):
            problems.append(f"{here}: invalid type")
        for name in ("fileSize", "width", "height"):
            value = media.get(name)
            if value is not None and not (value.isdigit() and int(value) > 0):
                problems.append(f"{here}: {name} must be a positive integer")
        problems += uri_problems(media.get("url", ""), f"{here}@url")
        for description in media.findall(f"{{{MEDIA}}}description"):
            if description.get("type", "plain") == "plain":
                problems += _plain_element_problems(description, f"{here}/description", lines)
        for credit in media.findall(f"{{{MEDIA}}}credit"):
            role = credit.get("role")
            if role is not None and role != role.lower():
                problems.append(f"{here}/credit: role must be lower case")
    return problems


# --- Atom 1.0 -----------------------------------------------------------------------------


@cache
def atom_schema() -> etree.RelaxNG:
    """The RELAX NG schema of RFC 4287 (tests/data/schemas/atom.rng)."""
    return etree.RelaxNG(etree.parse(str(SCHEMAS / "atom.rng")))


def _atom(name: str) -> str:
    return f"{{{ATOM}}}{name}"


def check_atom(data: bytes, location: str | None = None, now: datetime | None = None) -> list[str]:
    """Every problem the W3C validator would report for this Atom 1.0 document."""
    try:
        root = _parse_xml(data)
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed XML: {exc}"]
    schema = atom_schema()
    if not schema.validate(etree.ElementTree(root)):
        return [
            f"RELAX NG (RFC 4287): {error.message} (line {error.line})"
            for error in schema.error_log
        ]
    if root.tag != _atom("feed"):
        return ["root element is not atom:feed"]
    problems = _namespace_problems(root) + _bad_character_problems(root)
    problems += _atom_feed_problems(root, location, now)
    feed_has_author = root.find(_atom("author")) is not None
    ids: set[str] = set()
    updates: set[str] = set()
    for number, entry in enumerate(root.findall(_atom("entry")), 1):
        where = f"entry {number}"
        problems += _atom_entry_problems(entry, where, now, feed_has_author)
        entry_id = _text(entry.find(_atom("id")))
        if entry_id in ids:
            problems.append(f"{where}: duplicate id {entry_id!r}")
        ids.add(entry_id)
        updated = _text(entry.find(_atom("updated")))
        if updated in updates:  # the validator's DuplicateUpdated (a warning), by the text
            problems.append(f"{where}: two entries with the same updated value {updated!r}")
        updates.add(updated)
    return problems


def _atom_feed_problems(
    root: etree._Element, location: str | None, now: datetime | None
) -> list[str]:
    links = root.findall(_atom("link"))
    selfs = [link for link in links if link.get("rel") == "self"]
    problems = _self_link_problems(
        selfs[0].get("href") if selfs else None, location, "feed/link[@rel=self]"
    )
    if selfs and selfs[0].get("type", "application/atom+xml") != "application/atom+xml":
        problems.append("feed/link[@rel=self]: type is not application/atom+xml")
    problems += _atom_link_problems(links, "feed")
    feed_id = _text(root.find(_atom("id")))
    problems += uri_problems(feed_id, "feed/id") + canonical_problems(feed_id, "feed/id")
    problems += rfc3339_problems(_text(root.find(_atom("updated"))), "feed/updated", now)
    for name in ("icon", "logo"):
        if root.find(_atom(name)) is not None:
            problems += uri_problems(_text(root.find(_atom(name))), f"feed/{name}")
    for name in ("title", "subtitle", "rights"):
        problems += _text_construct_problems(root.find(_atom(name)), f"feed/{name}")
    problems += _person_problems(root.findall(_atom("author")), "feed")
    return problems


def _atom_link_problems(links: list[etree._Element], where: str) -> list[str]:
    """Each link's attributes; one alternate per type and language (other rels, e.g. several
    hubs, may repeat)."""
    problems: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    for link in links:
        rel = link.get("rel", "alternate")
        key = (rel, link.get("type", ""), link.get("hreflang", ""))
        if key in seen and rel == "alternate":
            problems.append(f"{where}: duplicate link rel={rel} type={key[1]!r}")
        seen.add(key)
        if rel not in REGISTERED_RELS and not FULL_URI.match(rel):
            problems.append(f"{where}/link: unregistered rel {rel!r}")
        if link.get("type") is not None and not MIME.match(link.get("type", "")):
            problems.append(f"{where}/link: invalid type {link.get('type')!r}")
        length = link.get("length")
        if length is not None and not length.isdigit():
            problems.append(f"{where}/link: length must be a non-negative integer")
        if link.get("title") is not None:
            problems += plain_text_problems(link.get("title", ""), f"{where}/link@title")
        problems += uri_problems(link.get("href", ""), f"{where}/link@href")
    return problems


def _text_construct_problems(element: etree._Element | None, where: str) -> list[str]:
    if element is None:
        return []
    kind = element.get("type", "text")
    value = _text(element)
    if kind == "html":
        return html_problems(value, where)
    if not value.strip():
        return [f"{where}: blank"]
    return plain_text_problems(value, where)


def _person_problems(people: list[etree._Element], where: str) -> list[str]:
    problems: list[str] = []
    for person in people:
        if not _text(person.find(_atom("name"))).strip():
            problems.append(f"{where}/author: blank name")
        if person.find(_atom("uri")) is not None:
            problems += uri_problems(_text(person.find(_atom("uri"))), f"{where}/author/uri")
    return problems


def _atom_entry_problems(
    entry: etree._Element, where: str, now: datetime | None, feed_has_author: bool
) -> list[str]:
    entry_id = _text(entry.find(_atom("id")))
    problems = uri_problems(entry_id, f"{where}/id") + canonical_problems(entry_id, f"{where}/id")
    problems += rfc3339_problems(_text(entry.find(_atom("updated"))), f"{where}/updated", now)
    if entry.find(_atom("published")) is not None:
        problems += rfc3339_problems(
            _text(entry.find(_atom("published"))), f"{where}/published", now
        )
    authors = entry.findall(_atom("author"))
    if not authors and not feed_has_author:
        problems.append(f"{where}: no author in the entry or the feed")
    problems += _person_problems(authors, where)
    links = entry.findall(_atom("link"))
    problems += _atom_link_problems(links, where)
    content = entry.find(_atom("content"))
    summary = entry.find(_atom("summary"))
    if content is None and (
        summary is None or not any(link.get("rel", "alternate") == "alternate" for link in links)
    ):
        problems.append(f"{where}: without content it needs a summary and an alternate link")
    for name, element in (
        ("title", entry.find(_atom("title"))),
        ("summary", summary),
        ("content", content),
    ):
        problems += _text_construct_problems(element, f"{where}/{name}")
    for category in entry.findall(_atom("category")):
        if not category.get("term", "").strip():
            problems.append(f"{where}/category: blank term")
    return problems + _media_problems(entry, where, [])


# --- JSON Feed 1.1 ------------------------------------------------------------------------


def _is_url(value: object) -> bool:
    return not isinstance(value, str) or not uri_problems(value, "")


def _is_date_time(value: object) -> bool:
    return not isinstance(value, str) or not rfc3339_problems(value, "")


@cache
def json_feed_validator() -> jsonschema.protocols.Validator:
    """A validator for tests/data/schemas/jsonfeed-1.1.json with uri and date-time checks."""
    schema = json.loads((SCHEMAS / "jsonfeed-1.1.json").read_text(encoding="utf-8"))
    checker = jsonschema.FormatChecker(formats=())
    checker.checks("uri")(_is_url)
    checker.checks("date-time")(_is_date_time)
    cls: Callable[..., jsonschema.protocols.Validator] = jsonschema.Draft202012Validator
    return cls(schema, format_checker=checker)


def check_json_feed(
    data: bytes, location: str | None = None, now: datetime | None = None
) -> list[str]:
    """Every problem in this JSON Feed 1.1 document (schema, self URL, ids, dates, HTML)."""
    try:
        document: Any = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [f"not UTF-8 JSON: {exc}"]
    errors = sorted(json_feed_validator().iter_errors(document), key=lambda e: list(e.path))
    if errors:
        return [f"schema: {'/'.join(map(str, e.path))}: {e.message}" for e in errors]
    problems: list[str] = []
    if location is not None and document.get("feed_url") != location:
        problems.append(f"feed_url {document.get('feed_url')!r} does not match {location!r}")
    ids: set[str] = set()
    for number, item in enumerate(document["items"], 1):
        where = f"item {number}"
        if item["id"] in ids:
            problems.append(f"{where}: duplicate id {item['id']!r}")
        ids.add(item["id"])
        for name in ("date_published", "date_modified"):
            if name in item:
                problems += rfc3339_problems(item[name], f"{where}/{name}", now)
        problems += html_problems(item.get("content_html", ""), f"{where}/content_html")
    return problems


def check_feed_file(
    path: Path, location: str | None = None, now: datetime | None = None
) -> list[str]:
    """Check a written feed file by its name: rss.xml, atom.xml or feed.json."""
    checks = {".json": check_json_feed, "atom.xml": check_atom, "rss.xml": check_rss}
    check = checks.get(path.name) or checks.get(path.suffix)
    if check is None:
        return [f"{path}: not a feed file name"]
    return check(path.read_bytes(), location, now)


# --- sample data for feed tests -------------------------------------------------------------

SITE = "https://news.example.org/"
HOSTILE_TEXT = 'Q&A: 1 < 2 && "x" > y ]]> <script>alert(1)<x — Zürich, Rwanda’s view &amp; AT&T'
"""Plain text that must survive every format unchanged (no HTML end tags: those are
ambiguous in RSS titles, and the W3C validator warns about them whatever the encoding)."""


def with_lead_figure(article: Article) -> str:
    """The content a feed carries for ``article``: its lead image as a figure, then the body."""
    if article.image is None:
        return article.body_html
    credit = f"<figcaption>{html.escape(article.image.credit)}</figcaption>"
    figure = (
        f'<figure><img alt="{html.escape(article.image.alt)}" '
        f'src="{html.escape(article.image.url)}">{credit if article.image.credit else ""}</figure>'
    )
    return f"{figure}\n{article.body_html}"


def same_html(left: str, right: str) -> bool:
    """Equal as HTML: feedparser rewrites attribute order and void-element slashes."""

    def canonical(fragment: str) -> list[bytes]:
        nodes = lxml.html.fragments_fromstring(fragment)
        return [
            lxml.html.tostring(node) if not isinstance(node, str) else node.encode()
            for node in nodes
        ]

    return canonical(left) == canonical(right)


def sample_article(n: int = 1, **changes: Any) -> Article:
    """A complete article (image, categories, authors) published on 2026-01-``n`` 09:00 UTC."""
    base = Article(
        id=f"{SITE}news/story-{n}",
        url=f"{SITE}news/story-{n}",
        title=f"Story {n}: peacekeepers in Zürich",
        published=datetime(2026, 1, n, 9, 0, tzinfo=UTC),
        source="site",
        summary=f"Summary {n}: Rwanda’s women peacekeepers.",
        body_html=f'<p>Body {n} with <a href="{SITE}about">a link</a> &amp; more.</p>',
        authors=("Amina Diallo",),
        categories=("Peacekeeping", "Women in Security"),
        image=Image(f"{SITE}media/story-{n}.jpg", f"Alt text {n}", "UN Photo", None, 12345),
    )
    return replace(base, **changes)


def sample_config(tmp_path: Path, **feeds: Any) -> Config:
    """A valid config writing to ``tmp_path/public``; ``feeds`` overrides the feeds section."""
    (tmp_path / "content").mkdir(exist_ok=True)
    data: dict[str, Any] = {
        "site": {
            "title": "Test Site",
            "url": SITE,
            "description": "News for tests.",
            "timezone": "Europe/London",
            "author": {"name": "Test Desk", "email": "desk@example.org"},
            "logo": f"{SITE}media/logo.png",
            "icon": f"{SITE}media/icon.png",
        },
        "sources": [{"kind": "content", "name": "site", "path": str(tmp_path / "content")}],
        "output": {"path": str(tmp_path / "public")},
        "feeds": feeds,
    }
    return Config.model_validate(data)


def sample_meta(filename: str = "rss.xml", **changes: Any) -> FeedMeta:
    """The ``FeedMeta`` of the test site's main feed served as ``feeds/<filename>``."""
    meta = FeedMeta(
        title="Test Site",
        link=SITE,
        self_url=f"{SITE}feeds/{filename}",
        description="News for tests.",
        feed_id=f"{SITE}feeds/atom.xml",
        author_name="Test Desk",
        language="en",
        author_email="desk@example.org",
        logo=f"{SITE}media/logo.png",
        icon=f"{SITE}media/icon.png",
    )
    return replace(meta, **changes)
