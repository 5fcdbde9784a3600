"""DKIM keys made for a test, and dkimpy's verifier reading their records from a table."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

DOMAIN = "example.org"
SELECTOR = "sw2026"
ED_SELECTOR = "sw2026e"


@dataclass(frozen=True)
class Keys:
    """The key files and the TXT records their selectors publish."""

    rsa_file: Path
    ed25519_file: Path
    records: dict[str, str]
    domain: str = DOMAIN

    def config(self, ed25519: bool = False) -> str:
        """The ``dkim:`` lines of a delivery section (indented two spaces)."""
        text = (
            f"  dkim:\n    domain: {self.domain}\n    selector: {SELECTOR}\n"
            f"    private_key_file: {self.rsa_file}\n"
        )
        if ed25519:
            text += (
                f"    ed25519_selector: {ED_SELECTOR}\n    ed25519_key_file: {self.ed25519_file}\n"
            )
        return text


def rsa_pem(bits: int = 2048) -> tuple[bytes, str]:
    """A new RSA key as PKCS#8 PEM, and its public half as a DKIM p= value."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem, base64.b64encode(public).decode()


def make_keys(folder: Path, domain: str = DOMAIN) -> Keys:
    """An RSA 2048 key and an Ed25519 key (PEM) in ``folder``, with their records."""
    folder.mkdir(parents=True, exist_ok=True)
    pem, rsa_public = rsa_pem()
    rsa_file = folder / "dkim-rsa.pem"
    rsa_file.write_bytes(pem)
    ed_key = ed25519.Ed25519PrivateKey.generate()
    ed_file = folder / "dkim-ed25519.pem"
    ed_file.write_bytes(
        ed_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    ed_public = ed_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    records = {
        f"{SELECTOR}._domainkey.{domain}": f"v=DKIM1; k=rsa; p={rsa_public}",
        f"{ED_SELECTOR}._domainkey.{domain}": (
            f"v=DKIM1; k=ed25519; p={base64.b64encode(ed_public).decode()}"
        ),
    }
    return Keys(rsa_file, ed_file, records, domain)


def signatures(message: bytes) -> list[dict[bytes, bytes]]:
    """The tags of each DKIM-Signature header of ``message``."""
    head = message.split(b"\r\n\r\n", 1)[0].replace(b"\r\n ", b" ").replace(b"\r\n\t", b" ")
    found = []
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"dkim-signature:"):
            value = line.split(b":", 1)[1]
            tags = {
                part.split(b"=", 1)[0].strip(): part.split(b"=", 1)[1].strip()
                for part in value.split(b";")
                if b"=" in part
            }
            found.append(tags)
    return found


def verifies(message: bytes, records: dict[str, str]) -> bool:
    """True when the message has signatures and dkimpy verifies every one of them."""

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        value = records.get(name.decode().rstrip("."))
        return value.encode() if value is not None else None

    count = len(signatures(message))
    verifier = dkim.DKIM(message)
    try:
        return count > 0 and all(verifier.verify(idx=i, dnsfunc=lookup) for i in range(count))
    except dkim.DKIMException:
        return False
