"""A real HTTP server on 127.0.0.1 for tests: fixture files and hostile behaviours.

``FixtureServer`` runs ``ThreadingHTTPServer`` (HTTP/1.1, keep-alive) in a daemon thread and
records every request it sees (GET and POST, with what a POST sent). Routes map a path to a
handler; helpers below build the handlers: plain bodies, conditional GET, redirects, slow
drips, huge and gzip-bomb bodies, status codes, and sequences of those. Unrouted paths
(``/robots.txt`` included) are 404.
"""

from __future__ import annotations

import gzip
import io
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from swfeed.config import Config

DATA = Path(__file__).resolve().parent / "data" / "remote"
EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "sources-example.yaml"
Handler = Callable[[BaseHTTPRequestHandler], None]


@dataclass(frozen=True)
class Seen:
    """One request the server received (``body``: what a POST sent)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


def send(
    request: BaseHTTPRequestHandler,
    status: int,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> None:
    """Write a complete response with a Content-Length."""
    request.send_response(status)
    for name, value in (headers or {}).items():
        request.send_header(name, value)
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    if body and request.command != "HEAD":
        request.wfile.write(body)


def body(
    data: bytes | str, content_type: str = "text/html; charset=utf-8", **headers: str
) -> Handler:
    """Always answer 200 with ``data``."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    extra = {"Content-Type": content_type, **{k.replace("_", "-"): v for k, v in headers.items()}}
    return lambda request: send(request, 200, raw, extra)


def fixture(name: str, content_type: str = "text/html; charset=utf-8", **headers: str) -> Handler:
    """Serve ``tests/data/remote/<name>``."""
    return body((DATA / name).read_bytes(), content_type, **headers)


def status(code: int, **headers: str) -> Handler:
    """Answer ``code`` with an empty body."""
    extra = {k.replace("_", "-"): v for k, v in headers.items()}
    return lambda request: send(request, code, b"", extra)


def redirect(location: str, code: int = 302) -> Handler:
    return status(code, Location=location)


def conditional(data: bytes, content_type: str, etag: str, last_modified: str) -> Handler:
    """200 with both validators; 304 when the request carries either of them."""

    def handle(request: BaseHTTPRequestHandler) -> None:
        validators = {"ETag": etag, "Last-Modified": last_modified}
        if request.headers.get("If-None-Match") == etag or (
            request.headers.get("If-None-Match") is None
            and request.headers.get("If-Modified-Since") == last_modified
        ):
            send(request, 304, b"", validators)
        else:
            send(request, 200, data, {"Content-Type": content_type, **validators})

    return handle


def sequence(*handlers: Handler) -> Handler:
    """The first request gets the first handler, and so on; the last one repeats."""
    calls = iter(handlers)
    last: list[Handler] = [handlers[-1]]

    def handle(request: BaseHTTPRequestHandler) -> None:
        handler = next(calls, last[0])
        handler(request)

    return handle


def drip(total: int, interval: float, *, in_headers: bool = False) -> Handler:
    """Send ``total`` bytes one at a time, ``interval`` seconds apart (body or headers)."""

    def handle(request: BaseHTTPRequestHandler) -> None:
        try:
            if in_headers:
                request.wfile.write(b"HTTP/1.1 200 OK\r\n")
                for _ in range(total):
                    request.wfile.write(b"X")
                    request.wfile.flush()
                    time.sleep(interval)
                return
            request.send_response(200)
            request.send_header("Content-Type", "text/html; charset=utf-8")
            request.send_header("Content-Length", str(total))
            request.end_headers()
            request.wfile.flush()
            for _ in range(total):
                request.wfile.write(b"x")
                request.wfile.flush()
                time.sleep(interval)
        except OSError:
            request.close_connection = True

    return handle


def huge(size: int, *, declare_length: bool = True) -> Handler:
    """A ``size``-byte body, sent in 64 KiB chunks (with or without Content-Length)."""

    def handle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "text/html")
        if declare_length:
            request.send_header("Content-Length", str(size))
        else:
            request.send_header("Connection", "close")
            request.close_connection = True
        request.end_headers()
        chunk = b"a" * 65536
        try:
            for start in range(0, size, len(chunk)):
                request.wfile.write(chunk[: size - start])
        except OSError:
            request.close_connection = True

    return handle


