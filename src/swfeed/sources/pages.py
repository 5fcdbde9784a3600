"""A fetched response, and the validators a source keeps per URL in its state.

A source's state is ``{"pages": {url: {"etag", "last_modified", "sha256"}}, "config": ...}``:
what makes the next request conditional, the hash of the body last processed in full (a
server that ignores validators and sends the same bytes again is treated like a 304), and
the fingerprint of the source settings those were made with.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import httpx

from swfeed.sources.charset import Markup, decode


@dataclass(frozen=True, slots=True)
class Validators:
    """What makes the next request conditional, and the hash of the body last processed."""

    etag: str | None = None
    last_modified: str | None = None
    sha256: str | None = None

    def headers(self) -> dict[str, str]:
        found = {}
        if self.etag:
            found["If-None-Match"] = self.etag
        if self.last_modified:
            found["If-Modified-Since"] = self.last_modified
        return found

    def to_state(self) -> dict[str, str]:
        return {
            k: v
            for k, v in (
                ("etag", self.etag),
                ("last_modified", self.last_modified),
                ("sha256", self.sha256),
            )
            if v
        }

    @classmethod
    def from_state(cls, data: Any) -> Validators | None:
        if not isinstance(data, dict):
            return None
        return cls(*(_text(data.get(key)) for key in ("etag", "last_modified", "sha256")))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True, slots=True)
class Page:
    """One response: the final URL after redirects, status, headers, decompressed body."""

    url: str
    status: int
    headers: httpx.Headers
    body: bytes = b""

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def media_type(self) -> str:
        return self._content_type.split(";", 1)[0].strip().lower()

    @property
    def _content_type(self) -> str:
        return str(self.headers.get("content-type", ""))

    @property
    def charset(self) -> str | None:
        for param in self._content_type.split(";")[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset":
                return value.strip().strip("\"'")
        return None

    def text(self, markup: Markup) -> str:
        return decode(self.body, self.charset, markup)

    @property
    def validators(self) -> Validators:
        return Validators(
            etag=self.headers.get("etag"),
            last_modified=self.headers.get("last-modified"),
            sha256=hashlib.sha256(self.body).hexdigest(),
        )


def page_validators(state: dict[str, Any], url: str) -> Validators | None:
    """The validators ``state`` saved for ``url``."""
    pages = state.get("pages")
    return Validators.from_state(pages.get(url)) if isinstance(pages, dict) else None


def state_with(pages: dict[str, Validators], config: str | None = None) -> dict[str, Any]:
    """A source state that remembers ``pages``' validators and the fingerprint of the
    settings they were made with (see ``RemoteSource.fingerprint``)."""
    state: dict[str, Any] = {"pages": {url: v.to_state() for url, v in sorted(pages.items())}}
    if config is not None:
        state["config"] = config
    return state
