"""Article files: YAML front matter between ``---`` lines, then a Markdown body.

``read_article_file`` turns one file's bytes into a validated ``FrontMatter`` and the body,
or raises ``ArticleFileError`` listing every fault with ``path:line`` and the fix. The
front matter is parsed with the config's strict YAML loader (no duplicate keys, no aliases,
YAML 1.2 scalars) and validated like the config (``extra="forbid"``). Nothing here touches
the file system; the caller reads the bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from swfeed.errors import ConfigError, ContentError, Location, SwfeedError
from swfeed.languages import clean_tag
from swfeed.models import day_moment

if TYPE_CHECKING:  # YAML is loaded when a file is parsed: a fetch with nothing new needs none
    from swfeed.yamlfile import YamlDocument

_FENCE_LINE = re.compile(r"---[ \t]*\r?\n?\Z")
_CLOSE_LINE = re.compile(r"(---|\.\.\.)[ \t]*\r?\n?\Z")
_DATE_HINT = "Write an ISO 8601 date: 2026-01-05, 2026-01-05 09:30 or 2026-01-05T09:30:00+01:00."


class ArticleFileError(SwfeedError):
    """Everything wrong with one article file; the other files still publish."""

    def __init__(self, errors: list[ContentError]) -> None:
        super().__init__(f"{len(errors)} problem(s) in an article file", hint="")
        self.errors = errors

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)


def _parse_when(value: Any) -> date | datetime:
    """A date or date-time from ISO 8601 text (YAML 1.2 leaves timestamps as strings)."""
    if isinstance(value, datetime | date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a date such as 2026-01-05, got {type(value).__name__}")
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not a valid ISO 8601 date or date-time") from None
    if parsed.tzinfo is not None and parsed.utcoffset() is None:
        raise ValueError(f"{text!r} has a time zone without an offset")
    return parsed


def _as_list(value: Any) -> Any:
    """Let ``categories: Rwanda`` mean ``categories: [Rwanda]``."""
    return [value] if isinstance(value, str) else value


def _stripped_unique(values: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        if value.strip():
            seen.setdefault(value.strip(), None)
    return list(seen)


def _language_tag(value: str) -> str:
    tag = clean_tag(value)
    if tag is None:
        raise PydanticCustomError(
            "language_tag",
            "not a language tag",
            {"hint": "Write a BCP 47 tag such as fr, ar or pt-BR (language, then region)."},
        )
    return tag


When = Annotated[date | datetime, BeforeValidator(_parse_when)]
Language = Annotated[str, Strict(), AfterValidator(_language_tag)]
Text = Annotated[str, Strict(), Field(min_length=1)]
Names = Annotated[list[Annotated[str, Strict()]], BeforeValidator(_as_list)]


class ImageMatter(BaseModel):
    """``image:`` of an article: where the picture is, what it shows, who made it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    src: Text = Field(description="Absolute http(s) URL, or a path relative to the article file.")
    alt: Annotated[str, Strict()] = Field(
        description="What the picture shows, for readers who cannot see it."
    )
    credit: Annotated[str, Strict()] = Field("", description="Photographer or owner.")


class FrontMatter(BaseModel):
    """The front matter fields of one article (see content/README.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Text = Field(description="The headline, plain text.")
    date: When = Field(description="When it was published; without a zone: the site's zone.")
    updated: When | None = Field(None, description="When it was last changed (optional).")
    id: Text | None = Field(
        None, description="Stable id; default: the URL the article was first stored with."
    )
    url: Text | None = Field(None, description="Canonical URL (absolute, or relative to the site).")
    slug: Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")] | None = Field(
        None,
        description="The URL is the source's link_pattern with this slug; default: from "
        "the file name.",
    )
    summary: Annotated[str, Strict()] | None = Field(
        None, description="One or two sentences; default: the first paragraph."
    )
    authors: Names = Field(default_factory=list, description="Author names.")
    categories: Names = Field(default_factory=list, description="Category names.")
    image: ImageMatter | None = Field(None, description="The lead image.")
    external_url: Text | None = Field(None, description="The full story elsewhere (http/https).")
    external_source: Text | None = Field(None, description="Name of that other site.")
    language: Language | None = Field(
        None, description="BCP 47 tag when the article is not in the site's language (fr, ar)."
    )
    draft: Annotated[bool, Strict()] = Field(False, description="true: not published.")

    @model_validator(mode="after")
    def _consistent(self) -> FrontMatter:
        if self.url is not None and self.slug is not None:
            raise ValueError("give either url or slug, not both")
        if self.updated is not None and _sort_key(self.updated) < _sort_key(self.date):
            raise ValueError("updated is earlier than date")
        return self

    @property
    def clean_authors(self) -> tuple[str, ...]:
        return tuple(_stripped_unique(self.authors))

    @property
    def clean_categories(self) -> tuple[str, ...]:
        return tuple(_stripped_unique(self.categories))


def _sort_key(value: date | datetime) -> tuple[date, time]:
    """Order dates and (naive or aware) date-times well enough for a sanity check."""
    if isinstance(value, datetime):
        return (value.date(), value.time())
    return (value, time.min)


def localize(value: date | datetime, zone: ZoneInfo) -> datetime:
    """Aware datetime: naive values take ``zone``; a date alone is ``day_moment`` (noon UTC
    that day, so readers in any zone from UTC-11 to UTC+11 show that day).

    A wall time that does not exist (the spring-forward gap) or exists twice (autumn) is
    read with ``fold=0``: the offset in force before the change.
    """
    if not isinstance(value, datetime):
        return day_moment(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=zone)
    return value


@dataclass(frozen=True, slots=True)
class ArticleFile:
    """One parsed article file: its front matter, body text and where the body starts."""

    path: Path
    matter: FrontMatter
    body: str
    body_line: int
    doc: YamlDocument

    def locate(self, *key: str) -> Location:
        """Where a front matter key's value (or its nearest parent) is written."""
        return self.doc.locate(key, value=True)


