"""Posted forms: read with a size cap, then turned into plain values (pure but the read).

Field names are the public interface (a page of the admin's own may post them): the
sign-up form has ``email``, ``name``, ``topic`` (repeated), ``ft`` (the form token),
``website`` (the honeypot: people never see it, bots fill it), ``embed`` and ``page``;
the preference form has ``topic``, ``pause_until`` (YYYY-MM-DD) and ``action`` (save,
leave or erase).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qs

from starlette.requests import Request

MAX_FORM_BYTES = 16_384
MAX_PAGE_LENGTH = 500
HONEYPOT = "website"

Fields = Mapping[str, list[str]]


class FormTooLarge(Exception):
    """The body is over ``MAX_FORM_BYTES``."""


async def read_form(request: Request, limit: int = MAX_FORM_BYTES) -> Fields:
    """The fields of a url-encoded body (empty for any other kind), read up to ``limit``."""
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        return {}
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise FormTooLarge
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise FormTooLarge
    return parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)


def first_value(fields: Fields, name: str) -> str:
    """The first value of a field ('' when absent)."""
    values = fields.get(name) or [""]
    return values[0]


def chosen_topics(fields: Fields, offered: Collection[str]) -> tuple[str, ...]:
    """The ticked topics among those offered, sorted; () when none (meaning all)."""
    return tuple(sorted({value for value in fields.get("topic", []) if value in offered}))


@dataclass(frozen=True, slots=True)
class SignupForm:
    """A posted sign-up form."""

    email: str
    name: str
    topics: tuple[str, ...]
    token: str
    honeypot: str
    embed: bool
    page: str | None


def signup_form(fields: Fields, offered: Collection[str]) -> SignupForm:
    """The sign-up form's values."""
    page = first_value(fields, "page").strip()
    return SignupForm(
        email=first_value(fields, "email"),
        name=first_value(fields, "name"),
        topics=chosen_topics(fields, offered),
        token=first_value(fields, "ft"),
        honeypot=first_value(fields, HONEYPOT),
        embed=first_value(fields, "embed") == "1",
        page=page[:MAX_PAGE_LENGTH] if page.startswith(("https://", "http://")) else None,
    )


@dataclass(frozen=True, slots=True)
class PreferencesForm:
    """A posted preference form."""

    action: str
    topics: tuple[str, ...]
    pause_until: date | None
    pause_error: bool


def preferences_form(fields: Fields, offered: Collection[str]) -> PreferencesForm:
    """The preference form's values; a pause date that is not a date is an error."""
    action = first_value(fields, "action")
    text = first_value(fields, "pause_until").strip()
    try:
        pause = date.fromisoformat(text) if text else None
    except ValueError:
        pause = None
    return PreferencesForm(
        action=action if action in ("save", "leave", "erase") else "save",
        topics=chosen_topics(fields, offered),
        pause_until=pause,
        pause_error=bool(text) and pause is None,
    )
