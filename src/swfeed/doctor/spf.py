"""A small SPF evaluator (RFC 7208) for ``swfeed doctor``: does a record allow an address?

Covers what sending domains publish: ``ip4``, ``ip6``, ``a``, ``mx`` (with CIDR lengths),
``include``, ``exists``, ``redirect`` and ``all``, with the limit of 10 DNS lookups. Macros
(``%{i}``) and ``ptr`` are not expanded: a term using them matches nothing.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from swfeed.doctor.dns import Dns

MAX_LOOKUPS = 10
_QUALIFIERS = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}
_LOOKUP_TERMS = ("a", "mx", "include", "exists", "redirect")

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class SpfError(Exception):
    """The record is broken (permerror): several records, a loop, too many lookups."""


def spf_records(dns: Dns, domain: str) -> list[str]:
    """The ``v=spf1`` TXT records of ``domain``."""
    return [text for text in dns.txt(domain) if text.lower().split(" ")[0] == "v=spf1"]


@dataclass
class _Budget:
    lookups: int = 0
    seen: set[str] = field(default_factory=set)

    def spend(self) -> None:
        self.lookups += 1
        if self.lookups > MAX_LOOKUPS:
            raise SpfError(f"more than {MAX_LOOKUPS} DNS lookups")


def check(dns: Dns, ip: str, domain: str) -> str:
    """pass, fail, softfail, neutral, none or permerror for mail from ``domain`` sent by
    ``ip``."""
    try:
        return _evaluate(dns, ipaddress.ip_address(ip), domain, _Budget())
    except SpfError:
        return "permerror"


def _evaluate(dns: Dns, ip: IpAddress, domain: str, budget: _Budget) -> str:
    if domain.lower() in budget.seen:
        raise SpfError(f"{domain} includes itself")
    budget.seen.add(domain.lower())
    records = spf_records(dns, domain)
    if not records:
        return "none"
    if len(records) > 1:
        raise SpfError(f"{domain} has {len(records)} SPF records")
    redirect = None
    for term in records[0].split()[1:]:
        if term.lower().startswith("redirect="):
            redirect = term.split("=", 1)[1]
            continue
        if "=" in term.split(":")[0]:
            continue  # another modifier (exp=)
        qualifier = _QUALIFIERS.get(term[0])
        mechanism = term[1:] if qualifier else term
        if _matches(dns, ip, domain, mechanism, budget):
            return qualifier or "pass"
    if redirect is not None:
        budget.spend()
        result = _evaluate(dns, ip, redirect, budget)
        return "permerror" if result == "none" else result
    return "neutral"


def _matches(dns: Dns, ip: IpAddress, domain: str, mechanism: str, budget: _Budget) -> bool:
    name, _, argument = mechanism.partition(":")
    name = name.lower()
    if "%" in argument or name == "ptr":
        return False
    if name in _LOOKUP_TERMS:
        budget.spend()
    if name == "all":
        return True
    if name in ("ip4", "ip6"):
        try:
            return ip in ipaddress.ip_network(argument, strict=False)
        except ValueError:
            raise SpfError(f"{mechanism} is not a network") from None
    if name.startswith(("a/", "mx/")) or name in ("a", "mx"):
        return _host_match(dns, ip, domain, name, argument)
    if name == "include":
        return _evaluate(dns, ip, argument, budget) == "pass"
    if name == "exists":
        return bool(dns.addresses(argument))
    return False


def _host_match(dns: Dns, ip: IpAddress, domain: str, name: str, argument: str) -> bool:
    """``a``/``mx`` with an optional domain and CIDR length (``a:host/24``, ``mx/24``)."""
    kind, _, cidr = name.partition("/")
    target, _, arg_cidr = argument.partition("/")
    prefix = cidr or arg_cidr
    host = target or domain
    hosts = [exchange for _, exchange in dns.mx(host)] if kind == "mx" else [host]
    for each in hosts:
        for address in dns.addresses(each):
            length = int(prefix) if prefix else (32 if "." in address else 128)
            network = ipaddress.ip_network(f"{address}/{length}", strict=False)
            if network.version == ip.version and ip in network:
                return True
    return False