def decode(data: bytes, path: Path) -> str:
    """UTF-8 text (a leading BOM is dropped); other bytes are refused with their line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ContentError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x})",
            location=Location(path, line, column),
            hint="Save the file as UTF-8 (most editors: 'Save with encoding').",
        ) from None


def split_front_matter(text: str, path: Path) -> tuple[str, str, int]:
    """(YAML text, Markdown body, 1-based line number where the body starts)."""
    lines = text.splitlines(keepends=True)
    if not lines or not _FENCE_LINE.match(lines[0]):
        raise ContentError(
            "the file does not start with front matter",
            location=Location(path, 1, 1),
            hint="Start the file with a line '---', the fields (title:, date:, ...), "
            "and another line '---'; see content/README.md.",
        )
    for number, line in enumerate(lines[1:], start=1):
        if _CLOSE_LINE.match(line):
            return "".join(lines[1:number]), "".join(lines[number + 1 :]), number + 2
    raise ContentError(
        "the front matter is never closed",
        location=Location(path, 1, 1),
        hint="Add a line '---' after the last front matter field.",
    )


MAX_FRONT_MATTER_BYTES = 65_536
"""The largest front matter read (a real one is under a kilobyte; YAML parsing is slow)."""


def parse_front_matter(yaml_text: str, path: Path) -> tuple[FrontMatter, YamlDocument]:
    """Validate the YAML between the fences; every fault names path:line and the key."""
    from swfeed.yamlfile import load_yaml, validation_errors

    size = len(yaml_text.encode("utf-8"))
    if size > MAX_FRONT_MATTER_BYTES:
        raise ContentError(
            f"the front matter is {size:,} bytes; the limit is {MAX_FRONT_MATTER_BYTES:,} bytes",
            location=Location(path, 1, 1),
            hint="Keep the fields short and put long text in the body below the second '---'.",
        )
    try:
        doc = load_yaml(yaml_text, path, line_offset=1, expand_env=False)
    except ConfigError as exc:
        raise ArticleFileError([as_content_error(exc)]) from None
    if not isinstance(doc.data, dict):
        raise ContentError(
            "the front matter must be 'key: value' lines",
            location=Location(path, 2, 1),
            hint="Write fields such as 'title: ...' and 'date: 2026-01-05'.",
        )
    try:
        return FrontMatter.model_validate(doc.data), doc
    except ValidationError as exc:
        found = validation_errors(exc, doc, model=FrontMatter)
        errors = [as_content_error(error) for error in found]
        raise ArticleFileError(errors) from None


def as_content_error(error: ConfigError) -> ContentError:
    """The same fault, reported as a problem of one article file."""
    location = error.location or Location("?")
    message = f"{error.key}: {error.message}" if error.key else error.message
    hint = error.hint
    if error.key.split(".")[0] in ("date", "updated") and not hint:
        hint = _DATE_HINT
    return ContentError(message, location=location, hint=hint or None)


def read_article_file(data: bytes, path: Path) -> ArticleFile:
    """Bytes of one ``.md`` file -> ``ArticleFile``; raises ContentError/ArticleFileError."""
    yaml_text, body, body_line = split_front_matter(decode(data, path), path)
    matter, doc = parse_front_matter(yaml_text, path)
    return ArticleFile(path, matter, body, body_line, doc)
