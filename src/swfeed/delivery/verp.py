"""VERP envelope senders: ``bounces+TOKEN@domain``, a signed token per message.

A bounce goes to the envelope sender, so a sender unique to each message tells which issue
and which recipient bounced even when the bounce's body is mangled or names some other
address (a forwarding alias). The token is 22 bytes in lowercase base32 (36 characters, so
it survives a relay that lowercases the local part; an uppercased one is read the same):

    kind (1) | year (2) | ISO week (1) | address id (8) | MAC (10)

- ``kind``: an issue's copy, a test copy (``digest send --to``), or any other mail to a
  list member (confirmation, welcome), which names no issue;
- the address id is ``HMAC(secret, address)`` cut to 8 bytes: it finds the address among
  the issue's recipients (or the list) without putting the address itself in the token;
- the MAC is ``HMAC(secret, kind | period | address)`` cut to 10 bytes: only swfeed can
  make a token that names an address, so a forged bounce can unsubscribe nobody.

The local part stays within 64 octets (RFC 5321): ``bounce_address``'s own local part may
have up to 27 characters.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum

from swfeed.errors import DeliveryError

MAX_LOCAL_PART = 64
TOKEN_LENGTH = 36
_RAW_LENGTH = 22
_ID_PURPOSE = b"swfeed-verp-id-v1\x00"
_MAC_PURPOSE = b"swfeed-verp-mac-v1\x00"
_PERIOD = re.compile(r"(\d{4})-W(\d{2})")


class Kind(IntEnum):
    """What a message was."""

    ISSUE = 1
    TEST = 2
    LIST = 3


@dataclass(frozen=True, slots=True)
class Token:
    """A token read from an envelope address: what it claims, not yet proven."""

    kind: Kind
    period: str | None
    address_id: bytes
    mac: bytes

    def names(self, secrets: Sequence[bytes], address: str) -> bool:
        """True if one of ``secrets`` made this token for ``address`` (constant time)."""
        return any(
            hmac.compare_digest(self.address_id, address_id(secret, address))
            and hmac.compare_digest(self.mac, _mac(secret, self.kind, self.period, address))
            for secret in secrets
        )

    def find(self, secrets: Sequence[bytes], candidates: Iterable[str]) -> str | None:
        """The candidate address this token was made for, if any."""
        for address in candidates:
            if self.names(secrets, address):
                return address
        return None


def check_bounce_address(bounce_address: str) -> None:
    """``DeliveryError`` when the VERP local part would pass 64 octets."""
    local = bounce_address.rpartition("@")[0]
    room = MAX_LOCAL_PART - 1 - TOKEN_LENGTH
    if len(local.encode("utf-8")) > room or "+" in local:
        raise DeliveryError(
            f"delivery.bounce_address {bounce_address!r} leaves no room for the VERP token",
            hint=f"Use a local part of at most {room} characters without '+', "
            "e.g. bounces@news.example.org.",
        )


def envelope_sender(
    bounce_address: str, secret: bytes, kind: Kind, address: str, period: str | None = None
) -> str:
    """``local+TOKEN@domain`` for the message of ``kind`` (and ``period``) to ``address``."""
    local, _, domain = bounce_address.rpartition("@")
    head = _head(kind, period)
    raw = head + address_id(secret, address) + _mac(secret, kind, period, address)
    token = base64.b32encode(raw).decode("ascii").rstrip("=").lower()
    return f"{local}+{token}@{domain}"


def read_token(bounce_address: str, text: str) -> Token | None:
    """The token of the first ``local+TOKEN@domain`` in ``text`` (any case), or None."""
    for match in token_pattern(bounce_address).finditer(text):
        token = parse_token(match.group(1))
        if token is not None:
            return token
    return None


def token_pattern(bounce_address: str) -> re.Pattern[str]:
    """Matches ``local+TOKEN@domain`` of this bounce address, capturing the token."""
    local, _, domain = bounce_address.rpartition("@")
    return re.compile(
        rf"{re.escape(local)}\+([a-z2-7]{{{TOKEN_LENGTH}}})@{re.escape(domain)}\b", re.IGNORECASE
    )


def parse_token(text: str) -> Token | None:
    """Decode a token; None when it is not one (wrong length, alphabet or header)."""
    try:
        raw = base64.b32decode(text.upper() + "====")
    except (binascii.Error, ValueError):
        return None
    if len(raw) != _RAW_LENGTH:
        return None
    try:
        kind = Kind(raw[0])
    except ValueError:
        return None
    year, week = int.from_bytes(raw[1:3], "big"), raw[3]
    if kind is Kind.LIST:
        period = None
    elif 1 <= week <= 53 and year >= 2000:
        period = f"{year:04d}-W{week:02d}"
    else:
        return None
    return Token(kind, period, raw[4:12], raw[12:22])


def address_id(secret: bytes, address: str) -> bytes:
    """The 8-byte keyed id of an address (case-insensitive)."""
    return hmac.new(secret, _ID_PURPOSE + _folded(address), hashlib.sha256).digest()[:8]


def _mac(secret: bytes, kind: Kind, period: str | None, address: str) -> bytes:
    message = _MAC_PURPOSE + _head(kind, period) + _folded(address)
    return hmac.new(secret, message, hashlib.sha256).digest()[:10]


def _head(kind: Kind, period: str | None) -> bytes:
    year = week = 0
    if kind is not Kind.LIST:
        match = _PERIOD.fullmatch(period or "")
        if match is None:
            raise ValueError(f"a {kind.name.lower()} token needs a period, got {period!r}")
        year, week = int(match.group(1)), int(match.group(2))
    return bytes([kind]) + year.to_bytes(2, "big") + bytes([week])


def _folded(address: str) -> bytes:
    return address.lower().encode("utf-8")


@dataclass(frozen=True, slots=True)
class Verp:
    """The configured bounce address and the secrets that sign (the first) and check tokens."""

    bounce_address: str
    secrets: tuple[bytes, ...]

    def sender(self, kind: Kind, address: str, period: str | None = None) -> str:
        """The envelope sender of the message of ``kind`` (and ``period``) to ``address``."""
        return envelope_sender(self.bounce_address, self.secrets[0], kind, address, period)

    def read(self, text: str) -> Token | None:
        """The first token of this bounce address in ``text``, if any (not yet proven)."""
        return read_token(self.bounce_address, text)
