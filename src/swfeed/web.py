"""``swfeed serve``: the output folder over HTTP, and the unsubscribe endpoint.

A Starlette app on swfeed's own HTTP/1.1 server (``httpserver``: deadlines, a connection
cap that sheds stalled clients, a log that cannot flood), for deployments without another
web server:

- Static files from ``output.path`` with the feed media types (``application/rss+xml``,
  ``application/atom+xml``, ``application/feed+json``, told apart by their content),
  a strong ETag from the content, Last-Modified, 304 for If-None-Match / If-Modified-Since,
  and gzip for text types (with its own ETag and ``Vary: Accept-Encoding``).
- A feed requested by a browser (its Accept header prefers ``text/html``) gets the same
  bytes as ``application/xml`` (JSON Feed: ``application/json``), with an ETag of its own:
  browsers download or show the source of the feed media types, but show XML with the
  feed's stylesheet. Feed readers keep the feed types; every feed response says
  ``Vary: Accept``.
- ``/unsubscribe?t=TOKEN``: GET only shows a confirmation page with a button (mail scanners
  follow links, and must not unsubscribe anyone); POST unsubscribes, from that form or an
  RFC 8058 one-click request (``List-Unsubscribe=One-Click``). Repeating it is harmless; a
  forged or truncated token gets 400 and changes nothing. A store busy for more than two
  seconds does not fail it: the unsubscribe is queued durably beside the store (202) and
  applied a moment later (see ``mailinglist.unsubqueue``); only if even that fails is the
  answer 503 with Retry-After. A GET without a token (the web
  archive copy's "How to unsubscribe" link) shows how to unsubscribe.
  Tokens name the subscriber by an opaque id; those of issues sent by 0.1 (the address)
  still work.
- ``/subscribe``, ``/confirm``, ``/preferences``: the subscriber side (``signup.routes``),
  with the worker that sends confirmation and welcome mails (started with the app).
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import logging
import mimetypes
import os
import socket
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from swfeed.config import Config
from swfeed.delivery.settings import link_keys
from swfeed.errors import StoreError
from swfeed.httpserver import HttpServer
from swfeed.mailinglist.unsubqueue import apply_queued, enqueue, try_apply
from swfeed.signup.forms import FormTooLarge, first_value, read_form
from swfeed.signup.routes import signup_side
from swfeed.signup.service import Unsubscriber, read_unsubscribe, unsubscribe, unsubscriber
from swfeed.store import Database
from swfeed.templating import SiteView, render_template, site_templates, site_view

CACHE_BODY_LIMIT = 2_000_000
#: How long an unsubscribe waits for a busy store before it is queued instead.
STORE_WAIT_SECONDS = 2.0
QUEUE_RETRY_SECONDS = 2.0
RETRY_AFTER_SECONDS = 60
APPLIED, QUEUED = "applied", "queued"
GZIP_MIN_BYTES = 256
MAX_FORM_BYTES = 65_536
_TYPES = {
    ".xsl": "text/xsl",
    ".xslt": "text/xsl",
    ".webmanifest": "application/manifest+json",
    ".opml": "text/x-opml",
}
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}
_PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"


def media_type(path: Path, head: bytes) -> str:
    """The Content-Type of a file: feeds by their root element, others by their suffix."""
    suffix = path.suffix.lower()
    if suffix == ".xml":
        if b"<rss" in head:
            return "application/rss+xml; charset=utf-8"
        if b"<feed" in head and b"http://www.w3.org/2005/Atom" in head:
            return "application/atom+xml; charset=utf-8"
        return "application/xml; charset=utf-8"
    if suffix == ".json" and b"jsonfeed.org/version/" in head:
        return "application/feed+json"
    guessed = _TYPES.get(suffix) or mimetypes.guess_type(path.name)[0]
    guessed = guessed or "application/octet-stream"
    if guessed.startswith("text/") or guessed.endswith(("+xml", "/xml")):
        return f"{guessed}; charset=utf-8"
    return guessed


#: What a feed is served as to a browser: a type it displays (with the feed's stylesheet).
BROWSER_TYPES = {
    "application/rss+xml": "application/xml; charset=utf-8",
    "application/atom+xml": "application/xml; charset=utf-8",
    "application/feed+json": "application/json",
}


def accept_quality(accept: str, media_type: str) -> float:
    """How much an Accept header wants ``media_type``: the q of its most specific range."""
    kind = media_type.split("/", 1)[0]
    best, found = -1, 0.0
    for item in accept.split(","):
        name, *params = (part.strip() for part in item.split(";"))
        name = name.lower()
        rank = {media_type: 2, f"{kind}/*": 1, "*/*": 0}.get(name, -1)
        if rank > best:
            quality = next((p[2:] for p in params if p.lower().startswith("q=")), "1")
            best, found = rank, _q(quality)
    return found


def prefers_html(accept: str, media_type: str) -> bool:
    """True for a browser: the request wants text/html more than ``media_type``."""
    return accept_quality(accept, "text/html") > accept_quality(accept, media_type)


def shown_as(content_type: str, accept: str) -> tuple[str, str | None]:
    """(Content-Type, ETag suffix) for a request: a feed's browser type when it prefers
    HTML (suffix ``-xml``), else the type as is; the suffix is None for non-feeds."""
    kind = content_type.split(";", maxsplit=1)[0]
    if kind not in BROWSER_TYPES:
        return content_type, None
    if prefers_html(accept, kind):
        return BROWSER_TYPES[kind], "-xml"
    return content_type, ""


def compressible(content_type: str) -> bool:
    kind = content_type.split(";", maxsplit=1)[0]
    return kind.startswith("text/") or kind.endswith(("+xml", "/xml", "json", "javascript"))


@dataclass
class Entity:
    """A file's representation: validators, type, and (for small files) its bytes."""

    path: Path
    etag: str
    last_modified: datetime
    content_type: str
    size: int
    body: bytes | None
    _gzipped: bytes | None = field(default=None, repr=False)

    def gzipped(self) -> bytes:
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body or b"", compresslevel=6, mtime=0)
        return self._gzipped


