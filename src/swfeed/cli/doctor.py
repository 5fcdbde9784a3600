"""``swfeed doctor``: the sender's DNS and relay, checked as receivers check them."""

from __future__ import annotations

import argparse

from swfeed.cli import Subparsers, add_command, load
from swfeed.exitcodes import EXIT_OK, EXIT_RUNTIME

DETAILS = """\
Looks up SPF for the From and envelope (bounce) domains and whether it allows the relay,
the DKIM selector's public key against the configured private key, DMARC (present, at
least p=none, and aligned with From), MX for the bounce domain, and STARTTLS at the relay.
Each finding that fails prints the DNS record (or setting) to publish. Exit 0 when all
pass, 1 otherwise."""


def register(subparsers: Subparsers) -> None:
    """Add ``doctor``."""
    doctor = add_command(
        subparsers,
        "doctor",
        "check SPF, DKIM, DMARC, MX and STARTTLS for the configured sender",
        details=DETAILS,
        examples=["swfeed doctor", "swfeed doctor --nameserver 9.9.9.9"],
    )
    doctor.add_argument(
        "--nameserver",
        metavar="IP[:PORT]",
        help="ask this DNS server (default: the system's resolver)",
    )
    doctor.add_argument(
        "--relay-ip",
        metavar="IP",
        action="append",
        help="the address receivers see mail come from, when it is not the relay host's "
        "own (may be given more than once)",
    )
    doctor.set_defaults(handler=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    from swfeed.doctor.checks import run_checks, sender_of
    from swfeed.doctor.dns import Dns

    config = load(args)
    findings = run_checks(sender_of(config), Dns(args.nameserver), args.relay_ip)
    for finding in findings:
        print(finding.text)
    failed = sum(1 for finding in findings if not finding.ok)
    print(f"{len(findings) - failed} passed, {failed} failed" if failed else "all checks passed")
    return EXIT_RUNTIME if failed else EXIT_OK
