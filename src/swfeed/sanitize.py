"""The one HTML allow-list. Every article body passes through ``sanitize_html`` once,
on its way into the store; titles and summaries that are HTML through ``plain_text``
(fields that are text, such as front matter, stay text: ``plaintext.one_line``).

Before nh3 sees it, markup is bounded (``bound_markup``): at most ``MAX_HTML_CHARS``
characters, and tags nested deeper than ``MAX_DEPTH`` are dropped (their words stay). nh3's
tree builder is quadratic in nesting depth: 150,000 nested ``<div>`` took over a minute.

nh3 (ammonia) parses with html5ever and keeps only the tags, attributes and URL schemes
listed here: no script, style, iframe, form or event handler survives, and ``javascript:``,
``data:`` and ``file:`` URLs are dropped. Relative URLs are made absolute against the page
they came from, so feeds and emails never carry a link that only works on the site.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from functools import lru_cache
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
MAX_DEPTH = 100
"""Deepest element nesting kept; real articles stay under 20."""
MAX_HTML_CHARS = 2_000_000
"""Most characters of one fragment sanitized (the rest is cut at a tag boundary)."""
_VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)
#: Elements whose end tag may be left out: a second one closes the first.
_SELF_CLOSING_SIBLINGS = frozenset(["p", "li", "dt", "dd", "tr", "td", "th", "option"])
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_IMG_ALT = re.compile(r"<img\b[^>]*?\balt=\"([^\"]*)\"[^>]*>|<img\b[^>]*>")
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


def bound_markup(fragment: str) -> str:
    """``fragment`` cut to ``MAX_HTML_CHARS`` and without tags nested deeper than
    ``MAX_DEPTH`` (their text stays), in one linear pass: safe to hand to a tree builder."""
    if len(fragment) > MAX_HTML_CHARS:
        cut = fragment.rfind("<", 0, MAX_HTML_CHARS)
        fragment = fragment[: cut if cut > 0 else MAX_HTML_CHARS]
    if fragment.count("<") <= MAX_DEPTH:
        return fragment  # too few tags to nest deeper than MAX_DEPTH: the scan keeps all
    return drop_deep_tags(fragment)


def drop_deep_tags(fragment: str) -> str:
    """``fragment`` without the tags nested deeper than ``MAX_DEPTH`` (their text stays)."""
    out: list[str] = []
    nesting = _Nesting()
    last = 0
    for match in _TAG.finditer(fragment):
        name, rest = match.group(2).lower(), match.group(3)
        out.append(fragment[last : match.start()])
        if nesting.keep(match.group(1) == "/", name, rest.rstrip().endswith("/")):
            out.append(match.group(0))
        last = match.end()
    out.append(fragment[last:])
    return "".join(out)


class _Nesting:
    """The open elements while scanning tags (with a count per name, so every step is
    constant time on average), and which of them were too deep to keep."""

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.open: Counter[str] = Counter()

    def keep(self, closing: bool, name: str, empty: bool) -> bool:
        """Follow one tag's effect on the open elements; whether the tag is kept."""
        if name in _VOID or empty:
            return len(self.stack) < MAX_DEPTH
        if closing:
            return self._close(name)
        stack = self.stack
        if stack and stack[-1] == name and name in _SELF_CLOSING_SIBLINGS:
            self.open[stack.pop()] -= 1
        stack.append(name)
        self.open[name] += 1
        return len(stack) <= MAX_DEPTH

    def _close(self, name: str) -> bool:
        if not self.open[name]:
            return True  # a stray end tag: nh3 drops it
        while True:
            depth = len(self.stack)
            popped = self.stack.pop()
            self.open[popped] -= 1
            if popped == name:
                return depth <= MAX_DEPTH


def sanitize_html(fragment: str, base_url: str) -> str:
    """Clean an HTML fragment: allow-listed tags only, absolute http(s)/mailto URLs."""
    fragment = bound_markup(_CONTROL.sub("", fragment))
    return _html_cleaner(base_url).clean(fragment).strip()


@lru_cache(maxsize=32)
def _html_cleaner(base_url: str) -> nh3.Cleaner:
    """The allow-list as a reusable cleaner, one per base URL (made once, used per article)."""

    def keep(tag: str, attribute: str, value: str) -> str | None:
        if attribute in _URL_ATTRIBUTES:
            return absolute_url(value, base_url)
        return value

    return nh3.Cleaner(
        tags=set(TAGS),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        attribute_filter=keep,
        link_rel="noopener",
        strip_comments=True,
    )


@lru_cache(maxsize=1)
def _text_cleaner() -> nh3.Cleaner:
    """What ``plain_text`` keeps: images, for their alt text (made once)."""
    return nh3.Cleaner(tags={"img"}, attributes={"img": {"alt"}}, strip_comments=True)


def plain_text(fragment: str, *, alt_text: bool = True) -> str:
    """An HTML fragment as one line of text: tags dropped but their words kept, an image
    replaced by its alt text, script and style gone with their contents, entities decoded,
    control characters and line separators dropped, white space folded.

    Only for fields that are HTML; a field that is text keeps its ``<`` (``one_line``).
    ``alt_text=False`` drops images whole (a summary is no place for a picture's caption).
    """
    if not fragment:
        return ""
    kept = _text_cleaner().clean(bound_markup(fragment))
    with_alt = _IMG_ALT.sub(lambda match: f" {(alt_text and match.group(1)) or ''} ", kept)
    unescaped = html.unescape(with_alt)
    return _SPACE.sub(" ", _CONTROL.sub(" ", unescaped)).strip()


def safe_url(url: str | None, base_url: str) -> str | None:
    """A link from untrusted input: absolute http(s)/mailto, else None."""
    if url is None:
        return None
    return absolute_url(_CONTROL.sub("", url), base_url)
