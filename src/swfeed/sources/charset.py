"""Bytes from the web to text: HTTP header, then BOM, then the document's own declaration.

Each candidate encoding is only used if the body decodes with it strictly. One lie is common
enough to catch on purpose: a server that labels UTF-8 bytes as ISO-8859-1 or windows-1252
(the old default); those bytes decode without error but turn "Zürich" into "ZÃ¼rich". Valid
multi-byte UTF-8 is almost never meant as Latin-1, so UTF-8 wins then.
"""

from __future__ import annotations

import codecs
import re
from typing import Literal

Markup = Literal["html", "xml", "text"]

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_BOM_BYTES = {name: bom for bom, name in _BOMS}
_META = re.compile(rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_XML_DECL = re.compile(rb"""\A\s*<\?xml\b[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_LATIN = frozenset({"latin-1", "iso8859-1", "cp1252", "ascii"})
_WIDE = ("utf-16", "utf-32")
SNIFF_BYTES = 4096


def codec_name(label: str | None) -> str | None:
    """Python's name of an encoding label, or None if it is unknown."""
    if not label:
        return None
    try:
        return codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None


def bom_encoding(body: bytes) -> str | None:
    """The encoding a byte order mark at the start announces."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    return None


def declared_encoding(body: bytes, markup: Markup) -> str | None:
    """The encoding the document declares itself: ``<meta charset>`` or ``<?xml encoding?>``."""
    head = body[:SNIFF_BYTES]
    pattern = _META if markup == "html" else _XML_DECL if markup == "xml" else None
    match = pattern.search(head) if pattern is not None else None
    name = codec_name(match.group(1).decode("ascii")) if match else None
    if name is not None and name.startswith(_WIDE):
        return "utf-8"  # a declaration readable as ASCII cannot be UTF-16/32 (WHATWG rule)
    return name


def _looks_like_utf8(body: bytes) -> bool:
    if body.isascii():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _strict(body: bytes, name: str) -> str | None:
    bom = bom_encoding(body)
    if bom == name:
        body = body[len(_BOM_BYTES[bom]) :]
    try:
        return body.decode(name)
    except (UnicodeDecodeError, LookupError):
        return None


def decode(body: bytes, header_charset: str | None, markup: Markup) -> str:
    """The body as text; see the module docstring for the order of evidence."""
    candidates = [
        codec_name(header_charset),
        bom_encoding(body),
        declared_encoding(body, markup),
        "utf-8",
        "cp1252",
    ]
    for name in candidates:
        if name is None:
            continue
        utf8_in_disguise = name in _LATIN and _looks_like_utf8(body)
        text = _strict(body, "utf-8" if utf8_in_disguise else name)
        if text is not None:
            return text
    return body.decode("utf-8", errors="replace")
