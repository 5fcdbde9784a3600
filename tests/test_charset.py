"""Decoding fetched bytes: HTTP header, then BOM, then the document's declaration."""

from __future__ import annotations

import codecs

from swfeed.sources.charset import declared_encoding, decode

ZURICH = "<p>Zürich – “quoted”</p>"


def test_header_charset_is_used() -> None:
    """A correct header charset decodes the page."""
    assert decode("<p>Zürich</p>".encode("iso-8859-1"), "ISO-8859-1", "html") == "<p>Zürich</p>"


def test_utf8_labelled_latin1_stays_utf8() -> None:
    """UTF-8 bytes served as ISO-8859-1 do not turn Zürich into ZÃ¼rich."""
    assert decode(ZURICH.encode(), "iso-8859-1", "html") == ZURICH


def test_meta_charset_is_used_without_a_header() -> None:
    """Without a header charset, <meta charset> decides."""
    page = '<meta charset="windows-1252">' + ZURICH
    assert decode(page.encode("cp1252"), None, "html") == page


def test_http_equiv_content_type_is_read() -> None:
    """The old <meta http-equiv="Content-Type"> form is understood too."""
    page = '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"><p>Zürich</p>'
    assert declared_encoding(page.encode("latin-1"), "html") == "iso8859-1"


def test_bom_beats_a_missing_charset() -> None:
    """A UTF-16 byte order mark is honoured and stripped."""
    assert decode(codecs.BOM_UTF16_LE + ZURICH.encode("utf-16-le"), None, "html") == ZURICH


def test_bom_wins_when_the_header_cannot_decode() -> None:
    """A header that cannot decode the bytes gives way to the BOM."""
    assert decode(codecs.BOM_UTF16_BE + ZURICH.encode("utf-16-be"), "utf-8", "html") == ZURICH


def test_utf8_bom_is_stripped() -> None:
    """A UTF-8 BOM does not end up in the text."""
    assert decode(codecs.BOM_UTF8 + ZURICH.encode(), "utf-8", "html") == ZURICH


def test_unknown_header_label_is_ignored() -> None:
    """A made-up charset name falls through to the XML declaration."""
    xml = '<?xml version="1.0" encoding="ISO-8859-1"?><t>Zürich</t>'
    assert decode(xml.encode("latin-1"), "x-bogus", "xml") == xml


def test_no_hint_at_all_tries_utf8_then_windows_1252() -> None:
    """Undeclared bytes: UTF-8 if valid, else windows-1252."""
    assert decode(ZURICH.encode(), None, "text") == ZURICH
    assert decode("Zürich".encode("cp1252"), None, "text") == "Zürich"


def test_meta_claiming_utf16_on_ascii_bytes_means_utf8() -> None:
    """A <meta charset=utf-16> readable as ASCII is treated as UTF-8 (WHATWG rule)."""
    page = '<meta charset="utf-16"><p>Zürich</p>'
    assert decode(page.encode(), None, "html") == page
