"""What every way of handing over a message shares: the envelope and the attempt's result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from swfeed.store.deliveries import State


@dataclass(frozen=True, slots=True)
class Envelope:
    """Who a message is from and to (SMTP envelope), and its Message-ID."""

    sender: str
    recipient: str
    message_id: str


@dataclass(frozen=True, slots=True)
class Attempt:
    """What happened to one message: sent, deferred, failed (maybe bounced) or unknown.

    ``slow_down``: the relay asked us to (421, e.g. ``421 4.4.2 rate exceeded``); the sender
    waits before the next message, longer for each 421 in a row."""

    state: State
    reply: str
    bounced: bool = False
    slow_down: bool = False


def nothing() -> None:
    """A ``before_end`` for sends outside the ledger (test copies)."""


class Transport(Protocol):
    """Hands messages over; ``before_data`` is called before the data goes out, and
    ``before_end`` just before the point of no return.

    ``before_data`` claims the message's ledger row; when it returns False (someone else
    has the row, or the sender lost its lock), the message is withdrawn (SMTP ``RSET``)
    and ``send`` returns None: nothing was handed over. ``before_end`` records that the
    data is complete but for its end (SMTP's final dot, the outbox file's rename): a crash
    before it cannot have delivered the message, one after it may have.
    """

    #: Least seconds between the starts of two messages (rate limit); 0 for none.
    min_interval: float
    #: Whether ``send`` takes messages dot-stuffed for SMTP DATA (``MessageTemplate.render``).
    dot_stuffed: bool

    def send(
        self,
        envelope: Envelope,
        message: bytes,
        before_data: Callable[[], bool],
        before_end: Callable[[], None] = nothing,
    ) -> Attempt | None:
        """Deliver one message; raise ``DeliveryError`` only when the whole run must stop."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
