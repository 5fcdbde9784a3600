"""The checks of ``swfeed doctor``, each turning lookups into a ``Finding``."""

from __future__ import annotations

import contextlib
import ipaddress
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from typing import TYPE_CHECKING

from swfeed.config import Config, SmtpConfig
from swfeed.delivery.dkim import DkimKey, load_signer
from swfeed.delivery.settings import delivery_config
from swfeed.delivery.smtp import tls_context
from swfeed.doctor import Finding
from swfeed.doctor import spf as spf_eval
from swfeed.doctor.dns import Dns, LookupFailed

if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList

TXT_CHUNK = 255


@dataclass(frozen=True, slots=True)
class Sender:
    """What receivers see of the sender: the From and envelope domains, the DKIM keys, and
    the relay mail leaves through (None for the outbox)."""

    from_domain: str
    envelope_domain: str
    keys: tuple[DkimKey, ...]
    relay: SmtpConfig | None


def sender_of(config: Config) -> Sender:
    """The sender described by the config (reads the DKIM keys)."""
    delivery = delivery_config(config)
    from_domain = str(delivery.from_address).rpartition("@")[2].lower()
    envelope = str(delivery.bounce_address or delivery.from_address).rpartition("@")[2].lower()
    keys = load_signer(delivery.dkim).keys if delivery.dkim is not None else ()
    relay = delivery.smtp if delivery.method == "smtp" else None
    return Sender(from_domain, envelope, keys, relay)


def run_checks(sender: Sender, dns: Dns, relay_ips: list[str] | None = None) -> list[Finding]:
    """Every check, in the order they are printed."""
    ips = relay_ips if relay_ips else _relay_ips(sender, dns)
    findings = [_guard(f"SPF {sender.from_domain}", lambda: spf(dns, sender.from_domain, ips))]
    if sender.envelope_domain != sender.from_domain:
        findings.append(
            _guard(f"SPF {sender.envelope_domain}", lambda: spf(dns, sender.envelope_domain, ips))
        )
    findings += dkim(dns, sender)
    findings.append(_guard(f"DMARC {sender.from_domain}", lambda: dmarc(dns, sender)))
    findings.append(_guard(f"MX {sender.envelope_domain}", lambda: mx(dns, sender)))
    findings.append(starttls(sender.relay))
    return findings


def _guard(check: str, run: Callable[[], Finding]) -> Finding:
    """A check's finding, or a failed one naming the lookup that got no answer."""
    try:
        return run()
    except LookupFailed as exc:
        return Finding(check, False, f"no answer from DNS: {exc}")


def _relay_ips(sender: Sender, dns: Dns) -> list[str]:
    if sender.relay is None:
        return []
    host = sender.relay.host
    with contextlib.suppress(ValueError):
        return [str(ipaddress.ip_address(host))]
    try:
        return dns.addresses(host)
    except LookupFailed:
        return []


def spf(dns: Dns, domain: str, ips: list[str]) -> Finding:
    """One SPF record that allows each of the relay's addresses."""
    check = f"SPF {domain}"
    records = spf_eval.spf_records(dns, domain)
    allow = " ".join(_ip_mechanism(ip) for ip in ips) or "mx"
    if not records:
        return Finding(check, False, "no SPF record", _txt(domain, f"v=spf1 {allow} ~all"))
    if len(records) > 1:
        return Finding(
            check,
            False,
            f"{len(records)} SPF records: receivers treat that as an error (permerror)",
            "one record in their place: " + _txt(domain, _merged(records, ips)),
        )
    if not ips:
        return Finding(check, True, f"{records[0]!r} (no relay configured to check it against)")
    for ip in ips:
        result = spf_eval.check(dns, ip, domain)
        if result != "pass":
            return Finding(
                check,
                False,
                f"{records[0]!r} gives {result} for the relay's address {ip}",
                _txt(domain, _allowing(records[0], ip)),
            )
    return Finding(check, True, f"{records[0]!r} allows the relay ({', '.join(ips)})")


