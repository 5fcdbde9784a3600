"""The HTTP/1.1 server in front of ``swfeed serve``'s ASGI app, built to face the public.

uvicorn leaves a connection that never finishes its request head open for good, counts
connections only to refuse new ones (so a crowd of stalled clients starves everyone), and
logs every failed ``accept`` when the process runs out of file descriptors. This server reads
each request with h11 on asyncio and keeps every client on a short lead:

- **Deadlines.** The request head must arrive within ``head_timeout`` seconds, the body
  within ``body_timeout``, the next request on a kept-alive connection within
  ``idle_timeout``; a response must be taken within ``write_timeout``. Heads over
  ``max_head_bytes`` get 431, bodies over ``max_body_bytes`` 413.
- **A connection cap that sheds, never starves.** At most ``max_connections`` at once (and
  never more than the file limit allows, leaving room for the store and the files it
  serves), at most ``max_per_client`` from one address. A new connection over a cap closes
  the *oldest connection that is still waiting on its client* (head, body or keep-alive
  idle): stalled clients make room for new ones instead of locking them out. Only when
  every connection is busy with a response is the newcomer refused (503).
- **A log that cannot flood.** Each kind of event is logged at most once per
  ``LOG_INTERVAL`` seconds with the count of the others, whatever a client does.

The app gets the whole body (already read, within its deadline) in one ``http.request``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import signal
import socket
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote_to_bytes

import h11

log = logging.getLogger("swfeed.serve")

ASGIApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[MutableMapping[str, Any]]],
        Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ],
    Awaitable[None],
]
#: File descriptors kept free for the store, served files, templates and worker threads.
RESERVED_FILES = 64
#: Connections taken from the kernel's queue in one go (asyncio accepts this many at once
#: before any is served, so they too must fit under the file limit).
BACKLOG = 64
LOG_INTERVAL = 10.0
READ_CHUNK = 65_536


@dataclass(frozen=True, slots=True)
class Limits:
    """How long and how much the server waits for and takes from a client."""

    head_timeout: float = 10.0
    body_timeout: float = 30.0
    idle_timeout: float = 5.0
    write_timeout: float = 30.0
    shutdown_timeout: float = 5.0
    max_connections: int = 1024
    max_per_client: int = 64
    max_head_bytes: int = 16_384
    max_body_bytes: int = 1_048_576


def connection_cap(wanted: int, file_limit: int | None = None) -> int:
    """``wanted``, lowered to what the process's file limit leaves room for."""
    if file_limit is None:
        file_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if file_limit == resource.RLIM_INFINITY:
        return wanted
    return max(8, min(wanted, file_limit - RESERVED_FILES - BACKLOG))


class RateLimitedLog:
    """Log each kind of event at most once per ``interval``; count the ones held back."""

    def __init__(self, logger: logging.Logger, interval: float = LOG_INTERVAL) -> None:
        self.logger = logger
        self.interval = interval
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def event(self, kind: str, message: str) -> None:
        now = time.monotonic()
        last = self._last.get(kind)
        if last is not None and now - last < self.interval:
            self._held[kind] = self._held.get(kind, 0) + 1
            return
        held = self._held.pop(kind, 0)
        more = f" (and {held} more in the last {now - last:.0f}s)" if held and last else ""
        self._last[kind] = now
        self.logger.warning("%s: %s%s", kind, message, more)


@dataclass(eq=False)
class Connection:
    """One client connection and what it is doing."""

    writer: asyncio.StreamWriter
    client: str
    waiting: bool = True  # waiting on the client (head, body, keep-alive), so sheddable
    opened: float = field(default_factory=time.monotonic)

    def abort(self) -> None:
        self.writer.transport.abort()


class _Refused(Exception):
    """The request cannot be taken; answer with this status and close."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class Lifespan:
    """The ASGI lifespan protocol: the app's startup before the first request is served,
    its shutdown after the last. An app that does not speak it (raises at once) is served
    without; a startup the app reports as failed stops the server."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.inbox: asyncio.Queue[MutableMapping[str, Any]] = asyncio.Queue()
        self.outbox: asyncio.Queue[MutableMapping[str, Any]] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None
        self.supported = True

    async def startup(self) -> None:
        self.task = asyncio.create_task(self._run())
        await self.inbox.put({"type": "lifespan.startup"})
        reply = await self._reply()
        if reply.get("type") == "lifespan.startup.failed":
            raise RuntimeError(f"the app failed to start: {reply.get('message', '')}")

    async def shutdown(self) -> None:
        if not self.supported or self.task is None or self.task.done():
            return
        await self.inbox.put({"type": "lifespan.shutdown"})
        await self._reply()

    async def _run(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}}
        try:
            await self.app(scope, self.inbox.get, self.outbox.put)
        except Exception:  # an app without lifespan support raises on the scope type
            self.supported = False
        await self.outbox.put({"type": "lifespan.unsupported"})

    async def _reply(self) -> MutableMapping[str, Any]:
        return await self.outbox.get()