def gzipped(data: bytes, content_type: str = "text/html; charset=utf-8") -> Handler:
    return body(gzip.compress(data), content_type, Content_Encoding="gzip")


def gzip_bomb(size: int) -> Handler:
    """``size`` zero bytes, gzip-compressed (about 1000:1)."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9) as stream:
        block = b"\0" * (1 << 20)
        for _ in range(size // len(block)):
            stream.write(block)
    return body(buffer.getvalue(), "text/html", Content_Encoding="gzip")


def deflated(data: bytes, *, raw: bool = False) -> Handler:
    packer = zlib.compressobj(wbits=-15 if raw else 15)
    packed = packer.compress(data) + packer.flush()
    return body(packed, "text/html; charset=utf-8", Content_Encoding="deflate")


@dataclass
class FixtureServer:
    """A threaded HTTP server on ``host`` (port chosen by the OS) with recorded requests."""

    host: str = "127.0.0.1"
    tls: ssl.SSLContext | None = None
    routes: dict[str, Handler] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        server = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                seen = Seen(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length) if length else b"",
                )
                server.requests.append(seen)
                handler = server.routes.get(self.path)
                if handler is None:
                    send(self, 404, b"not found", {"Content-Type": "text/plain"})
                else:
                    handler(self)

            do_POST = do_GET  # noqa: N815 (the name http.server calls)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._httpd = ThreadingHTTPServer((self.host, 0), RequestHandler)
        if self.tls is not None:
            self._httpd.socket = self.tls.wrap_socket(self._httpd.socket, server_side=True)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def url(self, path: str = "/", host: str | None = None) -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{host or self.host}:{self.port}{path}"

    def hits(self, path: str) -> int:
        """How many requests for ``path`` the server saw."""
        return sum(1 for seen in self.requests if seen.path == path)

    def serve(self, path: str, handler: Handler) -> str:
        """Route ``path`` to ``handler``; returns its URL."""
        self.routes[path] = handler
        return self.url(path)

    def start(self) -> FixtureServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


@contextmanager
def running(host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> Iterator[FixtureServer]:
    server = FixtureServer(host, tls).start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class FakeClock:
    """Monotonic time that only moves when slept; records every sleep."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


FAST_HTTP: dict[str, Any] = {
    "connect_timeout": 1.0,
    "total_timeout": 3.0,
    "min_interval": 0,
    "retries": 0,
    "retry_backoff": 0,
    "allow_private_addresses": True,
}


def make_config(*sources: dict[str, Any], timezone: str = "Europe/London") -> Config:
    """A valid site config with the given ``sources`` entries."""
    return Config.model_validate(
        {
            "site": {
                "title": "SecurityWomen",
                "url": "https://www.securitywomen.org/",
                "description": "News on women, peace and security.",
                "timezone": timezone,
                "author": {"name": "SecurityWomen"},
            },
            "sources": list(sources),
        }
    )


def bounded(seconds: float, work: Callable[[], Any]) -> Any:
    """Run ``work`` in a thread; fail the test if it takes longer than ``seconds``."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # handed to the test thread below
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise AssertionError(f"did not finish within {seconds} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def serve_wix(server: FixtureServer) -> None:
    """A Wix-shaped site (``tests/data/remote/wix``): the blog feed, the listing (two
    pages) and the nine posts, at the paths Wix uses."""
    server.serve("/blog-feed.xml", fixture("wix/blog-feed.xml", "application/rss+xml"))
    server.serve("/news", fixture("wix/news.html"))
    server.serve("/news/page/2", fixture("wix/news-page-2.html"))
    for page in (DATA / "wix" / "post").glob("*.html"):
        server.serve(f"/post/{page.stem}", fixture(f"wix/post/{page.name}"))


def example_entry(kind: str) -> dict[str, Any]:
    """config/sources-example.yaml's first entry of ``kind``, as written."""
    sources = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))["sources"]
    return dict(next(s for s in sources if s["kind"] == kind))
