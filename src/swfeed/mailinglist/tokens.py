"""Signed tokens in links and forms, and keyed hashes: every HMAC the mailing list uses.

A link token is ``PURPOSE "." ID "." b64url(HMAC-SHA256(secret, purpose | id)[:16])``: it
names a subscriber only by the opaque random id the store gave them (never the address)
and proves swfeed issued it for that purpose (``u`` unsubscribe, ``p`` preferences, ``c``
confirm). Tokens are checked against every secret given (the current one first, then
earlier ones after a rotation); a forged or truncated one fails the constant-time
comparison.

Issues sent by swfeed 0.1 carry the old format, ``b64url(address) "." b64url(HMAC)``:
``verify_legacy_token`` still reads it, so their one-click links keep unsubscribing.

A form token (``form_token``) carries the time the form was shown, so a form posted
sooner than a human could fill it is told apart. ``keyed_hash`` hides a value (an erased
address, a client's IP address) behind the secret: equal inputs give equal hashes, and
nobody without the secret can test a guess.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime
from enum import StrEnum

TOKEN_PURPOSE = b"swfeed-unsubscribe-v1\x00"
_LINK_PURPOSE = b"swfeed-link-v2\x00"
_FORM_PURPOSE = b"swfeed-form-v1\x00"
MAC_BYTES = 16


class Purpose(StrEnum):
    """What a link token allows."""

    UNSUBSCRIBE = "u"
    PREFERENCES = "p"
    CONFIRM = "c"


def link_token(secret: bytes, purpose: Purpose, ident: str) -> str:
    """The signed token of ``ident`` for ``purpose``."""
    return f"{purpose.value}.{ident}.{_b64(_link_mac(secret, purpose, ident))}"


def read_link_token(keys: Sequence[bytes], purpose: Purpose, token: str) -> str | None:
    """The id a token was issued for, if one of ``keys`` signed it for ``purpose``."""
    if token.count(".") != 2:
        return None
    kind, ident, signature = token.split(".")
    if kind != purpose.value or not _is_id(ident):
        return None
    try:
        given = _unb64(signature)
    except (binascii.Error, ValueError):
        return None
    return ident if _matches(keys, given, lambda key: _link_mac(key, purpose, ident)) else None


def is_link_token(token: str) -> bool:
    """Whether ``token`` has the current format (three parts), not the 0.1 one."""
    return token.count(".") == 2


def make_token(secret: bytes, address: str) -> str:
    """The 0.1 unsubscribe token for ``address`` (kept to test that old links still work)."""
    payload = _b64(address.encode("utf-8"))
    return f"{payload}.{_b64(_legacy_mac(secret, address))}"


def verify_legacy_token(keys: Sequence[bytes], token: str) -> str | None:
    """The address of a 0.1 unsubscribe token signed with one of ``keys``, or None."""
    payload, dot, signature = token.partition(".")
    if not dot:
        return None
    try:
        address = _unb64(payload).decode("utf-8")
        given = _unb64(signature)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return address if _matches(keys, given, lambda key: _legacy_mac(key, address)) else None


def form_token(secret: bytes, shown: datetime) -> str:
    """A token for a form shown at ``shown``: ``seconds "." nonce "." mac``."""
    stamp = str(int(shown.timestamp()))
    nonce = secrets.token_hex(8)
    return f"{stamp}.{nonce}.{_b64(_form_mac(secret, stamp, nonce))}"


def read_form_token(keys: Sequence[bytes], token: str) -> int | None:
    """When the form of a valid token was shown (POSIX seconds), or None."""
    if token.count(".") != 2:
        return None
    stamp, nonce, signature = token.split(".")
    if not stamp.isdigit() or len(stamp) > 12 or not _is_hex(nonce):
        return None
    try:
        given = _unb64(signature)
    except (binascii.Error, ValueError):
        return None
    return int(stamp) if _matches(keys, given, lambda key: _form_mac(key, stamp, nonce)) else None


def keyed_hash(secret: bytes, purpose: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` (case-folded) for ``purpose``, as 64 hex digits."""
    message = f"swfeed-{purpose}\x00{value.lower()}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _matches(keys: Sequence[bytes], given: bytes, mac: Callable[[bytes], bytes]) -> bool:
    """Whether ``given`` is the MAC under any key (every key is tried: no early exit)."""
    found = False
    for key in keys:
        found |= hmac.compare_digest(given, mac(key))
    return found


def _link_mac(secret: bytes, purpose: Purpose, ident: str) -> bytes:
    message = _LINK_PURPOSE + f"{purpose.value}\x00{ident}".encode("ascii")
    return hmac.new(secret, message, hashlib.sha256).digest()[:MAC_BYTES]


def _form_mac(secret: bytes, stamp: str, nonce: str) -> bytes:
    message = _FORM_PURPOSE + f"{stamp}\x00{nonce}".encode("ascii")
    return hmac.new(secret, message, hashlib.sha256).digest()[:MAC_BYTES]


def _legacy_mac(secret: bytes, address: str) -> bytes:
    message = TOKEN_PURPOSE + address.lower().encode("utf-8")
    return hmac.new(secret, message, hashlib.sha256).digest()


def _is_id(text: str) -> bool:
    return 8 <= len(text) <= 64 and _is_hex(text)


def _is_hex(text: str) -> bool:
    return bool(text) and all(char in "0123456789abcdef" for char in text)


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
