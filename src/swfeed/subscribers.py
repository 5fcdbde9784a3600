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

    The first row is a header only when it names known columns (``email``, ``address``,
    ``e-mail`` or ``mail``, and ``name``, in any case and order); the columns are then found
    by name. Otherwise it is data, like every other row: the address first, the name second.
    Malformed CSV (a quote never closed, text after a closing quote) is an error naming the
    line where the row starts.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CsvImportError(path, [f"cannot read the file: {exc}"]) from None
    rows, problems = _rows(text)
    entries: list[CsvEntry] = []
    seen: dict[str, int] = {}
    for line, address, name in rows:
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
        raise CsvImportError(path, sorted(problems, key=_line_number))
    return entries


def _rows(text: str) -> tuple[list[tuple[int, str, str]], list[str]]:
    """(line, address, name) of each data row, and the file's structural problems."""
    records, problems = _records(text)
    if not records:
        return [], problems
    header_line, first = records[0]
    columns = _header_columns(first)
    if columns is None:
        columns = (0, 1)
    elif columns[0] < 0:
        known = ", ".join(_ADDRESS_COLUMNS)
        problem = f"line {header_line}: the header names no address column (one of: {known})"
        return [], [problem, *problems]
    else:
        records = records[1:]
    return [(line, *_cells(row, columns)) for line, row in records], problems


def _records(text: str) -> tuple[list[tuple[int, list[str]]], list[str]]:
    """Each row that is not blank or a ``#`` comment, with the line it starts on.

    Reading stops at malformed CSV, which is the one problem then returned.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for row in reader:
            if any(cell.strip() for cell in row) and not row[0].lstrip().startswith("#"):
                records.append((start, row))
            start = reader.line_num + 1
    except csv.Error as exc:
        return records, [f"line {start}: malformed CSV: {_csv_problem(exc)}"]
    return records, []


def _cells(row: list[str], columns: tuple[int, int]) -> tuple[str, str]:
    address_col, name_col = columns
    address = row[address_col] if address_col < len(row) else ""
    name = row[name_col] if 0 <= name_col < len(row) else ""
    return address, name


def _header_columns(row: list[str]) -> tuple[int, int] | None:
    """(address column or -1, name column or -1) if ``row`` is a header; None for data."""
    names = [cell.strip().lower() for cell in row]
    if not any(name in _ADDRESS_COLUMNS or name == "name" for name in names):
        return None
    address_col = next((i for i, n in enumerate(names) if n in _ADDRESS_COLUMNS), -1)
    return address_col, names.index("name") if "name" in names else -1


def _csv_problem(exc: csv.Error) -> str:
    if "unexpected end of data" in str(exc):
        return "a quoted field that starts here is never closed (a missing '\"')"
    return str(exc)


def _line_number(problem: str) -> int:
    number = problem.removeprefix("line ").partition(":")[0]
    return int(number) if number.isdigit() else 0


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
