"""DNS lookups for ``swfeed doctor`` (dnspython): the system's resolver, or one server asked.

A name that does not exist, or has no record of the type, is an empty answer; a server that
does not answer (timeout, SERVFAIL) is a ``LookupFailed`` the check reports as such.
"""

from __future__ import annotations

from typing import Any

import dns.exception
import dns.resolver

TIMEOUT = 5.0


class LookupFailed(Exception):
    """No answer could be had (as opposed to an answer that there is nothing)."""


class Dns:
    """Asks one resolver: the system's, or ``nameserver`` (``IP`` or ``IP:PORT``)."""

    def __init__(self, nameserver: str | None = None) -> None:
        if nameserver is None:
            self.resolver = dns.resolver.Resolver()
        else:
            host, port = split_nameserver(nameserver)
            self.resolver = dns.resolver.Resolver(configure=False)
            self.resolver.nameservers = [host]
            self.resolver.port = port
        self.resolver.lifetime = TIMEOUT
        self.resolver.timeout = TIMEOUT

    def txt(self, name: str) -> list[str]:
        """Each TXT record's strings joined (as SPF, DKIM and DMARC read them)."""
        return [
            b"".join(rdata.strings).decode("utf-8", "replace") for rdata in self._ask(name, "TXT")
        ]

    def addresses(self, name: str) -> list[str]:
        """The A and AAAA addresses of ``name``."""
        return [rdata.to_text() for kind in ("A", "AAAA") for rdata in self._ask(name, kind)]

    def mx(self, name: str) -> list[tuple[int, str]]:
        """(preference, host) of each MX record, lowest first."""
        records = [
            (int(rdata.preference), rdata.exchange.to_text().rstrip("."))
            for rdata in self._ask(name, "MX")
        ]
        return sorted(records)

    def _ask(self, name: str, kind: str) -> list[Any]:
        try:
            return list(self.resolver.resolve(name, kind, search=False))
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.exception.DNSException as exc:
            raise LookupFailed(f"{kind} {name}: {exc}") from None


def split_nameserver(text: str) -> tuple[str, int]:
    """``"127.0.0.1:5353"`` -> ("127.0.0.1", 5353); ``"::1"`` or ``"[::1]:53"`` for IPv6."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, int(rest.lstrip(":") or 53)
    if text.count(":") == 1:
        host, _, port = text.partition(":")
        return host, int(port)
    return text, 53
