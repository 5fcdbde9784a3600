"""Importing subscribers from a CSV file: every line checked, all or nothing.

Columns: the address, the name, and the topics (category slugs or names, separated by
commas, semicolons or spaces inside the cell; empty for every topic).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from swfeed.errors import SwfeedError
from swfeed.mailinglist.addresses import SubscriberError, clean_name, normalize_address
from swfeed.slug import slugify

_ADDRESS_COLUMNS = ("email", "address", "e-mail", "mail")
_TOPIC_SEPARATORS = re.compile(r"[,;|\s]+")


class CsvImportError(SwfeedError):
    """A CSV import found problems; nothing was imported."""

    default_hint = "Fix the lines listed and import the file again; nothing was imported."

    def __init__(self, path: Path, problems: list[str], hint: str | None = None) -> None:
        lines = "\n".join(f"  {problem}" for problem in problems)
        count = f"{len(problems)} problem{'' if len(problems) == 1 else 's'}"
        super().__init__(f"{path}: {count}, nothing imported:\n{lines}", hint)
        self.problems = problems


@dataclass(frozen=True, slots=True)
class CsvEntry:
    """One valid line of an import file."""

    line: int
    address: str
    name: str
    topics: tuple[str, ...] | None = None  # None: no topics column (keep what is stored)


def parse_topics(text: str) -> tuple[str, ...]:
    """``"Policy; rwanda"`` -> ``("policy", "rwanda")``: slugs, sorted, unique."""
    return tuple(sorted({slugify(part) for part in _TOPIC_SEPARATORS.split(text)} - {""}))


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
    for line, address, name, topics in rows:
        try:
            chosen = None if topics is None else parse_topics(topics)
            entry = CsvEntry(line, normalize_address(address), clean_name(name), chosen)
        except SubscriberError as exc:
            problems.append(f"line {line}: {exc.message}")
            continue
        first = seen.setdefault(entry.address.lower(), line)
        if first != line:
            problems.append(f"line {line}: {entry.address} is already on line {first}")
            continue
        entries.append(entry)
    if problems:
        raise CsvImportError(path, sorted(problems, key=_line_number), _separator_hint(text))
    return entries


SEMICOLON_HINT = (
    "The file separates its columns with semicolons (as spreadsheets set to many languages "
    "save CSV). Save it as comma-separated CSV (in LibreOffice: field delimiter ','; in Excel: "
    "'CSV UTF-8 (Comma delimited)'), or replace the ';' between the columns with ','."
)


def _separator_hint(text: str) -> str | None:
    """The semicolon hint when the first non-comment line is split by ';' and not by ','."""
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            return SEMICOLON_HINT if ";" in line and "," not in line else None
    return None


Row = tuple[int, str, str, str | None]
Columns = tuple[int, int, int]


def _rows(text: str) -> tuple[list[Row], list[str]]:
    """(line, address, name, topics) of each data row, and the file's structural problems."""
    records, problems = _records(text)
    if not records:
        return [], problems
    header_line, first = records[0]
    columns = _header_columns(first)
    if columns is None:
        columns = (0, 1, -1)
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


def _cells(row: list[str], columns: Columns) -> tuple[str, str, str | None]:
    address_col, name_col, topics_col = columns
    address = row[address_col] if address_col < len(row) else ""
    name = row[name_col] if 0 <= name_col < len(row) else ""
    topics = (row[topics_col] if topics_col < len(row) else "") if topics_col >= 0 else None
    return address, name, topics


def _header_columns(row: list[str]) -> Columns | None:
    """(address, name, topics columns, each -1 if absent) if ``row`` is a header; None for
    data."""
    names = [cell.strip().lower() for cell in row]
    if not any(name in (*_ADDRESS_COLUMNS, "name", "topics") for name in names):
        return None
    address_col = next((i for i, n in enumerate(names) if n in _ADDRESS_COLUMNS), -1)
    name_col = names.index("name") if "name" in names else -1
    return address_col, name_col, names.index("topics") if "topics" in names else -1


def _csv_problem(exc: csv.Error) -> str:
    if "unexpected end of data" in str(exc):
        return "a quoted field that starts here is never closed (a missing '\"')"
    return str(exc)


def _line_number(problem: str) -> int:
    number = problem.removeprefix("line ").partition(":")[0]
    return int(number) if number.isdigit() else 0
