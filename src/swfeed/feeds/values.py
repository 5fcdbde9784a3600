"""How single values are written into feeds: text, URIs and dates.

- Text loses every character XML 1.0 forbids (and the C1 controls and U+FFFD that feed
  validators flag), so hostile input can never break a document.
- URIs are written in one canonical ASCII form (RFC 3986 section 6.2.2): lower-case scheme
  and host, IDNA host, no default port, ``/`` for an empty path, upper-case percent escapes,
  unreserved characters unescaped, everything else percent-encoded as UTF-8 (NFC). Feed
  validators reject raw non-ASCII in links and warn about non-canonical ids.
- Dates are UTC: RFC 3339 with ``Z`` (Atom, JSON Feed) or RFC 822 with ``+0000`` (RSS).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import SplitResult, urlsplit, urlunsplit

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffd\ufffe\uffff]")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_SUB_DELIMS = "!$&'()*+,;="
_PATH_SAFE = frozenset(_SUB_DELIMS + ":@/")
_QUERY_SAFE = frozenset(_SUB_DELIMS + ":@/?")
_HEX = frozenset("0123456789abcdefABCDEF")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def clean_text(text: str) -> str:
    """``text`` without characters that XML 1.0 forbids or validators flag."""
    return _ILLEGAL.sub("", text)


def _quote(text: str, safe: frozenset[str]) -> str:
    """Percent-encode ``text`` canonically, keeping ``safe`` and unreserved characters."""
    out: list[str] = []
    i = 0
    text = unicodedata.normalize("NFC", text)
    while i < len(text):
        char = text[i]
        if char == "%" and len(text) >= i + 3 and set(text[i + 1 : i + 3]) <= _HEX:
            decoded = chr(int(text[i + 1 : i + 3], 16))
            out.append(decoded if decoded in _UNRESERVED else text[i : i + 3].upper())
            i += 3
            continue
        if char in _UNRESERVED or char in safe:
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8"))
        i += 1
    return "".join(out)


def _netloc(parts: SplitResult, scheme: str) -> str:
    host = parts.hostname or ""
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        host = _quote(host, frozenset())
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    if parts.username is not None:
        user = _quote(parts.username, frozenset(_SUB_DELIMS))
        if parts.password is not None:
            user += ":" + _quote(parts.password, frozenset(_SUB_DELIMS))
        netloc = f"{user}@{netloc}"
    return netloc


_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_CANONICAL = re.compile(
    rf"https?://{_LABEL}(?:\.{_LABEL})*"  # lower-case ASCII host, no port, no user
    r"/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*"  # a path of characters that stay as they are
    r"(?:\?[A-Za-z0-9\-._~!$&'()*+,;=:@/?]+)?\Z"  # an optional, non-empty query
)
"""URLs that are canonical already: ``to_uri`` gives them back unchanged (most links)."""


@lru_cache(maxsize=8192)
def to_uri(iri: str) -> str:
    """An IRI or URI in canonical ASCII form (see the module docstring)."""
    return iri if _CANONICAL.match(iri) else canonical_form(iri)


def canonical_form(iri: str) -> str:
    """``to_uri`` the long way, for any text (``to_uri`` skips it for canonical URLs)."""
    parts = urlsplit(clean_text(iri).strip())
    scheme = parts.scheme.lower()
    netloc = _netloc(parts, scheme) if parts.netloc else ""
    path = _quote(parts.path, _PATH_SAFE)
    if netloc and not path:
        path = "/"
    query = _quote(parts.query, _QUERY_SAFE)
    fragment = _quote(parts.fragment, _QUERY_SAFE)
    return urlunsplit((scheme, netloc, path, query, fragment))


def is_http_url(uri: str) -> bool:
    """True for an absolute http(s) URL with a host."""
    if _CANONICAL.match(uri):
        return True
    parts = urlsplit(uri)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def rfc3339(value: datetime) -> str:
    """``2026-01-10T12:00:00Z``: UTC, whole seconds."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc822(value: datetime) -> str:
    """``Sat, 10 Jan 2026 12:00:00 +0000``: UTC, English names whatever the locale."""
    utc = value.astimezone(UTC)
    day = _DAYS[utc.weekday()]
    month = _MONTHS[utc.month - 1]
    return f"{day}, {utc.day:02d} {month} {utc.year:04d} {utc:%H:%M:%S} +0000"
