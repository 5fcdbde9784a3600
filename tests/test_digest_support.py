"""Helpers for the digest tests (no tests here): configs, articles, a loopback web server."""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import lxml.html

from swfeed.config import Config
from swfeed.models import Article, Image
from swfeed.sources import build_source
from swfeed.store import Database
from swfeed.store.articles import ArticleStore
from tests.conftest import ROOT

SITE = "https://news.example.org/"
SAMPLE_CONTENT = ROOT / "content"
LOGO_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="80" viewBox="0 0 400 80">'
    '<rect width="80" height="80" rx="16" fill="#7a1f4f"/>'
    '<text x="40" y="55" font-family="Georgia,serif" font-size="44" fill="#fff" '
    'text-anchor="middle">S</text>'
    '<text x="100" y="54" font-family="Georgia,serif" font-size="38" font-weight="bold" '
    'fill="#7a1f4f">SecurityWomen</text></svg>'
)


def document(html: str) -> lxml.html.HtmlElement:
    """An HTML document parsed by lxml."""
    return lxml.html.document_fromstring(html)


def make_config(
    tmp_path: Path,
    content: Path | None = None,
    site: dict[str, Any] | None = None,
    output: dict[str, Any] | None = None,
    feeds: dict[str, Any] | None = None,
    **digest: Any,
) -> Config:
    """A validated config rooted in tmp_path, with a digest section (overrides in kwargs)
    and, if given, a feeds section."""
    folder = content or tmp_path / "content"
    folder.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {
        "site": {
            "title": "SecurityWomen",
            "url": SITE,
            "description": "News on women, peace and security.",
            "timezone": "Europe/London",
            "author": {"name": "SecurityWomen", "email": "info@news.example.org"},
            **(site or {}),
        },
        "sources": [{"kind": "content", "name": "site", "path": str(folder)}],
        "store": {"path": "var/swfeed.sqlite3"},
        "output": {"path": "public", **(output or {})},
        "digest": {
            "postal_address": "SecurityWomen\n1 Example Street\nLondon EC1A 1AA",
            # the test stories are dated January 2026 and issues made all year: every one
            # counts as fresh unless a test asks for digest.max_age itself
            "max_age": "1000w",
            **digest,
        },
    }
    if feeds is not None:
        data["feeds"] = feeds
    return Config.model_validate(data, context={"base_dir": tmp_path})


def make_article(n: int, published: datetime | None = None, **changes: Any) -> Article:
    """Article ``n``: an image, a category, a summary; newer for higher ``n`` by default."""
    base = Article(
        id=f"tag:news.example.org,2026:{n}",
        url=f"{SITE}news/story-{n}",
        title=f"Story number {n} about women in peacekeeping",
        published=published or datetime(2026, 1, 1, 9, tzinfo=UTC) + timedelta(hours=n),
        source="site",
        summary=f"Summary of story {n}: what happened, who was there and why it matters.",
        body_html=f"<p>Body of story {n}.</p>",
        categories=("Peacekeeping" if n % 2 else "Policing",),
        image=Image(f"{SITE}media/story-{n}.jpg", alt=f"Photo for story {n}"),
    )
    return replace(base, **changes)


def store_articles(db: Database, articles: list[Article], seen: datetime) -> None:
    """Store ``articles`` as first seen at ``seen`` (one fetch of source "site")."""
    state = {"fetch": seen.isoformat()}
    ArticleStore(db).apply_fetch("site", articles, [], state, seen)


def sample_articles(config: Config, now: datetime) -> list[Article]:
    """The bundled sample site's articles, loaded by the real content source."""
    result = build_source(config.sources[0], config).fetch({}, now)
    assert not result.errors, result.errors
    return result.articles


def serve_sample_media(root: Path) -> None:
    """Copy the sample images where the content source says they are published."""
    target = root / "media" / "site" / "news" / "images"
    shutil.copytree(SAMPLE_CONTENT / "news" / "images", target, dirs_exist_ok=True)
    (root / "logo.svg").write_text(LOGO_SVG, encoding="utf-8")


class _QuietHandler(SimpleHTTPRequestHandler):
    requests: list[str]

    def log_message(self, format: str, *args: Any) -> None:
        self.requests.append(self.path)


@contextmanager
def static_server(root: Path) -> Iterator[tuple[str, list[str]]]:
    """Serve ``root`` on 127.0.0.1; yields (base URL ending in /, paths requested)."""
    requests: list[str] = []
    handler = type("Handler", (_QuietHandler,), {"requests": requests})
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
