"""Signed unsubscribe tokens.

A token is ``b64url(address) "." b64url(HMAC-SHA256(secret, purpose | address))``: it names
the address and proves swfeed issued it; a forged or truncated one fails the constant-time
comparison.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

TOKEN_PURPOSE = b"swfeed-unsubscribe-v1\x00"


def make_token(secret: bytes, address: str) -> str:
    """The signed unsubscribe token for ``address``."""
    payload = _b64(address.encode("utf-8"))
    return f"{payload}.{_b64(_mac(secret, address))}"


def verify_token(secret: bytes, token: str) -> str | None:
    """The address a token was issued for, or None if it is forged, truncated or malformed."""
    payload, dot, signature = token.partition(".")
    if not dot:
        return None
    try:
        address = _unb64(payload).decode("utf-8")
        given = _unb64(signature)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not hmac.compare_digest(given, _mac(secret, address)):
        return None
    return address


def _mac(secret: bytes, address: str) -> bytes:
    message = TOKEN_PURPOSE + address.lower().encode("utf-8")
    return hmac.new(secret, message, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    """Strict urlsafe base64 without padding: anything else is an error."""
    if not text or len(text) % 4 == 1 or text.strip("=") != text:
        raise ValueError("bad length")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:
        raise ValueError("not canonical")
    return data
