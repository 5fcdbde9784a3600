"""Link and form tokens, keyed hashes, and who the client is (pure)."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime

import pytest

from swfeed.mailinglist.tokens import (
    Purpose,
    form_token,
    keyed_hash,
    link_token,
    make_token,
    read_form_token,
    read_link_token,
    verify_legacy_token,
)
from swfeed.signup.clients import client_address, client_key
from swfeed.store.subscribers import new_id

KEY = b"k" * 32
OLD = b"an-older-secret-0123"
NOW = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
PROXY = (ipaddress.ip_network("10.0.0.0/8"),)


def test_link_token_names_the_id_only() -> None:
    """A link token carries the opaque id and a MAC, never the address."""
    ident = new_id()
    token = link_token(KEY, Purpose.UNSUBSCRIBE, ident)
    assert read_link_token([KEY], Purpose.UNSUBSCRIBE, token) == ident
    assert token.startswith(f"u.{ident}.")


def test_link_token_is_bound_to_its_purpose() -> None:
    """An unsubscribe token does not open the preference page, nor confirm anything."""
    token = link_token(KEY, Purpose.UNSUBSCRIBE, new_id())
    assert read_link_token([KEY], Purpose.PREFERENCES, token) is None
    assert read_link_token([KEY], Purpose.CONFIRM, "c" + token[1:]) is None


def test_rotated_secret_keeps_old_links_working() -> None:
    """A token signed with a previous secret is read when that secret is still listed."""
    ident = new_id()
    token = link_token(OLD, Purpose.UNSUBSCRIBE, ident)
    assert read_link_token([KEY, OLD], Purpose.UNSUBSCRIBE, token) == ident
    assert read_link_token([KEY], Purpose.UNSUBSCRIBE, token) is None


@pytest.mark.parametrize("cut", [1, 5, 21])
def test_truncated_link_token_is_refused(cut: int) -> None:
    """A link cut short (a wrapped line) fails."""
    token = link_token(KEY, Purpose.PREFERENCES, new_id())
    assert read_link_token([KEY], Purpose.PREFERENCES, token[:-cut]) is None


@pytest.mark.parametrize("token", ["", "p..", "p.zz.abc", "p.0123456789abcdef.", "x.y.z.w"])
def test_malformed_link_token_is_refused(token: str) -> None:
    """Garbage is refused without an exception."""
    assert read_link_token([KEY], Purpose.PREFERENCES, token) is None


def test_legacy_token_still_reads_under_any_secret() -> None:
    """Links of issues sent by 0.1 name the address and keep working after a rotation."""
    token = make_token(OLD, "ann@example.org")
    assert verify_legacy_token([KEY, OLD], token) == "ann@example.org"
    assert verify_legacy_token([KEY], token) is None


def test_form_token_tells_when_the_form_was_shown() -> None:
    """A form token gives back the second it was made; a forged one gives None."""
    token = form_token(KEY, NOW)
    assert read_form_token([KEY], token) == int(NOW.timestamp())
    stamp, nonce, mac = token.split(".")
    assert read_form_token([KEY], f"{int(stamp) - 60}.{nonce}.{mac}") is None


def test_keyed_hash_ignores_case_and_hides_the_value() -> None:
    """Equal addresses in any case hash alike; the hash depends on the secret."""
    assert keyed_hash(KEY, "x", "Ann@Example.org") == keyed_hash(KEY, "x", "ann@example.org")
    assert keyed_hash(KEY, "x", "ann@example.org") != keyed_hash(OLD, "x", "ann@example.org")
    assert "ann" not in keyed_hash(KEY, "x", "ann@example.org")


def test_forwarded_for_is_ignored_from_an_untrusted_peer() -> None:
    """A client cannot pick its own address with X-Forwarded-For."""
    assert client_address("203.0.113.9", "198.51.100.1", PROXY) == "203.0.113.9"


def test_forwarded_for_names_the_client_behind_a_trusted_proxy() -> None:
    """Behind a trusted proxy, the nearest untrusted hop is the client (not a spoofed first one)."""
    header = "192.0.2.66, 198.51.100.7, 10.1.1.1"
    assert client_address("10.0.0.2", header, PROXY) == "198.51.100.7"


def test_malformed_forwarded_for_counts_the_proxy() -> None:
    """A header that is not addresses never becomes a made-up client."""
    assert client_address("10.0.0.2", "not-an-ip", PROXY) == "10.0.0.2"


def test_client_key_rotates_daily_and_hides_the_address() -> None:
    """The rate key of one client changes with the UTC day and does not contain its address."""
    today = client_key(KEY, "203.0.113.9", NOW)
    tomorrow = client_key(KEY, "203.0.113.9", NOW.replace(day=10))
    assert today != tomorrow
    assert "203" not in today
