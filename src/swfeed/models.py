"""The vocabulary shared by every stage: articles, their images, digest issues.

Plain frozen dataclasses with timezone-aware datetimes. Sources build ``Article`` values,
the store keeps them, feeds and the digest read them. Nothing here does I/O.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time
from typing import Any


def day_moment(day: date) -> datetime:
    """The moment of an article that gives only its day: noon UTC, so every reader from
    UTC-11 to UTC+11 (and the site's own zone, in that range) shows that very day."""
    return datetime.combine(day, time(12), tzinfo=UTC)


def _require_aware(name: str, value: datetime | None) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")


@dataclass(frozen=True, slots=True)
class Image:
    """An article's lead image: absolute URL, alt text, and who took it."""

    url: str
    alt: str = ""
    credit: str = ""
    mime_type: str | None = None
    length: int | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class Article:
    """One news item, as every source yields it and the store keeps it.

    ``title`` and ``summary`` are plain text; ``body_html`` is sanitized HTML with absolute
    URLs. ``updated`` is None when the source does not say; the store then fills it in
    (the published time, or the time an edit was first seen). ``language`` is the BCP 47
    tag the source gives for this article (None: the site's language). ``day_only``: the
    source gives only the day (``published`` is then that day's ``day_moment``, give or
    take the seconds that keep same-day stories in order), so the story may be shown from
    the start of that day.
    """

    id: str
    url: str
    title: str
    published: datetime
    source: str
    summary: str = ""
    body_html: str = ""
    updated: datetime | None = None
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    image: Image | None = None
    external_url: str | None = None
    external_source: str | None = None
    language: str | None = None
    day_only: bool = False

    def __post_init__(self) -> None:
        _require_aware("published", self.published)
        _require_aware("updated", self.updated)

    @property
    def shown_from(self) -> datetime:
        """The earliest moment the story may be shown: its published time, or for a story
        that gives only its day, the start of that day (UTC)."""
        if self.day_only:
            return datetime.combine(self.published.astimezone(UTC).date(), time(0), UTC)
        return self.published

    @property
    def modified(self) -> datetime:
        """The time of the last change: ``updated`` when known, else ``published``."""
        return self.updated if self.updated is not None else self.published

    def content_hash(self) -> str:
        """A hash of everything a reader sees, to tell an edit from a re-fetch."""
        data = self.to_json_dict()
        data.pop("updated", None)
        data.pop("source", None)
        data.pop("day_only", None)
        blob = json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()

    def to_json_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict (datetimes as ISO 8601), keys in field order.

        ``language`` is left out when None, so articles stored before it existed keep their
        content hash (an upgrade must not make every article look edited). Built field by
        field rather than with ``dataclasses.asdict``, which deep-copies every value: the
        store calls this for every article it writes.
        """
        data = {name: getattr(self, name) for name in _ARTICLE_FIELDS}
        data["published"] = self.published.isoformat()
        data["updated"] = self.updated.isoformat() if self.updated else None
        data["authors"] = list(self.authors)
        data["categories"] = list(self.categories)
        if self.image is not None:
            data["image"] = {name: getattr(self.image, name) for name in _IMAGE_FIELDS}
        if self.language is None:
            del data["language"]
        return data

    @classmethod
    def from_json_dict(cls, data: dict[str, Any]) -> Article:
        """The inverse of ``to_json_dict``."""
        image = data.get("image")
        return cls(
            id=data["id"],
            url=data["url"],
            title=data["title"],
            published=datetime.fromisoformat(data["published"]),
            source=data["source"],
            summary=data.get("summary", ""),
            body_html=data.get("body_html", ""),
            updated=datetime.fromisoformat(data["updated"]) if data.get("updated") else None,
            authors=tuple(data.get("authors", ())),
            categories=tuple(data.get("categories", ())),
            image=Image(**image) if image else None,
            external_url=data.get("external_url"),
            external_source=data.get("external_source"),
            language=data.get("language"),
            day_only=bool(data.get("day_only", False)),
        )


_ARTICLE_FIELDS = tuple(field.name for field in fields(Article))
_IMAGE_FIELDS = tuple(field.name for field in fields(Image))


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """An article as the store knows it: with when swfeed first saw it.

    ``visible_from`` is when subscribers may first see it: the later of ``first_seen`` and
    the published time (articles dated in the future are held back until then).
    """

    article: Article
    first_seen: datetime
    visible_from: datetime


@dataclass(frozen=True, slots=True)
class Headline:
    """A story's title and link as an issue showed it (for the archive's index)."""

    title: str
    url: str


@dataclass(frozen=True, slots=True)
class DigestIssue:
    """One weekly digest, frozen once created: re-sending never changes what it says.

    ``html`` is already CSS-inlined and ``text`` wrapped; both still carry the
    per-recipient placeholders that delivery fills in. ``headlines`` are the stories
    shown, ``left_out`` how many more it took up without showing (over ``max_articles`` or
    the size budget).
    """

    period: str
    cutoff: datetime
    subject: str
    html: str
    text: str
    article_ids: tuple[str, ...]
    created: datetime
    previous_cutoff: datetime | None = None
    archive_url: str = ""
    headlines: tuple[Headline, ...] = ()
    left_out: int = 0


#: Per-recipient placeholders in a frozen issue's HTML and text. They are plain ASCII words
#: (safe inside HTML attributes, text, and 8bit MIME bodies); delivery substitutes them per
#: recipient (HTML-escaped in the HTML part) and the web archive with a generic value.
UNSUBSCRIBE_URL_TOKEN = "swfeed-unsubscribe-url-7f3a9c"  # noqa: S105
RECIPIENT_ADDRESS_TOKEN = "swfeed-recipient-address-7f3a9c"  # noqa: S105
PREFERENCES_URL_TOKEN = "swfeed-preferences-url-7f3a9c"  # noqa: S105
