"""Subscriber addresses and names as swfeed stores them.

Addresses are checked with email-validator (syntax only, no DNS) and stored in their ASCII
form (internationalised domains as punycode), so every header and SMTP command stays ASCII.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from swfeed.errors import SwfeedError
from swfeed.plaintext import one_line

MAX_NAME_LENGTH = 200


class SubscriberError(SwfeedError):
    """An address or name given by the admin is not acceptable."""

    default_hint = "Check the address for typos; it must look like name@example.org."


def normalize_address(address: str) -> str:
    """The address in the form swfeed stores it; ``SubscriberError`` if it is not valid."""
    try:
        result = validate_email(address.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise SubscriberError(f"{address!r} is not a valid address: {exc}") from None
    return str(result.ascii_email or result.normalized)


def clean_name(name: str) -> str:
    """A display name made one line; ``SubscriberError`` if it is too long."""
    cleaned = one_line(name)
    if len(cleaned) > MAX_NAME_LENGTH:
        raise SubscriberError(
            f"name is {len(cleaned)} characters long; at most {MAX_NAME_LENGTH} are allowed",
            hint="Shorten the name.",
        )
    return cleaned
