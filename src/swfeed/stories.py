"""When two articles are one story (pure): the same link, or the same title on the same day.

With the content folder and a scraper of the same site both on, or a partner's feed
carrying a story the site also has, each story arrives twice. Two articles of different
sources are the same story when

- their links are the same once normalised: the scheme (http or https), the host's case, a
  default port, a trailing slash, the fragment and tracking parameters (``utm_*``,
  ``fbclid`` ...) make no difference, and the other query parameters are sorted; or
- their titles are the same words (case, punctuation and spacing aside) on the same day in
  the site's time zone.

The source listed first in the config wins (``Merging.rank``); the store keeps the other
copy hidden (``articles.merged_into``), so it is one article in every feed and issue.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit
from zoneinfo import ZoneInfo

from swfeed.models import Article

_NON_WORD = re.compile(r"[\W_]+")
_TRACKING = re.compile(
    r"utm_[a-z_]+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|igshid|mc_cid|mc_eid|_ga|_gl"
    r"|ref_src",
    re.IGNORECASE,
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def title_words(title: str) -> str:
    """The title's words, folded: case, punctuation and spacing do not count."""
    folded = unicodedata.normalize("NFKC", title).casefold()
    return " ".join(_NON_WORD.sub(" ", folded).split())


def link_key(url: str) -> str:
    """The link as it compares: no scheme, host in lower case, no default port, no trailing
    slash, fragment or tracking parameters, the other parameters sorted."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        host = f"{host}:{port}"
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=-._~").rstrip("/")
    query = sorted(
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _TRACKING.fullmatch(name)
    )
    return f"{host}{path}" + (f"?{urlencode(query)}" if query else "")


@dataclass(frozen=True, slots=True)
class Merging:
    """How one fetch tells stories apart: the sources in config order, the site's zone."""

    order: Sequence[str]
    zone: ZoneInfo

    def rank(self, source: str) -> int:
        """The source's place in the config (0 first); a source no longer configured last."""
        return list(self.order).index(source) if source in self.order else len(self.order)

    def keys(self, article: Article) -> tuple[str, str]:
        """(link key, day-and-title key) of ``article``."""
        day = article.published.astimezone(self.zone).date().isoformat()
        return link_key(article.url), f"{day} {title_words(article.title)}"
