"""Connections only where they are allowed, and never past a deadline.

``GuardedTransport`` is an httpx transport whose network backend resolves each host name
once, checks every address it resolved to against an ``AddressPolicy`` (no loopback, private,
link-local, multicast or cloud-metadata address unless the source opts in), and then connects
to that very address: nothing resolves the name a second time, so DNS rebinding cannot slip a
private address in between the check and the connection. Redirects are new requests, so every
hop is checked.

Every socket read, write and connect is also clamped to a ``Deadline`` shared with the client,
so a server that drips one byte every few seconds is cut off when the request's total time is
up, whether it drips the headers or the body.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import Any

import httpcore
import httpx

from swfeed.errors import SwfeedError

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

METADATA_ADDRESSES = frozenset(
    ip_address(text)
    for text in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)
_NAT64 = ip_network("64:ff9b::/96")


class AddressRefused(SwfeedError):
    """A host resolved to an address swfeed will not connect to."""

    default_hint = (
        "The address is loopback, private, link-local or a cloud metadata endpoint. For a "
        "source on your own network set `http: {allow_private_addresses: true}` on it."
    )


def embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, Teredo, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: IPAddress) -> bool:
    """True for a globally routable unicast address (and whatever it embeds)."""
    if isinstance(address, IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            return is_public(inner)
    return address.is_global and not address.is_multicast and not address.is_reserved


def _unwrap(address: IPAddress) -> IPAddress:
    if isinstance(address, IPv6Address):
        return embedded_ipv4(address) or address
    return address


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Which addresses may be connected to.

    ``allow_private`` opens loopback, private and link-local ranges; ``allowed`` lists extra
    networks that are always fine. Cloud metadata endpoints are refused in every case.
    """

    allow_private: bool = False
    allowed: tuple[IPNetwork, ...] = ()

    def check(self, host: str, address: IPAddress) -> None:
        """Raise ``AddressRefused`` unless ``address`` (which ``host`` resolved to) is fine."""
        plain = _unwrap(address)
        if plain in METADATA_ADDRESSES or address in METADATA_ADDRESSES:
            raise AddressRefused(f"{host} resolves to {address}, a cloud metadata address")
        if any(plain in network for network in self.allowed):
            return
        if self.allow_private or is_public(address):
            return
        raise AddressRefused(f"{host} resolves to {address}, which is not a public address")


class Deadline:
    """The monotonic time by which the current request must be done (None: no deadline).

    One per client; the client is used from one thread at a time.
    """

    def __init__(self) -> None:
        self.at: float | None = None

    @contextmanager
    def running(self, seconds: float) -> Iterator[None]:
        """Set the deadline ``seconds`` from now (never later than an enclosing one)."""
        previous = self.at
        wanted = time.monotonic() + seconds
        self.at = wanted if previous is None else min(previous, wanted)
        try:
            yield
        finally:
            self.at = previous

    def expired(self) -> bool:
        return self.at is not None and time.monotonic() >= self.at

    def clamp(self, timeout: float | None, expired: type[Exception]) -> float | None:
        """``timeout`` cut down to the time left; raise ``expired`` if none is left."""
        if self.at is None:
            return timeout
        left = self.at - time.monotonic()
        if left <= 0:
            raise expired("the request's total time limit was reached")
        return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, deadline: Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._deadline.clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._deadline.clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        limit = self._deadline.clamp(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(
            self._inner.start_tls(ssl_context, server_hostname, limit), self._deadline
        )

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to, in the resolver's order, without duplicates."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
    found: list[IPAddress] = []
    for info in infos:
        address = ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


class GuardedBackend(httpcore.NetworkBackend):
    """Resolve, check every address, connect to a checked one; clamp I/O to the deadline."""

    def __init__(self, policy: AddressPolicy, deadline: Deadline) -> None:
        self._policy = policy
        self._deadline = deadline
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = resolve(host, port)
        for address in addresses:
            self._policy.check(host, address)
        failure: Exception = httpcore.ConnectError(f"{host} has no address")
        for address in addresses:
            limit = self._deadline.clamp(timeout, httpcore.ConnectTimeout)
            try:
                stream = self._inner.connect_tcp(
                    str(address), port, limit, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
                continue
            return _DeadlineStream(stream, self._deadline)
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise AddressRefused(f"unix socket {path}: only TCP connections are made")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


_HTTPCORE_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.NetworkError, httpx.NetworkError),
)


@contextmanager
def _httpx_errors(request: httpx.Request) -> Iterator[None]:
    """Re-raise httpcore's exceptions as their httpx counterparts."""
    try:
        yield
    except Exception as exc:
        for core, mapped in _HTTPCORE_ERRORS:
            if isinstance(exc, core):
                raise mapped(str(exc), request=request) from exc
        raise


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, inner: Iterable[bytes], request: httpx.Request) -> None:
        self._inner = inner
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        with _httpx_errors(self._request):
            yield from self._inner

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()


class GuardedTransport(httpx.BaseTransport):
    """An httpx transport over httpcore pools that use ``GuardedBackend``.

    Plain http has a pool without TLS; the TLS pool (and its costly SSL context) is only made
    when the first https request comes.
    """

    def __init__(
        self, policy: AddressPolicy, deadline: Deadline, tls: Callable[[], ssl.SSLContext]
    ) -> None:
        self._backend = GuardedBackend(policy, deadline)
        self._tls = tls
        self._pools: dict[bytes, httpcore.ConnectionPool] = {}

    def _pool(self, scheme: bytes) -> httpcore.ConnectionPool:
        if scheme not in self._pools:
            self._pools[scheme] = httpcore.ConnectionPool(
                ssl_context=self._tls() if scheme == b"https" else None,
                max_connections=4,
                keepalive_expiry=5.0,
                network_backend=self._backend,
            )
        return self._pools[scheme]

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _httpx_errors(request):
            response = self._pool(request.url.raw_scheme).handle_request(core_request)
        assert isinstance(response.stream, Iterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response.stream, request),
            extensions=response.extensions,
        )

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
