"""VERP envelope senders: a signed token per message that names issue and recipient."""

from __future__ import annotations

import pytest

from swfeed.delivery.verp import (
    MAX_LOCAL_PART,
    Kind,
    Verp,
    check_bounce_address,
    envelope_sender,
    parse_token,
)
from swfeed.errors import DeliveryError

SECRET = b"verp-test-secret-0123456789"
BOUNCES = "bounces@news.example.org"


def token_of(sender: str) -> str:
    return sender.split("+", 1)[1].split("@", 1)[0]


def test_token_names_its_issue_and_recipient() -> None:
    """The token reads back as the issue's kind and period and proves the address."""
    sender = envelope_sender(BOUNCES, SECRET, Kind.ISSUE, "Ann@Example.com", "2026-W11")
    token = parse_token(token_of(sender))
    assert token is not None
    assert (token.kind, token.period) == (Kind.ISSUE, "2026-W11")
    assert token.names([SECRET], "ann@example.com")
    assert token.find([SECRET], ["bob@example.com", "ann@example.com"]) == "ann@example.com"


def test_token_survives_a_relay_that_changes_the_case() -> None:
    """Lowercase base32: a lowercased or uppercased local part reads the same."""
    sender = envelope_sender(BOUNCES, SECRET, Kind.ISSUE, "ann@example.com", "2026-W11")
    verp = Verp(BOUNCES, (SECRET,))
    for variant in (sender.lower(), sender.upper()):
        token = verp.read(f"Delivered-To: {variant}")
        assert token is not None
        assert token.names([SECRET], "ann@example.com")


def test_local_part_stays_within_64_octets() -> None:
    """With the longest bounce local part allowed, bounces+TOKEN is at most 64 octets."""
    longest = "b" * (MAX_LOCAL_PART - 1 - 36) + "@news.example.org"
    check_bounce_address(longest)
    sender = envelope_sender(longest, SECRET, Kind.ISSUE, "a" * 60 + "@example.com", "2026-W11")
    assert len(sender.rpartition("@")[0]) == MAX_LOCAL_PART


def test_too_long_a_bounce_address_is_refused() -> None:
    """A local part that leaves no room for the token is a clear error."""
    with pytest.raises(DeliveryError, match="no room for the VERP token"):
        check_bounce_address("x" * 30 + "@news.example.org")


def test_a_forged_token_names_nobody() -> None:
    """A token made with another secret, or altered, proves no address."""
    forged = envelope_sender(
        BOUNCES, b"someone-elses-secret-000", Kind.ISSUE, "a@x.org", "2026-W11"
    )
    token = parse_token(token_of(forged))
    assert token is not None
    assert not token.names([SECRET], "a@x.org")
    real = token_of(envelope_sender(BOUNCES, SECRET, Kind.ISSUE, "a@x.org", "2026-W11"))
    altered = real[:-1] + ("a" if real[-1] != "a" else "b")
    changed = parse_token(altered)
    assert changed is None or not changed.names([SECRET], "a@x.org")


def test_a_token_of_one_issue_does_not_prove_another() -> None:
    """The period is under the MAC: a token cannot be moved to another issue."""
    sender = envelope_sender(BOUNCES, SECRET, Kind.ISSUE, "a@x.org", "2026-W11")
    token = parse_token(token_of(sender))
    assert token is not None
    moved = type(token)(token.kind, "2026-W12", token.address_id, token.mac)
    assert not moved.names([SECRET], "a@x.org")


def test_an_earlier_secret_still_proves_its_tokens() -> None:
    """After a secret is rotated, tokens made with the previous one still verify."""
    old = b"the-previous-secret-0123456"
    sender = envelope_sender(BOUNCES, old, Kind.LIST, "a@x.org")
    token = Verp(BOUNCES, (SECRET, old)).read(sender)
    assert token is not None
    assert token.period is None
    assert token.names([SECRET, old], "a@x.org")


def test_text_that_is_not_a_token_is_ignored() -> None:
    """Wrong length or alphabet gives no token."""
    assert parse_token("not-a-token") is None
    assert parse_token("a" * 36) is None
