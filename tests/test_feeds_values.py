"""How single values are written into feeds: canonical URIs, cleaned text, dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from swfeed.feeds.values import (
    canonical_form,
    clean_text,
    is_http_url,
    rfc822,
    rfc3339,
    to_uri,
)
from tests.feedcheck import canonical_problems, rfc822_problems, rfc3339_problems, uri_problems


def test_uri_scheme_host_port_and_path_are_normalised() -> None:
    """Scheme and host go lower case, the default port goes, an empty path becomes '/'."""
    assert to_uri("HTTPS://News.Example.ORG:443") == "https://news.example.org/"


def test_uri_non_ascii_path_is_percent_encoded() -> None:
    """Non-ASCII characters become upper-case UTF-8 percent escapes (NFC first)."""
    assert to_uri("https://example.org/Zu\u0308rich/news") == "https://example.org/Z%C3%BCrich/news"


def test_uri_international_host_uses_idna() -> None:
    """An internationalised host name is written in its ASCII (punycode) form."""
    assert to_uri("https://bücher.example/") == "https://xn--bcher-kva.example/"


def test_uri_escapes_are_canonical() -> None:
    """Escaped unreserved characters are decoded, others kept with upper-case hex."""
    assert to_uri("https://example.org/%7euser/a%2fb?q=%e2%80%99") == (
        "https://example.org/~user/a%2Fb?q=%E2%80%99"
    )


def test_uri_spaces_and_stray_percent_are_encoded() -> None:
    """Spaces and a '%' that starts no escape are percent-encoded."""
    assert to_uri("https://example.org/a b?x=100%") == "https://example.org/a%20b?x=100%25"


@pytest.mark.parametrize(
    "iri",
    [
        "HTTPS://Example.org:443/Zürich?q=a b#frag",
        "https://example.org/%7e/%2F/%e2%80%99",
        "tag:example.org,2026-01-01:story 1",
        "https://user:pa ss@example.org:8080/x",
    ],
)
def test_uri_is_idempotent_and_passes_the_validator_rules(iri: str) -> None:
    """Normalising twice changes nothing and the result is a full, canonical URI."""
    uri = to_uri(iri)
    assert to_uri(uri) == uri
    assert uri_problems(uri, "uri") == []
    assert canonical_problems(uri, "uri") == []


@pytest.mark.parametrize(
    "url",
    [
        "https://www.example.org/",
        "http://a.b/x?y=1&z='2'",
        "https://host//double/slash",
        "https://x.org/a:b@c!$()*+,;=~._-",
        "https://x.org/?q",
        "https://" + "a" * 63 + ".org/",
    ],
)
def test_canonical_urls_take_the_short_way_unchanged(url: str) -> None:
    """A URL to_uri returns as it is is exactly what the full algorithm makes of it."""
    assert to_uri(url) == url
    assert canonical_form(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "https://x.org",
        "https://x.org/a?",
        "https://X.org/",
        "HTTPS://x.org/",
        "https://x.org:443/",
        "https://x.org/%7e",
    ],
)
def test_urls_to_canonicalize_take_the_long_way(url: str) -> None:
    """A URL the full algorithm changes is not mistaken for a canonical one."""
    assert to_uri(url) == canonical_form(url) != url


def test_is_http_url_needs_scheme_and_host() -> None:
    """Only absolute http(s) URLs with a host count as web links."""
    assert is_http_url("https://example.org/x")
    assert not is_http_url("mailto:desk@example.org")
    assert not is_http_url("https:///no-host")


def test_clean_text_drops_characters_xml_forbids() -> None:
    """NUL, other C0/C1 controls, lone surrogates, U+FFFD/U+FFFE go; tabs, newlines, emoji stay."""
    dirty = "a\x00b\x07c\x85d\ud800e\ufffdf\ufffeg\th\ni 🕊"
    assert clean_text(dirty) == "abcdefg\th\ni 🕊"


def test_rfc822_is_utc_with_english_names() -> None:
    """RSS dates are UTC, '+0000', with the right weekday, and pass the strict rule."""
    moment = datetime(2026, 1, 10, 0, 30, tzinfo=timezone(timedelta(hours=2)))
    text = rfc822(moment)
    assert text == "Fri, 09 Jan 2026 22:30:00 +0000"
    assert rfc822_problems(text, "date") == []


def test_rfc3339_is_utc_whole_seconds() -> None:
    """Atom and JSON Feed dates are UTC with 'Z', without fractions."""
    moment = datetime(2026, 1, 10, 12, 0, 5, 999_999, tzinfo=UTC)
    assert rfc3339(moment) == "2026-01-10T12:00:05Z"
    assert rfc3339_problems(rfc3339(moment), "date") == []
