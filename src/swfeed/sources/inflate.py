"""Decompress a response body chunk by chunk without ever holding more than a cap.

httpx would inflate a whole network chunk at once (a 64 KB gzip chunk can hold 64 MB of
zeros); here every ``decompress`` call is told how many bytes it may still produce, so a
gzip bomb stops at the cap plus one byte.
"""

from __future__ import annotations

import zlib

from swfeed.errors import SwfeedError

SUPPORTED = ("identity", "gzip", "x-gzip", "deflate")
ACCEPT_ENCODING = "gzip, deflate"


class BodyTooLarge(SwfeedError):
    """The (decompressed) body is larger than the source's ``max_bytes``."""

    default_hint = "Raise `http: {max_bytes: ...}` on the source if the page is really that big."


class BadEncoding(SwfeedError):
    """The body is compressed in a way swfeed did not ask for, or is corrupt."""

    default_hint = "The server sent a broken or unrequested Content-Encoding; tell its owner."


class Inflater:
    """Feed it the raw body chunks; it returns decompressed bytes and enforces ``limit``."""

    def __init__(self, content_encoding: str, limit: int) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in SUPPORTED):
            raise BadEncoding(f"unsupported Content-Encoding {content_encoding!r}")
        self._coding = codings[0] if codings else "identity"
        self._limit = limit
        self._produced = 0
        self._raw_deflate = False
        self._decoder = self._new_decoder()

    def _new_decoder(self) -> zlib._Decompress | None:
        if self._coding in ("gzip", "x-gzip"):
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        if self._coding == "deflate":
            return zlib.decompressobj(-zlib.MAX_WBITS if self._raw_deflate else zlib.MAX_WBITS)
        return None

    def feed(self, data: bytes) -> bytes:
        """Decompress ``data``; raise ``BodyTooLarge`` past the limit."""
        if self._decoder is None:
            return self._count(data)
        room = self._limit - self._produced + 1
        try:
            out = self._decoder.decompress(data, room)
        except zlib.error as exc:
            if self._coding == "deflate" and not self._raw_deflate and self._produced == 0:
                self._raw_deflate = True  # some servers send raw deflate without zlib header
                self._decoder = self._new_decoder()
                return self.feed(data)
            raise BadEncoding(f"corrupt {self._coding} body: {exc}") from None
        if self._decoder.unconsumed_tail:
            raise BodyTooLarge(f"body is larger than {self._limit} bytes once decompressed")
        return self._count(out)

    def flush(self) -> bytes:
        """The last decompressed bytes, once the raw body has ended."""
        if self._decoder is None:
            return b""
        return self._count(self._decoder.flush())

    def _count(self, out: bytes) -> bytes:
        self._produced += len(out)
        if self._produced > self._limit:
            raise BodyTooLarge(f"body is larger than {self._limit} bytes")
        return out