class StaticSite:
    """Files under ``root``, with conditional GET and gzip; entities cached by stat."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._cache: dict[Path, tuple[tuple[int, int, int], Entity]] = {}

    def locate(self, url_path: str) -> Path | None:
        """The file for a URL path, or None (outside the root, hidden, or missing)."""
        parts = [part for part in url_path.split("/") if part]
        if any(part.startswith(".") or "\\" in part or "\0" in part for part in parts):
            return None
        candidate = self.root.joinpath(*parts)
        try:
            resolved = candidate.resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if not resolved.is_relative_to(self.root):
            return None
        return resolved

    def entity(self, path: Path) -> Entity:
        stat = path.stat()
        key = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        cached = self._cache.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        entity = _read_entity(path, stat.st_size, stat.st_mtime)
        self._cache[path] = (key, entity)
        return entity


def _read_entity(path: Path, size: int, mtime: float) -> Entity:
    modified = datetime.fromtimestamp(int(mtime), UTC)
    with path.open("rb") as handle:
        head = handle.read(1024)
        body = head + handle.read() if size <= CACHE_BODY_LIMIT else None
    if body is not None:
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    else:
        etag = f'W/"{size:x}-{int(mtime * 1000):x}"'
    return Entity(path, etag, modified, media_type(path, head), size, body)


def accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding header allows gzip (and not with q=0)."""
    for item in header.split(","):
        name, _, params = item.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            quality = params.strip().removeprefix("q=").strip()
            return not quality or _q(quality) > 0
    return False


