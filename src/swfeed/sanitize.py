"""The one HTML allow-list. Every article body passes through ``sanitize_html`` once,
on its way into the store; titles and summaries through ``plain_text``.

nh3 (ammonia) parses with html5ever and keeps only the tags, attributes and URL schemes
listed here: no script, style, iframe, form or event handler survives, and ``javascript:``,
``data:`` and ``file:`` URLs are dropped. Relative URLs are made absolute against the page
they came from, so feeds and emails never carry a link that only works on the site.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urljoin, urlsplit

import nh3

TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "caption",
        "cite",
        "code",
        "dd",
        "del",
        "dl",
        "dt",
        "em",
        "figcaption",
        "figure",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "ins",
        "kbd",
        "li",
        "mark",
        "ol",
        "p",
        "pre",
        "q",
        "s",
        "small",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "time",
        "tr",
        "u",
        "ul",
    }
)
ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "time": {"datetime"},
    "ol": {"start"},
    "blockquote": {"cite"},
    "q": {"cite"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
_URL_ATTRIBUTES = frozenset({"href", "src", "cite"})
_SPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029\ufffe\uffff]")


def absolute_url(url: str, base_url: str) -> str | None:
    """``url`` made absolute against ``base_url``; None unless it is http(s) or mailto."""
    url = url.strip()
    if not url:
        return None
    joined = urljoin(base_url, url)
    scheme = urlsplit(joined).scheme.lower()
    return joined if scheme in URL_SCHEMES else None


def sanitize_html(fragment: str, base_url: str) -> str:
    """Clean an HTML fragment: allow-listed tags only, absolute http(s)/mailto URLs."""
    fragment = _CONTROL.sub("", fragment)

    def keep(tag: str, attribute: str, value: str) -> str | None:
        if attribute in _URL_ATTRIBUTES:
            return absolute_url(value, base_url)
        return value

    cleaned = nh3.clean(
        fragment,
        tags=set(TAGS),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        attribute_filter=keep,
        link_rel="noopener",
        strip_comments=True,
    )
    return cleaned.strip()


def plain_text(text: str) -> str:
    """Any text or HTML as one line of plain text: tags removed, entities decoded,
    control characters and line separators dropped, white space folded."""
    stripped = nh3.clean(text, tags=set(), strip_comments=True)
    unescaped = html.unescape(stripped)
    return _SPACE.sub(" ", _CONTROL.sub(" ", unescaped)).strip()


def safe_url(url: str | None, base_url: str) -> str | None:
    """A link from untrusted input: absolute http(s)/mailto, else None."""
    if url is None:
        return None
    return absolute_url(_CONTROL.sub("", url), base_url)