class HttpServer:
    """Serves one ASGI app; ``run()`` blocks until ``should_exit`` is set or a signal."""

    def __init__(self, app: ASGIApp, host: str, port: int, limits: Limits | None = None) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.limits = limits or Limits()
        self.cap = connection_cap(self.limits.max_connections)
        self.connections: dict[Connection, None] = {}  # oldest first
        self.log = RateLimitedLog(log)
        self.should_exit = False
        self.started = False
        self._ready = threading.Event()

    # -- running ------------------------------------------------------------------------

    def run(self, sockets: list[socket.socket] | None = None) -> None:
        """Serve until stopped (SIGINT/SIGTERM in the main thread, or ``should_exit``)."""
        asyncio.run(self.serve(sockets))

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(self._loop_error)
        self._watch_signals(loop)
        if sockets:
            servers = [
                await asyncio.start_server(self._accept, sock=s, backlog=BACKLOG) for s in sockets
            ]
        else:
            servers = [
                await asyncio.start_server(self._accept, self.host, self.port, backlog=BACKLOG)
            ]
        lifespan = Lifespan(self.app)
        await lifespan.startup()
        self.started = True
        self._ready.set()
        try:
            while not self.should_exit:
                await asyncio.sleep(0.1)
        finally:
            for listener in servers:
                listener.close()
            await self._drain_connections()
            await lifespan.shutdown()

    def _watch_signals(self, loop: asyncio.AbstractEventLoop) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self._stop)

    def _stop(self) -> None:
        self.should_exit = True

    async def _drain_connections(self) -> None:
        """Let responses under way finish (briefly), then close everything."""
        deadline = time.monotonic() + self.limits.shutdown_timeout
        for conn in [c for c in self.connections if c.waiting]:
            conn.abort()
        while any(not c.waiting for c in self.connections) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for conn in list(self.connections):
            conn.abort()

    def _loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        self.log.event("server_error", f"{context.get('message', '')} {error or ''}".strip())

    # -- connections --------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        conn = Connection(writer, str(peer[0]) if peer else "")
        if not self._make_room(conn.client):
            self.log.event("connection_refused", "every connection is busy responding")
            await _refuse(writer, 503, self.limits.write_timeout)
            return
        self.connections[conn] = None
        try:
            await _Exchange(self, conn, reader).run()
        except (OSError, TimeoutError, h11.ProtocolError, asyncio.IncompleteReadError):
            pass
        finally:
            self.connections.pop(conn, None)
            writer.transport.abort()

    def _make_room(self, client: str) -> bool:
        """Shed the oldest waiting connection over a cap; False if none can go."""
        mine = [c for c in self.connections if c.client == client]
        if len(mine) >= self.limits.max_per_client and not self._shed(mine, "per-client"):
            return False
        if len(self.connections) >= self.cap:
            return self._shed(list(self.connections), "total")
        return True

    def _shed(self, candidates: list[Connection], which: str) -> bool:
        for conn in candidates:
            if conn.waiting:
                self.connections.pop(conn, None)
                conn.abort()
                self.log.event(
                    "connection_shed", f"{which} connection cap reached; closed the oldest idle"
                )
                return True
        return False


