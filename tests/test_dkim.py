"""DKIM: every message swfeed sends is signed on its way out, and dkimpy verifies it."""

from __future__ import annotations

from email import message_from_bytes
from pathlib import Path

import pytest

from swfeed.config import Config, DkimConfig
from swfeed.delivery.dkim import load_signer, signed_headers
from swfeed.delivery.outgoing import open_transport
from swfeed.delivery.send import send_issue, send_test
from swfeed.delivery.transport import Envelope
from swfeed.delivery.verp import Kind, parse_token
from swfeed.errors import DeliveryError
from swfeed.store import Database
from tests.dkimkeys import DOMAIN, SELECTOR, Keys, make_keys, rsa_pem, signatures, verifies
from tests.smtpfixture import NOW, SmtpServer, addresses, make_issue, prepare, write_config

BOUNCES = "  bounce_address: bounces@news.example.org\n"


def signed_config(
    tmp_path: Path, port: int, *, ed25519: bool = False, method: str = "smtp"
) -> tuple[Path, Keys]:
    """A config sending to 127.0.0.1:``port`` with DKIM on and a VERP bounce address."""
    keys = make_keys(tmp_path / "keys")
    path = write_config(tmp_path, port, method=method)
    text = path.read_text().replace("  smtp:\n", keys.config(ed25519) + BOUNCES + "  smtp:\n", 1)
    path.write_text(text)
    return path, keys


def send_to(config: Config, recipients: list[str]) -> None:
    with Database(config.store.path) as db:
        send_issue(config, db, make_issue(), lambda: NOW)


def test_every_message_the_server_received_verifies(tmp_path: Path) -> None:
    """An issue sent over SMTP with DKIM on: dkimpy verifies each copy aiosmtpd received."""
    recipients = addresses(12)
    with SmtpServer() as server:
        config_path, keys = signed_config(tmp_path, server.port)
        send_to(prepare(config_path, recipients, make_issue()), recipients)
        received = [m for address in recipients for m in server.handler.messages[address]]
    assert len(received) == len(recipients)
    assert all(verifies(message, keys.records) for message in received)


def test_signature_covers_the_headers_receivers_judge(tmp_path: Path) -> None:
    """h= lists From, To, Subject, Date, Message-ID, the List-* headers, Feedback-ID, MIME."""
    with SmtpServer() as server:
        config_path, _ = signed_config(tmp_path, server.port)
        send_to(prepare(config_path, ["ann@example.com"], make_issue()), ["ann@example.com"])
        message = server.handler.messages["ann@example.com"][0]
    (tags,) = signatures(message)
    signed = {name.strip() for name in tags[b"h"].decode().split(":")}
    assert {
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "list-id",
        "list-unsubscribe",
        "list-unsubscribe-post",
        "feedback-id",
        "mime-version",
        "content-type",
    } <= signed
    assert tags[b"a"] == b"rsa-sha256"
    assert tags[b"d"] == DOMAIN.encode()
    assert tags[b"s"] == SELECTOR.encode()


def test_dual_signature_rsa_and_ed25519_both_verify(tmp_path: Path) -> None:
    """With an Ed25519 key as well, each message carries both signatures (RFC 8463)."""
    with SmtpServer() as server:
        config_path, keys = signed_config(tmp_path, server.port, ed25519=True)
        send_to(prepare(config_path, ["ann@example.com"], make_issue()), ["ann@example.com"])
        message = server.handler.messages["ann@example.com"][0]
    assert [tags[b"a"] for tags in signatures(message)] == [b"rsa-sha256", b"ed25519-sha256"]
    assert verifies(message, keys.records)


def test_a_changed_body_no_longer_verifies(tmp_path: Path) -> None:
    """The signature is over the recipient's own copy: altering it breaks verification."""
    with SmtpServer() as server:
        config_path, keys = signed_config(tmp_path, server.port)
        send_to(prepare(config_path, ["ann@example.com"], make_issue()), ["ann@example.com"])
        message = server.handler.messages["ann@example.com"][0]
    assert not verifies(message.replace(b"Colombia", b"Columbia"), keys.records)


def test_test_send_is_signed(tmp_path: Path) -> None:
    """`digest send --to`'s marked copy is signed too, and its sender names a test copy."""
    with SmtpServer() as server:
        config_path, keys = signed_config(tmp_path, server.port)
        config = prepare(config_path, [], make_issue())
        send_test(config, make_issue(), "me@example.com", NOW)
        message = server.handler.messages["me@example.com"][0]
        sender = server.handler.senders["me@example.com"][0]
    assert verifies(message, keys.records)
    token = parse_token(sender.split("+", 1)[1].split("@", 1)[0])
    assert token is not None
    assert token.kind is Kind.TEST


