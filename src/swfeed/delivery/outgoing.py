"""The way out that every message takes: envelope sender, DKIM signature, then the transport.

``open_transport`` wraps the configured transport (SMTP relay or outbox) in an
``OutgoingTransport`` whenever ``delivery.dkim`` or ``delivery.bounce_address`` is set, so
every message swfeed sends is treated alike, whoever built it: issues, test copies, and the
list's own mails (confirmation, welcome).

- A message whose envelope sender is the plain From address gets a VERP sender naming its
  recipient (``verp.Kind.LIST``); the issue sender sets its own, naming the issue too.
- The message is signed as it is (CRLF, not dot-stuffed), after every per-recipient value
  was put in, and the signature goes in front; then it is dot-stuffed if the transport
  wants it so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from swfeed.config import Config
from swfeed.delivery.dkim import Signer, load_signer
from swfeed.delivery.message import dot_stuff
from swfeed.delivery.outbox import OutboxTransport, outbox_folder
from swfeed.delivery.settings import delivery_config, verp_settings
from swfeed.delivery.smtp import SmtpTransport
from swfeed.delivery.transport import Attempt, Envelope, Transport, nothing
from swfeed.delivery.verp import Kind, Verp


class OutgoingTransport:
    """Gives each message its envelope sender and signature, then hands it to ``inner``.

    Takes messages as they are written (``dot_stuffed = False``)."""

    dot_stuffed = False

    def __init__(
        self, inner: Transport, from_address: str, signer: Signer | None, verp: Verp | None
    ) -> None:
        self.inner = inner
        self.from_address = from_address
        self.signer = signer
        self.verp = verp
        self.min_interval = inner.min_interval

    def send(
        self,
        envelope: Envelope,
        message: bytes,
        before_data: Callable[[], bool],
        before_end: Callable[[], None] = nothing,
    ) -> Attempt | None:
        if self.verp is not None and envelope.sender.lower() == self.from_address:
            sender = self.verp.sender(Kind.LIST, envelope.recipient)
            envelope = dataclasses.replace(envelope, sender=sender)
        if self.signer is not None:
            message = self.signer.sign(message) + message
        if self.inner.dot_stuffed:
            message = dot_stuff(message)
        return self.inner.send(envelope, message, before_data, before_end)

    def close(self) -> None:
        self.inner.close()


def open_transport(config: Config) -> Transport:
    """The configured way of handing messages over (the outbox Maildir or an SMTP relay),
    signing and giving VERP senders when the config asks for it."""
    delivery = delivery_config(config)
    inner: Transport
    if delivery.method == "smtp" and delivery.smtp is not None:
        inner = SmtpTransport(delivery.smtp)
    else:
        inner = OutboxTransport(outbox_folder(config))
    signer = load_signer(delivery.dkim) if delivery.dkim is not None else None
    verp = verp_settings(config)
    if signer is None and verp is None:
        return inner
    return OutgoingTransport(inner, str(delivery.from_address).lower(), signer, verp)