def _merged(records: list[str], ips: list[str]) -> str:
    """One record with every mechanism of ``records`` (and the relay's addresses), ending in
    the first record's ``all``."""
    terms: list[str] = []
    ending = "~all"
    for record in records:
        for term in record.split()[1:]:
            if term.lstrip("+-~?").lower() == "all":
                ending = ending if record is not records[0] else term
            elif term not in terms:
                terms.append(term)
    terms += [_ip_mechanism(ip) for ip in ips if _ip_mechanism(ip) not in terms]
    return " ".join(["v=spf1", *terms, ending])


def _ip_mechanism(ip: str) -> str:
    return f"ip6:{ip}" if ":" in ip else f"ip4:{ip}"


def _allowing(record: str, ip: str) -> str:
    """``record`` with the address added before its last ``all`` (or at its end)."""
    terms = record.split()
    last = terms[-1].lstrip("+-~?").lower() if len(terms) > 1 else ""
    at = len(terms) - 1 if last == "all" else len(terms)
    return " ".join([*terms[:at], _ip_mechanism(ip), *terms[at:]])


def _txt(name: str, value: str) -> str:
    """A zone-file TXT record, its value cut into quoted strings of at most 255 octets."""
    chunks = [value[i : i + TXT_CHUNK] for i in range(0, len(value), TXT_CHUNK)] or [""]
    return f"{name}. TXT " + " ".join(f'"{chunk}"' for chunk in chunks)


def dkim(dns: Dns, sender: Sender) -> list[Finding]:
    """The public key of each configured selector, as published."""
    if not sender.keys:
        return [
            Finding(
                "DKIM",
                False,
                "messages are not signed (no delivery.dkim in the config)",
                "delivery.dkim: domain, selector and private_key_file (`openssl genrsa -out "
                "dkim.pem 2048`); then run doctor again for the DNS record",
            )
        ]
    return [_guard(f"DKIM {key.record_name}", partial(_dkim_key, dns, key)) for key in sender.keys]


def _dkim_key(dns: Dns, key: DkimKey) -> Finding:
    check = f"DKIM {key.record_name}"
    publish = _txt(key.record_name, key.record)
    tags = [_tags(text) for text in dns.txt(key.record_name)]
    tags = [found for found in tags if "p" in found]
    if not tags:
        return Finding(check, False, "no DKIM key published", publish)
    published = tags[0]["p"].replace(" ", "")
    if not published:
        return Finding(check, False, "the published key is revoked (empty p=)", publish)
    if published != key.public:
        return Finding(
            check, False, "the published key is not the configured private key's", publish
        )
    kind = tags[0].get("k", "rsa")
    return Finding(check, True, f"publishes the configured {kind} key")


def _tags(text: str) -> dict[str, str]:
    """``v=DKIM1; k=rsa; p=...`` -> {"v": "DKIM1", "k": "rsa", "p": "..."} (keys lowercased)."""
    tags: dict[str, str] = {}
    for part in text.split(";"):
        name, equals, value = part.partition("=")
        if equals:
            tags[name.strip().lower()] = value.strip()
    return tags


def organizational_domain(domain: str) -> str:
    """The DMARC organizational domain (RFC 7489 §3.2): the public suffix and one label more,
    by the Public Suffix List (``news.example.co.uk`` gives ``example.co.uk``; a domain that
    is itself a public suffix, or a single label, gives itself)."""
    name = domain.lower().rstrip(".")
    return _suffixes().privatesuffix(name) or name


@cache
def _suffixes() -> PublicSuffixList:
    from publicsuffixlist import PublicSuffixList  # the bundled list: read only by doctor

    return PublicSuffixList()


def aligned(domain: str, from_domain: str, mode: str) -> bool:
    """DMARC identifier alignment: strict (``s``) is the same domain, relaxed the same
    organizational domain."""
    if mode == "s":
        return domain.lower() == from_domain.lower()
    return organizational_domain(domain) == organizational_domain(from_domain)


