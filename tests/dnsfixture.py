"""A DNS server on 127.0.0.1 (dnslib) answering from a zone written in the test, UDP and TCP."""

from __future__ import annotations

import socket
from types import TracebackType

from dnslib.server import DNSLogger, DNSServer
from dnslib.zoneresolver import ZoneResolver


def _free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 right now."""
    for _ in range(20):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
            with socket.socket() as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port for the test DNS server")


class DnsServer:
    """Serves ``zone`` (zone-file text) on 127.0.0.1; ``nameserver`` is ``IP:PORT``."""

    def __init__(self, zone: str) -> None:
        resolver = ZoneResolver(zone)
        quiet = DNSLogger(log="-request,-reply,-truncated,-error,-recv,-send,-data", prefix=False)
        self.port = _free_port()
        self.servers = [
            DNSServer(resolver, address="127.0.0.1", port=self.port, tcp=tcp, logger=quiet)
            for tcp in (False, True)
        ]

    @property
    def nameserver(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> DnsServer:
        for server in self.servers:
            server.start_thread()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for server in self.servers:
            server.stop()
            server.server.server_close()