def _q(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


def not_modified(
    request_headers: dict[str, str], etags: tuple[str, ...], modified: datetime
) -> bool:
    """RFC 9110 13.1: If-None-Match (weak comparison) wins over If-Modified-Since."""
    if_none_match = request_headers.get("if-none-match")
    if if_none_match is not None:
        wanted = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in wanted or any(tag.removeprefix("W/") in wanted for tag in etags)
    since = request_headers.get("if-modified-since")
    if since is None:
        return False
    try:
        return modified <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False


def folder_url(url_path: str) -> str:
    """The redirect target of a folder asked for without its slash: always a path on this
    host (``//feeds`` is ``/feeds/``, never the host ``feeds``)."""
    parts = [part for part in url_path.split("/") if part]
    return "/" + "".join(quote(part, safe="") + "/" for part in parts)


def static_response(
    site: StaticSite, method: str, url_path: str, headers: dict[str, str], pages: Pages
) -> Response:
    """The response to a GET or HEAD of ``url_path``."""
    path = site.locate(url_path)
    if path is not None and path.is_dir():
        if not url_path.endswith("/"):
            return RedirectResponse(folder_url(url_path), status_code=301)
        path = site.locate(url_path + "index.html")
    if path is None or not path.is_file():
        return pages.render(404, "not_found.html.j2")
    entity = site.entity(path)
    content_type, variant = shown_as(entity.content_type, headers.get("accept", ""))
    zipped = entity.body is not None and compressible(entity.content_type)
    use_gzip = (
        zipped
        and entity.size >= GZIP_MIN_BYTES
        and accepts_gzip(headers.get("accept-encoding", ""))
    )
    suffix = (variant or "") + ("-gz" if use_gzip else "")
    out = _entity_headers(entity, suffix, feed=variant is not None, zipped=zipped)
    if not_modified(headers, (out["ETag"],), entity.last_modified):
        return Response(status_code=304, headers=out)
    if entity.body is None:
        return FileResponse(path, headers=out, media_type=content_type)
    body = entity.gzipped() if use_gzip else entity.body
    if use_gzip:
        out["Content-Encoding"] = "gzip"
    out["Content-Length"] = str(len(body))
    content = b"" if method == "HEAD" else body
    return Response(content, headers=out, media_type=content_type)


def _entity_headers(entity: Entity, suffix: str, *, feed: bool, zipped: bool) -> dict[str, str]:
    """The validators (the entity's ETag with the representation's ``suffix``), caching,
    and Vary: Accept for a feed (its type follows Accept), Accept-Encoding when gzipped."""
    out = {
        "ETag": f'{entity.etag[:-1]}{suffix}"' if suffix else entity.etag,
        "Last-Modified": formatdate(entity.last_modified.timestamp(), usegmt=True),
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
    }
    vary = [name for name, on in (("Accept", feed), ("Accept-Encoding", zipped)) if on]
    if vary:
        out["Vary"] = ", ".join(vary)
    return out


class Pages:
    """The server's HTML pages, rendered from the templates (``templating``)."""

    def __init__(self, config: Config) -> None:
        self.env = site_templates(config)
        self.site = served_site(config)
        self.headers = {**_PAGE_HEADERS, "Content-Security-Policy": page_policy(self.site)}

    def render(self, status: int, template: str, **context: Any) -> HTMLResponse:
        page = render_template(self.env, template, site=self.site, **context)
        return HTMLResponse(page, status_code=status, headers=self.headers)


def served_site(config: Config) -> SiteView:
    """The site as the server's pages show it: a logo swfeed publishes itself (under
    ``output.base_url``, as the sample's is) is linked by its path, so it shows at whatever
    address the server is reached (through the proxy, or 127.0.0.1 while an admin tries it)."""
    site = site_view(config)
    base = config.output_base_url
    return replace(site, logo=_by_path(site.logo, base), logo_dark=_by_path(site.logo_dark, base))


def _by_path(url: str | None, base: str) -> str | None:
    if url is None or not url.startswith(base):
        return url
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def page_policy(site: SiteView) -> str:
    """The pages' Content-Security-Policy: nothing but inline styles, the form posting back,
    and the logos from where they are published ('self' for those linked by their path)."""
    logos = [urlsplit(url) for url in (site.logo, site.logo_dark) if url]
    origins = sorted({f"{url.scheme}://{url.netloc}" if url.netloc else "'self'" for url in logos})
    return f"{_PAGE_POLICY}; img-src {' '.join(origins)}" if origins else _PAGE_POLICY


class Unsubscribe:
    """GET: confirmation page; POST: unsubscribe. The token alone says who."""

    def __init__(self, config: Config, now: Callable[[], datetime], pages: Pages) -> None:
        self.config = config
        self.keys = link_keys(config)
        self.now = now
        self.pages = pages
        self._applier: asyncio.Task[None] | None = None

    async def handle(self, request: Request) -> Response:
        if request.method == "GET" and "t" not in request.query_params:
            return self._help()
        token = request.query_params.get("t", "")
        if request.method == "POST" and not token:
            token = await _form_token(request)
        who = read_unsubscribe(self.keys, token) if token else None
        if who is None:
            return self.pages.render(400, "link_invalid.html.j2")
        if request.method == "POST":
            return await self._post(who)
        address = await run_in_threadpool(self._address, who)
        action = f"?t={quote(token)}"
        return self.pages.render(200, "unsubscribe_confirm.html.j2", address=address, action=action)

    async def _post(self, who: Unsubscriber) -> Response:
        """Unsubscribe: 200 once applied, 202 once durably queued (the store was busy; the
        queue is applied a moment later), else 503 with Retry-After. Never 500."""
        outcome, address = await run_in_threadpool(self._unsubscribe, who)
        if outcome is None:
            page = self.pages.render(503, "unsubscribe_later.html.j2", address=address)
            page.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return page
        if outcome == QUEUED:
            self._apply_queue_soon()
        status = 202 if outcome == QUEUED else 200
        return self.pages.render(status, "unsubscribe_done.html.j2", address=address)

    def _unsubscribe(self, who: Unsubscriber) -> tuple[str | None, str | None]:
        """Apply the unsubscribe (and any queued ones), or queue it; None if neither. With
        the address the link names, when known (None once erased, or while busy)."""
        store, now = self.config.store.path, self.now()
        try:
            with Database(store, busy_timeout=STORE_WAIT_SECONDS) as db:
                apply_queued(db, now)
                found = unsubscribe(db, who, now)
        except (StoreError, sqlite3.Error, OSError):
            pass
        else:
            return APPLIED, found.address if found else None
        try:
            enqueue(store, who.address, now, ident=who.ident)
        except OSError:
            return None, who.address
        return QUEUED, who.address

    def _address(self, who: Unsubscriber) -> str | None:
        """The address a link names, for the confirmation page (None once erased or while
        the store is busy)."""
        try:
            with Database(self.config.store.path, busy_timeout=STORE_WAIT_SECONDS) as db:
                found = unsubscriber(db, who)
        except (StoreError, sqlite3.Error, OSError):
            return None
        return found.address if found else None

    def _apply_queue_soon(self) -> None:
        """Apply the queue in the background, retrying while the store stays busy."""
        if self._applier is None or self._applier.done():
            self._applier = asyncio.get_running_loop().create_task(self._apply_queue())

    async def _apply_queue(self) -> None:
        store = self.config.store.path
        while True:
            await asyncio.sleep(QUEUE_RETRY_SECONDS)
            if await run_in_threadpool(try_apply, store, self.now(), STORE_WAIT_SECONDS):
                return

    def _help(self) -> Response:
        """How to unsubscribe, for readers who came without a personal link."""
        delivery = self.config.delivery
        reply_to = (delivery.reply_to or delivery.from_address) if delivery else None
        mailto = delivery.unsubscribe_mailto if delivery else None
        return self.pages.render(200, "unsubscribe_help.html.j2", reply_to=reply_to, mailto=mailto)


async def _form_token(request: Request) -> str:
    """The ``t`` field of a url-encoded form body (read up to a size limit)."""
    try:
        return first_value(await read_form(request, MAX_FORM_BYTES), "t")
    except FormTooLarge:
        return ""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(config: Config, now: Callable[[], datetime] = _utc_now) -> Starlette:
    """The whole site: /unsubscribe, the subscriber side, then every file of the output folder.

    ``now`` is the server's clock (the time an unsubscription is recorded).
    """
    site = StaticSite(config.output.path)
    pages = Pages(config)

    async def files(request: Request) -> Response:
        headers = {key.lower(): value for key, value in request.headers.items()}
        return await run_in_threadpool(
            static_response, site, request.method, request.scope["path"], headers, pages
        )

    signup = signup_side(config, now, pages.render)
    return Starlette(
        routes=[
            Route("/unsubscribe", Unsubscribe(config, now, pages).handle, methods=["GET", "POST"]),
            *(signup.routes if signup else ()),
            Route("/{path:path}", files, methods=["GET", "HEAD"]),
        ],
        lifespan=signup.lifespan if signup else None,
    )


def server(config: Config, host: str, port: int) -> HttpServer:
    """The server for the app (``run()`` blocks; ``should_exit`` stops it). It keeps no
    access log: that would record unsubscribe tokens, which act as credentials."""
    return HttpServer(create_app(config), host, port)


def serve(config: Config, host: str, port: int) -> None:
    """Serve until interrupted."""
    os.makedirs(config.output.path, exist_ok=True)
    try_apply(config.store.path, _utc_now(), STORE_WAIT_SECONDS)  # left by a stopped server
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    print(f"serving {config.output.path} on http://{_url_host(host)}:{port}/ (Ctrl-C stops)")
    server(config, host, port).run()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host or socket.gethostname()
