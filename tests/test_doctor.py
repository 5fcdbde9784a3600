"""`swfeed doctor` against a DNS server on 127.0.0.1 serving good and broken zones."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from swfeed.cli import main
from swfeed.config import load_config
from swfeed.doctor import spf
from swfeed.doctor.checks import aligned, organizational_domain, run_checks, sender_of
from swfeed.doctor.dns import Dns, split_nameserver
from tests.dkimkeys import Keys, make_keys, rsa_pem
from tests.dnsfixture import DnsServer
from tests.smtpfixture import SmtpServer, write_config


def txt(name: str, value: str) -> str:
    chunks = [value[i : i + 255] for i in range(0, len(value), 255)]
    return f"{name}. 300 IN TXT " + " ".join(f'"{chunk}"' for chunk in chunks)


def good_zone(keys: Keys) -> str:
    (name, record) = next(iter(keys.records.items()))
    return "\n".join(
        [
            txt("example.org", "v=spf1 ip4:127.0.0.1 -all"),
            txt("news.example.org", "v=spf1 include:_spf.example.org ~all"),
            txt("_spf.example.org", "v=spf1 ip4:127.0.0.0/8 -all"),
            txt(name, record),
            txt("_dmarc.example.org", "v=DMARC1; p=none; rua=mailto:dmarc@example.org"),
            "news.example.org. 300 IN MX 10 mx.example.org.",
            "mx.example.org. 300 IN A 127.0.0.2",
        ]
    )


def broken_zone(keys: Keys) -> str:
    """Six planted defects, one per check."""
    (name, _) = next(iter(keys.records.items()))
    _, other_key = rsa_pem()
    return "\n".join(
        [
            txt("example.org", "v=spf1 ip4:192.0.2.1 -all"),  # does not allow the relay
            txt("news.example.org", "v=spf1 mx -all"),  # two SPF records
            txt("news.example.org", "v=spf1 a -all"),
            txt(name, f"v=DKIM1; k=rsa; p={other_key}"),  # another key
            txt("_dmarc.example.org", "v=spf1 -all"),  # no DMARC record
            "www.news.example.org. 300 IN A 127.0.0.3",  # no MX for the bounce domain
        ]
    )


def tls_context() -> ssl.SSLContext:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


def doctor_config(tmp_path: Path, port: int, keys: Keys) -> Path:
    path = write_config(tmp_path, port)
    text = path.read_text().replace("    starttls: false\n", "    starttls: true\n")
    text = text.replace(
        "  smtp:\n", keys.config() + "  bounce_address: bounces@news.example.org\n  smtp:\n", 1
    )
    path.write_text(text)
    return path


def run_doctor(
    tmp_path: Path, zone: str, keys: Keys, starttls: bool, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    server = SmtpServer(starttls_context=tls_context() if starttls else None)
    with server, DnsServer(zone) as dns:
        config = doctor_config(tmp_path, server.port, keys)
        code = main(["--config", str(config), "doctor", "--nameserver", dns.nameserver])
    return code, capsys.readouterr().out


def test_a_good_setup_passes_every_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SPF, DKIM, DMARC, MX and STARTTLS all in order: exit 0."""
    keys = make_keys(tmp_path / "keys")
    code, out = run_doctor(tmp_path, good_zone(keys), keys, True, capsys)
    assert "FAIL" not in out
    assert out.count("PASS") == 6
    assert out.rstrip().endswith("all checks passed")
    assert code == 0