def dmarc(dns: Dns, sender: Sender) -> Finding:
    """A DMARC policy for From's domain, with DKIM or SPF aligned to it."""
    check = f"DMARC {sender.from_domain}"
    tags, where = _dmarc_record(dns, sender.from_domain)
    suggestion = _txt(
        f"_dmarc.{sender.from_domain}",
        f"v=DMARC1; p=none; rua=mailto:dmarc-reports@{sender.from_domain}",
    )
    if tags is None:
        return Finding(check, False, "no DMARC record", suggestion)
    policy = tags.get("p", "").lower()
    if policy not in ("none", "quarantine", "reject"):
        return Finding(
            check, False, f"the record at {where} has no valid p= (got {policy!r})", suggestion
        )
    adkim, aspf = tags.get("adkim", "r").lower(), tags.get("aspf", "r").lower()
    dkim_ok = any(aligned(key.domain, sender.from_domain, adkim) for key in sender.keys)
    spf_ok = aligned(sender.envelope_domain, sender.from_domain, aspf)
    found = (
        f"p={policy} at {where}; DKIM {'aligned' if dkim_ok else 'not aligned'} (adkim={adkim}), "
        f"SPF {'aligned' if spf_ok else 'not aligned'} (aspf={aspf}, envelope "
        f"{sender.envelope_domain})"
    )
    if dkim_ok or spf_ok:
        return Finding(check, True, found)
    return Finding(
        check,
        False,
        found,
        f"delivery.dkim.domain: {sender.from_domain} (sign as the From domain), or "
        "adkim=r in the DMARC record",
    )


def _dmarc_record(dns: Dns, domain: str) -> tuple[dict[str, str] | None, str]:
    """The DMARC tags at ``_dmarc.domain``, else at the organizational domain's."""
    for name in dict.fromkeys([f"_dmarc.{domain}", f"_dmarc.{organizational_domain(domain)}"]):
        for text in dns.txt(name):
            tags = _tags(text)
            if tags.get("v", "").upper() == "DMARC1":
                return tags, name
    return None, ""


def mx(dns: Dns, sender: Sender) -> Finding:
    """The envelope (bounce) domain takes mail, so bounces and complaints come back."""
    domain = sender.envelope_domain
    check = f"MX {domain}"
    publish = f"{domain}. MX 10 <the host that delivers to the bounce mailbox>."
    hosts = dns.mx(domain)
    if not hosts:
        return Finding(check, False, "no MX record: bounces cannot come back", publish)
    if [host for _, host in hosts] in ([""], ["."]):
        return Finding(check, False, "a null MX (RFC 7505): the domain takes no mail", publish)
    return Finding(check, True, ", ".join(f"{pref} {host}" for pref, host in hosts))


def starttls(relay: SmtpConfig | None) -> Finding:
    """The relay offers STARTTLS (or speaks TLS from the start), and swfeed uses it."""
    if relay is None:
        return Finding("STARTTLS", True, "no relay (delivery.method is outbox): not checked")
    check = f"STARTTLS {relay.host}:{relay.port}"
    publish = "a relay that offers STARTTLS, and delivery.smtp.starttls: true"
    try:
        offered = _offers_starttls(relay)
    except (OSError, smtplib.SMTPException) as exc:
        return Finding(check, False, f"cannot reach the relay: {exc}", publish)
    if relay.tls:
        return Finding(check, True, "TLS from the start (delivery.smtp.tls)")
    if not offered:
        return Finding(check, False, "the relay does not offer STARTTLS", publish)
    if not relay.starttls:
        return Finding(
            check,
            False,
            "offered, but delivery.smtp.starttls is false: mail and login go in the clear",
            "delivery.smtp.starttls: true",
        )
    return Finding(check, True, "offered, and used")


def _offers_starttls(relay: SmtpConfig) -> bool:
    conn: smtplib.SMTP
    if relay.tls:
        conn = smtplib.SMTP_SSL(relay.host, relay.port, timeout=10, context=tls_context(relay))
    else:
        conn = smtplib.SMTP(relay.host, relay.port, timeout=10)
    try:
        conn.ehlo()
        return relay.tls or conn.has_extn("starttls")
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            conn.quit()
        conn.close()