def test_any_mail_through_the_transport_is_signed_and_gets_a_verp_sender(tmp_path: Path) -> None:
    """A list mail (confirmation, welcome) handed to the transport with the plain From as
    sender is signed and gets a sender naming its recipient."""
    with SmtpServer() as server:
        config_path, keys = signed_config(tmp_path, server.port)
        config = prepare(config_path, [], make_issue())
        transport = open_transport(config)
        message = (
            b"From: news@example.org\r\nTo: new@example.com\r\nSubject: Confirm\r\n"
            b"Date: Mon, 09 Mar 2026 09:00:00 +0000\r\nMessage-ID: <c1@example.org>\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n.leading dot\r\n"
        )
        envelope = Envelope("news@example.org", "new@example.com", "<c1@example.org>")
        try:
            transport.send(envelope, message, lambda: True)
        finally:
            transport.close()
        received = server.handler.messages["new@example.com"][0]
        sender = server.handler.senders["new@example.com"][0]
    assert verifies(received, keys.records)
    assert b"\r\n.leading dot\r\n" in received  # dot-stuffed on the wire, undone by the server
    token = parse_token(sender.split("+", 1)[1].split("@", 1)[0])
    assert token is not None
    assert token.kind is Kind.LIST


def test_outbox_copies_are_signed(tmp_path: Path) -> None:
    """The outbox's .eml files carry the same signature as a relay would get."""
    config_path, keys = signed_config(tmp_path, 25, method="outbox")
    config = prepare(config_path, ["ann@example.com"], make_issue())
    send_to(config, ["ann@example.com"])
    (eml,) = (config.store.path.parent / "outbox" / "new").iterdir()
    raw = eml.read_bytes()
    assert verifies(raw, keys.records)
    assert message_from_bytes(raw)["To"] == "ann@example.com"


def test_a_short_rsa_key_is_refused(tmp_path: Path) -> None:
    """An RSA key under 2048 bits stops the run before anything is sent, naming the file."""
    pem, _ = rsa_pem(1024)
    key = tmp_path / "short.pem"
    key.write_bytes(pem)
    with pytest.raises(DeliveryError, match="1024 bits") as caught:
        load_signer(DkimConfig(domain=DOMAIN, selector=SELECTOR, private_key_file=key))
    assert "openssl genrsa" in (caught.value.hint or "")


def test_an_ed25519_key_in_the_rsa_slot_is_refused(tmp_path: Path) -> None:
    """private_key_file must be RSA (Gmail and Microsoft verify no Ed25519 yet)."""
    keys = make_keys(tmp_path)
    config = DkimConfig(domain=DOMAIN, selector=SELECTOR, private_key_file=keys.ed25519_file)
    with pytest.raises(DeliveryError, match="not an RSA key"):
        load_signer(config)


def test_a_missing_key_file_names_the_setting(tmp_path: Path) -> None:
    """An unreadable key file is a DeliveryError pointing at the config key."""
    config = DkimConfig(domain=DOMAIN, selector=SELECTOR, private_key_file=tmp_path / "no.pem")
    with pytest.raises(DeliveryError, match="cannot read the DKIM key") as caught:
        load_signer(config)
    assert "private_key_file" in (caught.value.hint or "")


def test_only_present_headers_are_signed_and_the_key_ones_twice() -> None:
    """Absent headers are left out; From, To, Subject and List-Unsubscribe are over-signed."""
    message = b"From: a@example.org\r\nTo: b@example.com\r\nSubject: s\r\n\r\nFrom: body\r\n"
    assert signed_headers(message) == [b"from", b"to", b"subject", b"from", b"to", b"subject"]


def test_an_ed25519_seed_file_is_accepted(tmp_path: Path) -> None:
    """dkimpy's own key format (the base64 32-byte seed) works as well as PEM."""
    keys = make_keys(tmp_path)
    pem_signer = load_signer(_ed_config(keys, keys.ed25519_file))
    seed_file = tmp_path / "seed.txt"
    seed_file.write_bytes(pem_signer.keys[1].private + b"\n")
    seed_signer = load_signer(_ed_config(keys, seed_file))
    assert seed_signer.keys[1].public == pem_signer.keys[1].public
    message = b"From: a@example.org\r\nTo: b@example.com\r\nSubject: s\r\n\r\nbody\r\n"
    assert verifies(seed_signer.sign(message) + message, keys.records)


def _ed_config(keys: Keys, ed_file: Path) -> DkimConfig:
    return DkimConfig(
        domain=DOMAIN,
        selector=SELECTOR,
        private_key_file=keys.rsa_file,
        ed25519_selector="sw2026e",
        ed25519_key_file=ed_file,
    )
