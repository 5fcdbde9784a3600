"""The HTTP/1.1 server of ``swfeed serve``: deadlines, size limits, the shedding cap, the log."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from swfeed.httpserver import HttpServer, Limits, RateLimitedLog, connection_cap

QUICK = Limits(head_timeout=0.5, body_timeout=0.5, idle_timeout=0.5, max_per_client=3)


async def echo(request: Request) -> PlainTextResponse:
    body = await request.body()
    return PlainTextResponse(f"{request.method} {len(body)}")


@contextmanager
def running(limits: Limits, app: Starlette | None = None) -> Iterator[int]:
    """An app (default: echo) on the server in a thread; its port."""
    app = app or Starlette(routes=[Route("/", echo, methods=["GET", "POST"])])
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    server = HttpServer(app, "127.0.0.1", 0, limits)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    try:
        yield int(listener.getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()


def exchange(port: int, data: bytes, wait: float = 5.0) -> bytes:
    """Send ``data``, then read until the server closes (or ``wait`` runs out)."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


def test_half_a_head_is_cut_off_at_the_deadline() -> None:
    """A client that never finishes its request head is closed after the head deadline."""
    with running(QUICK) as port:
        started = time.monotonic()
        assert exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n") == b""
        assert time.monotonic() - started < 5


def test_a_stalled_body_is_cut_off_at_the_deadline() -> None:
    """A body that stops short of its Content-Length is closed after the body deadline."""
    head = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
    with running(QUICK) as port:
        assert exchange(port, head + b"t=1") == b""


def test_a_body_over_the_limit_gets_413() -> None:
    """A body larger than max_body_bytes is refused with 413."""
    limits = Limits(max_body_bytes=1000)
    head = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n"
    with running(limits) as port:
        assert exchange(port, head + b"x" * 5000).startswith(b"HTTP/1.1 413 ")


def test_a_head_over_the_limit_gets_431() -> None:
    """A request head larger than max_head_bytes is refused with 431."""
    with running(Limits(max_head_bytes=2048)) as port:
        reply = exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 4096 + b"\r\n\r\n")
        assert reply.startswith(b"HTTP/1.1 431 ")


def test_a_complete_request_is_answered() -> None:
    """A whole request gets the app's answer, with its body."""
    request = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nt=1"
    with running(QUICK) as port:
        reply = exchange(port, request)
    assert reply.startswith(b"HTTP/1.1 200 ")
    assert reply.endswith(b"POST 3")


def test_over_the_per_client_cap_the_oldest_stalled_connection_goes() -> None:
    """A new connection over the cap closes the oldest one still waiting on its client."""
    slow = Limits(head_timeout=30, max_per_client=3)
    with running(slow) as port:
        stalled = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(3)]
        for sock in stalled:
            sock.sendall(b"GET / HTTP/1.1\r\n")
        time.sleep(0.2)
        reply = exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert reply.startswith(b"HTTP/1.1 200 ")
        assert stalled[0].recv(10) == b""
        for sock in stalled:
            sock.close()


def test_the_cap_fits_under_the_file_limit() -> None:
    """The connection cap leaves room under a low file limit for everything else."""
    assert connection_cap(1024, 256) < 256 - 32
    assert connection_cap(100, 100_000) == 100


def test_the_log_is_rate_limited(caplog: pytest.LogCaptureFixture) -> None:
    """A thousand events of one kind in a burst write one line."""
    logger = logging.getLogger("test.ratelimit")
    limited = RateLimitedLog(logger, interval=60)
    with caplog.at_level(logging.WARNING, logger="test.ratelimit"):
        for _ in range(1000):
            limited.event("client_timeout", "closed")
    assert len(caplog.records) == 1


def test_the_apps_startup_runs_before_the_first_request_and_its_shutdown_at_the_end() -> None:
    """The server speaks the ASGI lifespan: startup before serving, shutdown after."""
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    app = Starlette(routes=[Route("/", echo, methods=["GET"])], lifespan=lifespan)
    with running(QUICK, app) as port:
        assert events == ["startup"]
        assert exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert events == ["startup", "shutdown"]


def test_an_app_without_lifespan_support_is_served() -> None:
    """A bare ASGI app that refuses the lifespan scope still gets its requests."""

    async def bare(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise RuntimeError("only http")
        await PlainTextResponse("bare")(scope, receive, send)

    with running(QUICK, bare) as port:  # type: ignore[arg-type]
        reply = exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert reply.endswith(b"bare")
