"""Reading what comes back: DSNs as real systems write them, ARF, auto-replies, mangled mail."""

from __future__ import annotations

import pytest

from swfeed.bounces.report import Failure, ReportKind, classify, read_report
from swfeed.delivery.verp import Verp
from swfeed.store.bounces import EventKind
from tests.bouncefixture import BOUNCE_ADDRESS, sample, verp_of
from tests.smtpfixture import SECRET

VERP = Verp(BOUNCE_ADDRESS, (SECRET.encode(),))
ADDRESS = "r001@example.com"


@pytest.mark.parametrize(
    ("name", "kind", "status", "event"),
    [
        ("postfix-user-unknown.eml", ReportKind.BOUNCE, "5.1.1", EventKind.HARD),
        ("postfix-mailbox-full.eml", ReportKind.BOUNCE, "5.2.2", EventKind.SOFT),
        ("postfix-delayed.eml", ReportKind.BOUNCE, "4.4.1", EventKind.DELAYED),
        ("exim-user-unknown.eml", ReportKind.BOUNCE, "5.1.1", EventKind.HARD),
        ("exchange-5.7.515.eml", ReportKind.BOUNCE, "5.7.515", EventKind.POLICY),
        ("gmail-no-such-user.eml", ReportKind.BOUNCE, "5.1.1", EventKind.HARD),
        ("mangled.eml", ReportKind.BOUNCE, "5.1.1", EventKind.HARD),
        ("arf-complaint.eml", ReportKind.COMPLAINT, None, EventKind.COMPLAINT),
        ("out-of-office.eml", ReportKind.AUTO_REPLY, None, None),
    ],
)
def test_each_sample_reads_as_what_it_is(
    name: str, kind: ReportKind, status: str | None, event: EventKind | None
) -> None:
    """Each system's report gives its kind, status code and what it means for the list."""
    report = read_report(sample(name, ADDRESS), VERP)
    assert report.kind is kind
    assert (report.failure.status if report.failure else None) == status
    assert report.event is event


@pytest.mark.parametrize(
    "name",
    [
        "postfix-user-unknown.eml",
        "exim-user-unknown.eml",
        "exchange-5.7.515.eml",
        "gmail-no-such-user.eml",
        "mangled.eml",
        "arf-complaint.eml",
        "out-of-office.eml",
    ],
)
def test_each_sample_names_its_message_by_the_token(name: str) -> None:
    """The VERP token is found in every shape, the mangled one included."""
    report = read_report(sample(name, ADDRESS), VERP)
    assert report.token is not None
    assert report.token.period == "2026-W11"
    assert report.token.names(VERP.secrets, ADDRESS)


def test_token_comes_from_the_delivery_address_before_the_body() -> None:
    """A bounce delivered to one VERP address but quoting another is about the first."""
    raw = sample("postfix-user-unknown.eml", ADDRESS).replace(
        b"X-Postfix-Sender: rfc822; ",
        b"X-Postfix-Sender: rfc822; " + verp_of("x@y.org", "2026-W11").encode() + b" ",
    )
    token = read_report(raw, VERP).token
    assert token is not None
    assert token.names(VERP.secrets, ADDRESS)


@pytest.mark.parametrize(
    ("status", "event"),
    [
        ("5.1.1", EventKind.HARD),
        ("5.1.10", EventKind.HARD),
        ("5.2.1", EventKind.HARD),
        ("5.2.2", EventKind.SOFT),
        ("4.2.2", EventKind.SOFT),
        ("5.7.1", EventKind.POLICY),
        ("5.7.515", EventKind.POLICY),
        ("5.4.4", EventKind.SOFT),
    ],
)
def test_status_codes_map_to_what_they_say_about_the_address(status: str, event: EventKind) -> None:
    """5.1.x and 5.2.1 are the address; 5.7.x is the mail; full and temporary are soft."""
    assert classify(Failure("failed", status)) is event


def test_plain_mail_is_unrecognised() -> None:
    """A person's ordinary reply is neither bounce nor complaint."""
    raw = b"From: ann@example.com\r\nTo: news@example.org\r\nSubject: Thanks!\r\n\r\nLovely.\r\n"
    assert read_report(raw, VERP).kind is ReportKind.UNRECOGNISED
