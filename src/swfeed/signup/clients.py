"""Who is asking: the client's address (behind trusted proxies only), and its rate key."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from datetime import datetime

from swfeed.mailinglist.tokens import keyed_hash
from swfeed.signup.settings import Network

UNKNOWN = "unknown"


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    ip = _ip(address)
    return ip is not None and any(ip in network for network in proxies)


def client_address(peer: str | None, forwarded_for: str | None, proxies: Sequence[Network]) -> str:
    """The client's IP address: the peer's, unless the peer is a trusted proxy; then the
    nearest address in ``X-Forwarded-For`` that is not itself a trusted proxy."""
    if not peer:
        return UNKNOWN
    if not _trusted(peer, proxies):
        return peer
    hops = [hop.strip() for hop in (forwarded_for or "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if _ip(hop) is None:
            return peer  # a malformed header: count the proxy, never a made-up client
        if not _trusted(hop, proxies):
            return str(_ip(hop))
    return peer


def client_key(secret: bytes, address: str, now: datetime) -> str:
    """The client's rate-limit key: a keyed hash that changes every UTC day, so the
    store never holds the address, nor a value that follows one client for long."""
    return keyed_hash(secret, f"client-{now.date().isoformat()}", address)[:32]