def test_each_planted_defect_is_named_with_the_record_to_publish(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Six defects, six failures, each with its fix; exit 1."""
    keys = make_keys(tmp_path / "keys")
    code, out = run_doctor(tmp_path, broken_zone(keys), keys, False, capsys)
    assert code == 1
    assert "FAIL  SPF example.org: 'v=spf1 ip4:192.0.2.1 -all' gives fail for the relay's" in out
    assert 'publish: example.org. TXT "v=spf1 ip4:192.0.2.1 ip4:127.0.0.1 -all"' in out
    assert "FAIL  SPF news.example.org: 2 SPF records" in out
    assert 'news.example.org. TXT "v=spf1 mx a ip4:127.0.0.1 -all"' in out
    assert (
        "FAIL  DKIM sw2026._domainkey.example.org: the published key is not the configured" in out
    )
    record = keys.records["sw2026._domainkey.example.org"]
    assert f'publish: sw2026._domainkey.example.org. TXT "{record[:255]}"' in out
    assert "FAIL  DMARC example.org: no DMARC record" in out
    assert 'publish: _dmarc.example.org. TXT "v=DMARC1; p=none;' in out
    assert "FAIL  MX news.example.org: no MX record" in out
    assert "FAIL  STARTTLS 127.0.0.1:" in out
    assert "6 failed" in out


def test_a_missing_dkim_record_prints_the_whole_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With no key published, the finding gives the TXT record in 255-octet strings."""
    keys = make_keys(tmp_path / "keys")
    zone = good_zone(keys).replace("sw2026._domainkey", "old._domainkey")
    code, out = run_doctor(tmp_path, zone, keys, True, capsys)
    assert code == 1
    assert "FAIL  DKIM sw2026._domainkey.example.org: no DKIM key published" in out
    record = keys.records["sw2026._domainkey.example.org"]
    assert f'"{record[:255]}" "{record[255:510]}"' in out


def test_dmarc_without_alignment_fails(tmp_path: Path) -> None:
    """Strict alignment with DKIM signing as a parent domain and another envelope domain."""
    keys = make_keys(tmp_path / "keys")
    zone = good_zone(keys).replace("p=none;", "p=reject; adkim=s; aspf=s;")
    with DnsServer(zone) as dns:
        config = load_config(doctor_config(tmp_path, 25, keys))
        sender = sender_of(config)
        sender = type(sender)("news.example.org", "bounce.example.net", sender.keys, None)
        findings = {f.check: f for f in run_checks(sender, Dns(dns.nameserver))}
    assert findings["DMARC news.example.org"].ok is False
    assert "DKIM not aligned (adkim=s)" in findings["DMARC news.example.org"].detail


def test_dmarc_falls_back_to_the_organizational_domain(tmp_path: Path) -> None:
    """From news.example.org is covered by _dmarc.example.org (relaxed alignment)."""
    keys = make_keys(tmp_path / "keys")
    with DnsServer(good_zone(keys)) as dns:
        config = load_config(doctor_config(tmp_path, 25, keys))
        sender = type(sender_of(config))("news.example.org", "news.example.org", (), None)
        findings = {f.check: f for f in run_checks(sender, Dns(dns.nameserver))}
    assert findings["DMARC news.example.org"].ok
    assert "at _dmarc.example.org" in findings["DMARC news.example.org"].detail


def test_starttls_offered_but_not_used_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A relay offering STARTTLS that the config does not use is a finding."""
    keys = make_keys(tmp_path / "keys")
    with SmtpServer(starttls_context=tls_context()) as server, DnsServer(good_zone(keys)) as dns:
        path = doctor_config(tmp_path, server.port, keys)
        path.write_text(path.read_text().replace("    starttls: true\n", "    starttls: false\n"))
        code = main(["--config", str(path), "doctor", "--nameserver", dns.nameserver])
    assert code == 1
    assert "offered, but delivery.smtp.starttls is false" in capsys.readouterr().out


ZONE = "\n".join(
    [
        txt("a.test", "v=spf1 include:b.test -all"),
        txt("b.test", "v=spf1 mx a:host.b.test ip6:2001:db8::/32 ~all"),
        "b.test. 300 IN MX 10 mx.b.test.",
        "mx.b.test. 300 IN A 192.0.2.10",
        "host.b.test. 300 IN A 198.51.100.20",
        txt("r.test", "v=spf1 redirect=b.test"),
        txt("loop.test", "v=spf1 include:loop.test -all"),
    ]
)


@pytest.fixture(scope="module")
def spf_dns() -> Iterator[Dns]:
    """One DNS server with the SPF zone for all the evaluation cases."""
    with DnsServer(ZONE) as dns:
        yield Dns(dns.nameserver)


@pytest.mark.parametrize(
    ("ip", "domain", "result"),
    [
        ("192.0.2.10", "a.test", "pass"),
        ("198.51.100.20", "a.test", "pass"),
        ("2001:db8::1", "a.test", "pass"),
        ("203.0.113.1", "a.test", "fail"),
        ("203.0.113.1", "b.test", "softfail"),
        ("192.0.2.10", "r.test", "pass"),
        ("192.0.2.10", "loop.test", "permerror"),
        ("192.0.2.10", "none.test", "none"),
    ],
)
def test_spf_evaluation(spf_dns: Dns, ip: str, domain: str, result: str) -> None:
    """include, mx, a, ip6, redirect, all; a loop is a permerror."""
    assert spf.check(spf_dns, ip, domain) == result


def test_alignment_and_organizational_domains() -> None:
    """Relaxed alignment compares organizational domains; strict the domains themselves."""
    assert aligned("example.org", "news.example.org", "r")
    assert not aligned("example.org", "news.example.org", "s")


@pytest.mark.parametrize(
    ("domain", "organizational"),
    [
        ("news.example.co.uk", "example.co.uk"),
        ("mail.news.example.com.au", "example.com.au"),
        ("bounces.city.kawasaki.jp", "city.kawasaki.jp"),
        ("News.SecurityWomen.org.", "securitywomen.org"),
        ("someone.github.io", "someone.github.io"),
        ("co.uk", "co.uk"),
    ],
)
def test_organizational_domain_follows_the_public_suffix_list(
    domain: str, organizational: str
) -> None:
    """The organizational domain is the public suffix and one label more (RFC 7489 §3.2)."""
    assert organizational_domain(domain) == organizational


def test_neighbours_under_a_public_suffix_are_not_aligned() -> None:
    """Two registrants under one public suffix (co.uk, github.io) are not aligned."""
    assert not aligned("attacker.co.uk", "example.co.uk", "r")
    assert not aligned("attacker.github.io", "example.github.io", "r")


def test_nameserver_takes_an_optional_port() -> None:
    """IP, IP:PORT and [IPv6]:PORT."""
    assert split_nameserver("127.0.0.1") == ("127.0.0.1", 53)
    assert split_nameserver("127.0.0.1:5353") == ("127.0.0.1", 5353)
    assert split_nameserver("[::1]:5353") == ("::1", 5353)
