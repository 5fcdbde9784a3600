"""Mailing-list management: address validation, CSV import, signed unsubscribe tokens.

Addresses are checked with email-validator (syntax only, no DNS) and stored in their ASCII
form (internationalised domains as punycode), so every header and SMTP command stays ASCII.

An unsubscribe token is ``b64url(address) "." b64url(HMAC-SHA256(secret, purpose | address))``:
it names the address and proves swfeed issued it; a forged or truncated one fails the
constant-time comparison.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import hmac
import io
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from email_validator import EmailNotValidError, validate_email

from swfeed.errors import SwfeedError

MAX_NAME_LENGTH = 200
TOKEN_PURPOSE = b"swfeed-unsubscribe-v1\x00"
_ADDRESS_COLUMNS = ("email", "address", "e-mail", "mail")


class SubscriberError(SwfeedError):
    """An address or name given by the admin is not acceptable."""

    default_hint = "Check the address for typos; it must look like name@example.org."


class CsvImportError(SwfeedError):
    """A CSV import found problems; nothing was imported."""

    default_hint = "Fix the lines listed and import the file again; nothing was imported."

    def __init__(self, path: Path, problems: list[str]) -> None:
        lines = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"{path}: {len(problems)} problem(s), nothing imported:\n{lines}")
        self.problems = problems


def normalize_address(address: str) -> str:
    """The address in the form swfeed stores it; ``SubscriberError`` if it is not valid."""
    try:
        result = validate_email(address.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise SubscriberError(f"{address!r} is not a valid address: {exc}") from None
    return str(result.ascii_email or result.normalized)


def one_line(text: str) -> str:
    """Text with control characters and line separators as spaces, whitespace collapsed.

    Covers CR, LF, NEL, VT, FF, the file/group/record separators, U+2028 and U+2029: every
    character that some parser treats as a line end.
    """
    cleaned = "".join(
        " " if unicodedata.category(char) in ("Cc", "Zl", "Zp", "Cs") else char for char in text
    )
    return " ".join(cleaned.split())


def clean_name(name: str) -> str:
    """A display name made one line; ``SubscriberError`` if it is too long."""
    cleaned = one_line(name)
    if len(cleaned) > MAX_NAME_LENGTH:
        raise SubscriberError(
            f"name is {len(cleaned)} characters long; at most {MAX_NAME_LENGTH} are allowed",
            hint="Shorten the name.",
        )
    return cleaned


@dataclass(frozen=True, slots=True)
class CsvEntry:
    """One valid line of an import file."""

    line: int
    address: str
    name: str


def read_csv(path: Path) -> list[CsvEntry]:
    """Every (address, name) of a CSV file, or ``CsvImportError`` listing every bad line.

    The first row is a header when it has no ``@``; columns ``email``/``address`` and ``name``
    are then found by name, else the address is the first column and the name the second.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CsvImportError(path, [f"cannot read the file: {exc}"]) from None
    entries: list[CsvEntry] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for line, address, name in _rows(text):
        try:
            entry = CsvEntry(line, normalize_address(address), clean_name(name))
        except SubscriberError as exc:
            problems.append(f"line {line}: {exc.message}")
            continue
        first = seen.setdefault(entry.address.lower(), line)
        if first != line:
            problems.append(f"line {line}: {entry.address} is already on line {first}")
            continue
        entries.append(entry)
    if problems:
        raise CsvImportError(path, problems)
    return entries


def _rows(text: str) -> Iterator[tuple[int, str, str]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    address_col, name_col = 0, 1
    first = True
    for row in reader:
        if not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
            continue
        if first and not any("@" in cell for cell in row):
            address_col, name_col = _header_columns(row)
            first = False
            continue
        first = False
        address = row[address_col] if address_col < len(row) else ""
        name = row[name_col] if 0 <= name_col < len(row) else ""
        yield reader.line_num, address, name


def _header_columns(header: list[str]) -> tuple[int, int]:
    names = [cell.strip().lower() for cell in header]
    address_col = next((i for i, n in enumerate(names) if n in _ADDRESS_COLUMNS), 0)
    name_col = names.index("name") if "name" in names else -1
    return address_col, name_col


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