class _Exchange:
    """The requests of one connection, one after another (HTTP/1.1 keep-alive)."""

    def __init__(self, server: HttpServer, conn: Connection, reader: asyncio.StreamReader) -> None:
        self.server = server
        self.limits = server.limits
        self.conn = conn
        self.reader = reader
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=self.limits.max_head_bytes)

    async def run(self) -> None:
        deadline = self.limits.head_timeout
        while not self.server.should_exit:
            self.conn.waiting = True
            try:
                request = await asyncio.wait_for(self._head(), deadline)
                body = await asyncio.wait_for(self._body(request), self.limits.body_timeout)
            except TimeoutError:
                self.server.log.event("client_timeout", "a client was too slow; closed")
                return
            except _Refused as refused:
                await self._refuse(refused)
                return
            if request is None:
                return
            self.conn.waiting = False
            if not await self._respond(request, body):
                return
            deadline = self.limits.idle_timeout

    async def _next_event(self) -> Any:
        while True:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                raise _Refused(exc.error_status_hint, str(exc)) from None
            if event is not h11.NEED_DATA:
                return event
            data = await self.reader.read(READ_CHUNK)
            self.h11.receive_data(data)

    async def _head(self) -> h11.Request | None:
        event = await self._next_event()
        if isinstance(event, h11.ConnectionClosed):
            return None
        if not isinstance(event, h11.Request):
            raise _Refused(400, "expected a request")
        size = len(event.target) + sum(len(k) + len(v) + 4 for k, v in event.headers)
        if size > self.limits.max_head_bytes:  # h11 checks only a head that came in pieces
            raise _Refused(431, "request head too large")
        return event

    async def _body(self, request: h11.Request | None) -> bytes:
        if request is None:
            return b""
        if self.h11.they_are_waiting_for_100_continue:
            await self._write(h11.InformationalResponse(status_code=100, headers=[]))
        body = bytearray()
        while True:
            event = await self._next_event()
            if isinstance(event, h11.EndOfMessage):
                return bytes(body)
            if isinstance(event, h11.Data):
                body += event.data
                if len(body) > self.limits.max_body_bytes:
                    raise _Refused(413, "request body too large")
            else:
                raise _Refused(400, "the request ended early")

    async def _respond(self, request: h11.Request, body: bytes) -> bool:
        """Run the app for one request; True if the connection can take another."""
        sender = _ResponseSender(self, request.method == b"HEAD")
        try:
            await self.server.app(_scope(request, self.conn.writer), _receiver(body), sender)
        except Exception as exc:  # the app's fault: answer 500 if nothing went out yet
            self.server.log.event("app_error", f"{type(exc).__name__}: {exc}")
            if not sender.started:
                await self._refuse(_Refused(500, "internal error"))
            return False
        if self.h11.our_state is not h11.DONE or self.h11.their_state is not h11.DONE:
            return False
        self.h11.start_next_cycle()
        return True

    async def _refuse(self, refused: _Refused) -> None:
        with contextlib.suppress(h11.LocalProtocolError, OSError, TimeoutError):
            body = f"{refused.status} {refused}\n".encode()
            headers = [*_basic_headers(len(body)), (b"connection", b"close")]
            await self._write(_response(refused.status, headers))
            await self._write(h11.Data(data=body))
            await self._write(h11.EndOfMessage())

    async def _write(self, event: Any) -> None:
        data = self.h11.send(event)
        if data:
            self.conn.writer.write(data)
            await asyncio.wait_for(self.conn.writer.drain(), self.limits.write_timeout)


class _ResponseSender:
    """The ASGI ``send`` of one request."""

    def __init__(self, exchange: _Exchange, head_only: bool) -> None:
        self.exchange = exchange
        self.head_only = head_only
        self.started = False
        self.status = 500
        self.headers: list[tuple[bytes, bytes]] = []

    async def __call__(self, message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            self.headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", [])]
            return
        if message["type"] != "http.response.body":
            return
        if not self.started:
            self.started = True
            headers = [(b"date", formatdate(usegmt=True).encode()), *self.headers]
            await self.exchange._write(_response(self.status, headers))
        chunk = bytes(message.get("body", b""))
        if chunk and not self.head_only:
            await self.exchange._write(h11.Data(data=chunk))
        if not message.get("more_body", False):
            await self.exchange._write(h11.EndOfMessage())


def _response(status: int, headers: list[tuple[bytes, bytes]]) -> h11.Response:
    try:
        reason = HTTPStatus(status).phrase.encode("ascii")
    except ValueError:
        reason = b""
    return h11.Response(status_code=status, headers=headers, reason=reason)


def _scope(request: h11.Request, writer: asyncio.StreamWriter) -> dict[str, Any]:
    raw_path, _, query = request.target.partition(b"?")
    peer = writer.get_extra_info("peername")
    local = writer.get_extra_info("sockname")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": request.http_version.decode("ascii"),
        "method": request.method.decode("ascii"),
        "scheme": "http",
        "path": unquote_to_bytes(raw_path).decode("utf-8", "replace"),
        "raw_path": raw_path,
        "query_string": query,
        "root_path": "",
        "headers": [(name.lower(), value) for name, value in request.headers],
        "client": (peer[0], peer[1]) if peer else None,
        "server": (local[0], local[1]) if local else None,
    }


def _receiver(body: bytes) -> Callable[[], Awaitable[MutableMapping[str, Any]]]:
    """The ASGI ``receive``: the whole body once, then a disconnect."""
    sent = False

    async def receive() -> MutableMapping[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _basic_headers(length: int) -> list[tuple[bytes, bytes]]:
    return [
        (b"date", formatdate(usegmt=True).encode()),
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(length).encode()),
    ]


async def _refuse(writer: asyncio.StreamWriter, status: int, timeout: float) -> None:
    """Answer ``status`` to a connection before reading it, and close it."""
    body = f"{status} busy, try again shortly\n".encode()
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}".encode(), b"retry-after: 1"]
    lines += [name + b": " + value for name, value in _basic_headers(len(body))]
    writer.write(b"\r\n".join([*lines, b"connection: close", b"", body]))
    with contextlib.suppress(OSError, TimeoutError):
        await asyncio.wait_for(writer.drain(), timeout)
    writer.transport.abort()
