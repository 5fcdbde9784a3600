"""DKIM signatures (RFC 6376) made with dkimpy: RSA-SHA256, and optionally Ed25519 (RFC 8463).

``Signer.sign`` takes one complete message (CRLF line ends, not dot-stuffed) and returns the
``DKIM-Signature`` header field(s) to put in front of it. It signs each header of
``SIGNED_HEADERS`` that the message has, and lists From, To, Subject and the List-
Unsubscribe pair once more (over-signing: a header added on the way breaks the signature
instead of changing what the reader sees). Canonicalization is relaxed/relaxed, which
survives relays that refold headers or trim trailing spaces.

Keys are read once, when the transport opens: an unreadable key, a key that is not RSA, or
an RSA key under 2048 bits stops the run before anything is sent. ``public_record`` gives
the TXT record a key's selector must publish (``swfeed doctor`` compares the two).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from pathlib import Path

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from swfeed.config import DkimConfig
from swfeed.errors import DeliveryError

MIN_RSA_BITS = 2048
RSA = b"rsa-sha256"
ED25519 = b"ed25519-sha256"
SIGNED_HEADERS = (
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "reply-to",
    "list-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "feedback-id",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "x-swfeed-test",
)
OVERSIGNED = ("from", "to", "subject", "list-unsubscribe", "list-unsubscribe-post")
_HEADER_NAME = re.compile(rb"^([!-9;-~]+):", re.MULTILINE)
_END_OF_HEADERS = b"\r\n\r\n"


@dataclass(frozen=True, slots=True)
class DkimKey:
    """One signing key: where its public half lives and the private half as dkimpy takes it."""

    domain: str
    selector: str
    algorithm: bytes
    private: bytes
    public: str

    @property
    def record_name(self) -> str:
        """``selector._domainkey.domain``: where the public key is published."""
        return f"{self.selector}._domainkey.{self.domain}"

    @property
    def record(self) -> str:
        """The TXT record to publish at ``record_name``."""
        return public_record(self.algorithm, self.public)


def public_record(algorithm: bytes, public: str) -> str:
    """``v=DKIM1; k=rsa; p=...`` (or ``k=ed25519``)."""
    kind = "rsa" if algorithm == RSA else "ed25519"
    return f"v=DKIM1; k={kind}; p={public}"


@dataclass(frozen=True, slots=True)
class Signer:
    """Signs messages with one or two keys (RSA first, then Ed25519)."""

    keys: tuple[DkimKey, ...]

    def sign(self, message: bytes) -> bytes:
        """The ``DKIM-Signature`` field(s) for ``message``, each ending in CRLF."""
        headers = signed_headers(message)
        return b"".join(
            dkim.sign(
                message,
                key.selector.encode("ascii"),
                key.domain.encode("ascii"),
                key.private,
                canonicalize=(b"relaxed", b"relaxed"),
                signature_algorithm=key.algorithm,
                include_headers=headers,
                linesep=b"\r\n",
            )
            for key in self.keys
        )


def signed_headers(message: bytes) -> list[bytes]:
    """The names to sign: each of ``SIGNED_HEADERS`` present, the over-signed ones twice."""
    end = message.find(_END_OF_HEADERS)
    present = {name.lower() for name in _HEADER_NAME.findall(message[: max(end, 0) + 2])}
    names = [name.encode() for name in SIGNED_HEADERS if name.encode() in present]
    return names + [name.encode() for name in OVERSIGNED if name.encode() in present]


def load_signer(config: DkimConfig) -> Signer:
    """The signer of ``delivery.dkim``; ``DeliveryError`` naming the key file and the fix."""
    keys = [rsa_key(config.domain, config.selector, config.private_key_file)]
    if config.ed25519_selector and config.ed25519_key_file:
        keys.append(ed25519_key(config.domain, config.ed25519_selector, config.ed25519_key_file))
    return Signer(tuple(keys))


def rsa_key(domain: str, selector: str, path: Path) -> DkimKey:
    """An RSA key of at least 2048 bits from a PEM file (PKCS#1 or PKCS#8, unencrypted)."""
    key = _private_key(path, "delivery.dkim.private_key_file")
    if not isinstance(key, rsa.RSAPrivateKey):
        raise _key_error(path, "is not an RSA key", "openssl genrsa -out dkim.pem 2048")
    if key.key_size < MIN_RSA_BITS:
        raise _key_error(
            path,
            f"has {key.key_size} bits; receivers want at least {MIN_RSA_BITS}",
            "openssl genrsa -out dkim.pem 2048",
        )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return DkimKey(domain, selector, RSA, private, base64.b64encode(public).decode("ascii"))


def ed25519_key(domain: str, selector: str, path: Path) -> DkimKey:
    """An Ed25519 key from a PEM file or a file holding the base64 32-byte seed."""
    key = _ed25519_seed(path) or _private_key(path, "delivery.dkim.ed25519_key_file")
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise _key_error(path, "is not an Ed25519 key", "openssl genpkey -algorithm ed25519")
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return DkimKey(
        domain,
        selector,
        ED25519,
        base64.b64encode(seed),
        base64.b64encode(public).decode("ascii"),
    )


def _ed25519_seed(path: Path) -> ed25519.Ed25519PrivateKey | None:
    """The key when the file holds a base64 seed (dkimpy's own format), else None."""
    data = _read(path, "delivery.dkim.ed25519_key_file")
    try:
        seed = base64.b64decode(data.strip(), validate=True)
    except ValueError:
        return None
    if len(seed) != 32:
        return None
    return ed25519.Ed25519PrivateKey.from_private_bytes(seed)


def _private_key(path: Path, key: str) -> object:
    data = _read(path, key)
    try:
        return serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise _key_error(path, f"is not an unencrypted PEM private key ({exc})", "") from None


def _read(path: Path, key: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DeliveryError(
            f"cannot read the DKIM key {path}: {exc.strerror or exc}",
            hint=f"Check {key} in the config and that swfeed may read the file.",
        ) from None


def _key_error(path: Path, problem: str, command: str) -> DeliveryError:
    make = f" Make one with `{command}`." if command else ""
    return DeliveryError(
        f"the DKIM key {path} {problem}",
        hint=f"Point the config at the right key file.{make}",
    )
