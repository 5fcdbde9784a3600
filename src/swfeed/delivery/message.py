"""An issue's MIME message, serialised once; each recipient's copy is a cheap byte join.

The frozen issue is turned into a ``MessageTemplate``: the whole message as byte chunks with
a few slots (To, Message-ID, List-Unsubscribe, and the unsubscribe link and address in both
body parts). ``render`` fills the slots for one recipient and joins: no ``email`` package
work per recipient.

Why this is safe:

- Both parts are quoted-printable. Each placeholder in the issue's text and HTML is cut out
  before encoding and put back on a line of its own between two soft line breaks
  (``=\\r\\n``), so the encoder can never split it; the value that replaces it is encoded
  (and wrapped) the same way. Every line stays at most 76 octets and the message is 7-bit.
- Header values are built here, never by the ``email`` package: text is first made one line
  (control characters and line separators become spaces), then written either as plain
  printable ASCII or entirely as RFC 2047 encoded words, which decode back to that same one
  line. Text that itself looks like an encoded word (``=?utf-8?q?...=0A...?=``) is always
  encoded, so no reader can decode it into a line break (CVE-2024-6923).

A test send (``build_template(..., test=True)``, for ``digest send --to``) is marked: its
subject starts with ``[TEST] ``, it carries ``X-Swfeed-Test: yes``, and it has a random
Message-ID of its own (``<swfeed.test.PERIOD.RANDOM@domain>``), never the one a subscriber's
copy of the issue has.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.quoprimime import body_encode
from email.utils import format_datetime
from enum import Enum
from urllib.parse import quote

from swfeed.errors import DeliveryError
from swfeed.mailinglist.tokens import Purpose, link_token
from swfeed.models import (
    PREFERENCES_URL_TOKEN,
    RECIPIENT_ADDRESS_TOKEN,
    UNSUBSCRIBE_URL_TOKEN,
    DigestIssue,
)
from swfeed.plaintext import one_line

CRLF = "\r\n"
SOFT_BREAK = b"=\r\n"
QP_VALUE_LINE = 73  # room for a leading "=2E" within 75
_LINE_START_DOT = re.compile(rb"^\.", re.MULTILINE)
_QP_UNSAFE = re.compile(rb"[^!-<>-~]")  # all but printable ASCII other than "="
ENCODED_WORD_PREFIX = "=?utf-8?b?"
MAX_ENCODED_WORD = 75
MAX_QP_LINE = 76
TEST_SUBJECT_PREFIX = "[TEST] "
TEST_HEADER = "X-Swfeed-Test: yes"
_PLACEHOLDERS = re.compile(
    "("
    + "|".join(
        map(re.escape, (UNSUBSCRIBE_URL_TOKEN, RECIPIENT_ADDRESS_TOKEN, PREFERENCES_URL_TOKEN))
    )
    + ")"
)


class Slot(Enum):
    """A per-recipient hole in the template."""

    TO = "to"
    MESSAGE_ID = "message-id"
    LIST_UNSUBSCRIBE = "list-unsubscribe"
    TEXT_URL = "text-url"
    TEXT_ADDRESS = "text-address"
    HTML_URL = "html-url"
    HTML_ADDRESS = "html-address"
    TEXT_PREFERENCES = "text-preferences"
    HTML_PREFERENCES = "html-preferences"


_TEXT_SLOTS = {
    UNSUBSCRIBE_URL_TOKEN: Slot.TEXT_URL,
    RECIPIENT_ADDRESS_TOKEN: Slot.TEXT_ADDRESS,
    PREFERENCES_URL_TOKEN: Slot.TEXT_PREFERENCES,
}
_HTML_SLOTS = {
    UNSUBSCRIBE_URL_TOKEN: Slot.HTML_URL,
    RECIPIENT_ADDRESS_TOKEN: Slot.HTML_ADDRESS,
    PREFERENCES_URL_TOKEN: Slot.HTML_PREFERENCES,
}


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who one copy goes to; ``ident`` is the subscriber's opaque id (for their links)."""

    address: str
    name: str = ""
    ident: str | None = None


@dataclass(frozen=True, slots=True)
class MessageSettings:
    """Everything about the message that comes from config rather than from the issue."""

    from_address: str
    from_name: str
    list_name: str
    list_id: str
    reply_to: str | None = None
    unsubscribe_url: str | None = None
    unsubscribe_mailto: str | None = None
    secret: bytes | None = None
    preferences_url: str | None = None


@dataclass(frozen=True, slots=True)
class MessageTemplate:
    """One issue's message with holes; ``render`` fills them per recipient."""

    period: str
    subject: str
    parts: tuple[bytes | Slot, ...]
    settings: MessageSettings
    stuffed_parts: tuple[bytes | Slot, ...] = ()
    test_id: str | None = None

    def id_for(self, address: str) -> str:
        """The Message-ID of ``address``'s copy: per (issue, recipient), or the test send's."""
        return self.test_id or message_id(self.period, address, self.settings)

    @property
    def size(self) -> int:
        """Octets of the message without the per-recipient values."""
        return sum(len(part) for part in self.parts if isinstance(part, bytes))

    def render(self, recipient: Recipient, dot_stuffed: bool = False) -> bytes:
        """The complete message for one recipient: CRLF line ends, 7-bit.

        ``dot_stuffed`` gives it ready for SMTP DATA (RFC 5321 4.5.2: a line starting with
        ``.`` gets another): the fixed parts were stuffed once, and no per-recipient value
        ever starts a line with ``.`` (continuation lines start with a space, and
        ``qp_value`` writes a leading dot as ``=2E``); each fixed part starts with ``=`` or
        CRLF, so stuffing it on its own is exact.
        """
        values = self.values(recipient)
        parts = self.stuffed_parts if dot_stuffed else self.parts
        return b"".join(part if isinstance(part, bytes) else values[part] for part in parts)

    def values(self, recipient: Recipient) -> dict[Slot, bytes]:
        url = unsubscribe_link(self.settings, recipient)
        preferences = preferences_link(self.settings, recipient)
        escaped_url, escaped_address = html.escape(url), html.escape(recipient.address)
        return {
            Slot.TO: mailbox(recipient.name, recipient.address, "To").encode("ascii"),
            Slot.MESSAGE_ID: self.id_for(recipient.address).encode(),
            Slot.LIST_UNSUBSCRIBE: list_unsubscribe(self.settings, recipient).encode(),
            Slot.TEXT_URL: qp_value(url),
            Slot.TEXT_ADDRESS: qp_value(recipient.address),
            Slot.HTML_URL: qp_value(escaped_url),
            Slot.HTML_ADDRESS: qp_value(escaped_address),
            Slot.TEXT_PREFERENCES: qp_value(preferences),
            Slot.HTML_PREFERENCES: qp_value(html.escape(preferences)),
        }


def build_template(
    issue: DigestIssue, settings: MessageSettings, date: datetime, *, test: bool = False
) -> MessageTemplate:
    """Serialise ``issue`` once into a template; ``date`` is the Date header.

    ``test``: a marked test copy with its own Message-ID (see the module's docstring).
    """
    boundary = "=_swfeed_" + hashlib.sha256(issue.html.encode()).hexdigest()[:24]
    subject = TEST_SUBJECT_PREFIX + issue.subject if test else issue.subject
    feedback = feedback_id(issue.period, settings, test)
    parts = _headers(subject, settings, date, boundary, test, feedback)
    parts.append(_part_head(boundary, "text/plain"))
    parts += _qp_body(issue.text, _TEXT_SLOTS)
    parts.append(_part_head(boundary, "text/html"))
    parts += _qp_body(issue.html, _HTML_SLOTS)
    parts.append(f"{CRLF}--{boundary}--{CRLF}".encode())
    merged = _merge(parts)
    stuffed = tuple(dot_stuff(p) if isinstance(p, bytes) else p for p in merged)
    test_id = message_id_of_test_send(issue.period, settings) if test else None
    return MessageTemplate(issue.period, one_line(subject), merged, settings, stuffed, test_id)


def dot_stuff(data: bytes) -> bytes:
    """SMTP transparency: a ``.`` at the start of a line becomes ``..``."""
    return _LINE_START_DOT.sub(b"..", data)


def feedback_id(period: str, settings: MessageSettings, test: bool = False) -> str:
    """Gmail's ``Feedback-ID`` (campaign:type:list:sender): ``2026-W48:digest:LIST-ID:DOMAIN``;
    a test copy has the type ``test``, so its complaints are never counted with the issue's."""
    kind = "test" if test else "digest"
    domain = settings.from_address.rpartition("@")[2]
    return f"{period}:{kind}:{settings.list_id}:{domain}"


def _headers(
    subject: str,
    settings: MessageSettings,
    date: datetime,
    boundary: str,
    test: bool,
    feedback: str,
) -> list[bytes | Slot]:
    """The header block, with slots for the per-recipient To, Message-ID, List-Unsubscribe."""
    before = [
        f"Date: {format_datetime(date)}",
        f"From: {mailbox(settings.from_name, settings.from_address, 'From')}",
        "To: ",
    ]
    after = [f"Subject: {unstructured(subject, 'Subject')}"]
    if settings.reply_to:
        after.append(f"Reply-To: {mailbox('', settings.reply_to, 'Reply-To')}")
    after.append(f"List-Id: {phrase(settings.list_name, 'List-Id')} <{settings.list_id}>")
    if settings.unsubscribe_url:
        after.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    after.append(f"Feedback-ID: {feedback}")
    if test:
        after.append(TEST_HEADER)
    after += [
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
        "",
        "This is a multipart message in MIME format.",
    ]
    return [
        CRLF.join(before).encode("ascii"),
        Slot.TO,
        f"{CRLF}Message-ID: ".encode("ascii"),
        Slot.MESSAGE_ID,
        f"{CRLF}List-Unsubscribe: ".encode("ascii"),
        Slot.LIST_UNSUBSCRIBE,
        (CRLF + CRLF.join(after)).encode("ascii"),
    ]


def _part_head(boundary: str, content_type: str) -> bytes:
    return (
        f"{CRLF}--{boundary}{CRLF}Content-Type: {content_type}; charset=utf-8{CRLF}"
        f"Content-Transfer-Encoding: quoted-printable{CRLF}{CRLF}"
    ).encode("ascii")


def _qp_body(text: str, slots: dict[str, Slot]) -> list[bytes | Slot]:
    """Quoted-printable text with each placeholder on a line of its own, between soft breaks."""
    out: list[bytes | Slot] = []
    for index, piece in enumerate(_PLACEHOLDERS.split(text)):
        if index % 2 == 1:
            out += [SOFT_BREAK, slots[piece], SOFT_BREAK]
        elif piece:
            out.append(qp_text(piece))
    return out


def qp_text(text: str) -> bytes:
    """``text`` (UTF-8) quoted-printable, lines at most 76 octets, CRLF line ends."""
    return body_encode(text.encode().decode("latin-1"), MAX_QP_LINE, CRLF).encode()


def _merge(parts: Sequence[bytes | Slot]) -> tuple[bytes | Slot, ...]:
    """Join neighbouring byte chunks, so ``render`` joins as few pieces as possible."""
    merged: list[bytes | Slot] = []
    for part in parts:
        if isinstance(part, bytes) and merged and isinstance(merged[-1], bytes):
            merged[-1] += part
        else:
            merged.append(part)
    return tuple(merged)


def qp_value(text: str) -> bytes:
    """A per-recipient value, quoted-printable, wrapped with soft breaks into short lines.

    Every line is at most 75 octets plus the ``=`` of its soft break; no ``=XX`` is split, and
    a line that would start with ``.`` starts with ``=2E`` (so SMTP dot-stuffing never applies).
    """
    encoded = _QP_UNSAFE.sub(_qp_escape, text.encode("utf-8"))
    lines: list[bytes] = []
    start = 0
    while len(encoded) - start > QP_VALUE_LINE:
        cut = start + QP_VALUE_LINE
        cut -= 1 if encoded[cut - 1] == 61 else 2 if encoded[cut - 2] == 61 else 0  # "="
        lines.append(encoded[start:cut])
        start = cut
    lines.append(encoded[start:])
    return SOFT_BREAK.join(b"=2E" + line[1:] if line[:1] == b"." else line for line in lines)


def _qp_escape(match: re.Match[bytes]) -> bytes:
    return b"=%02X" % match.group()[0]


def encoded_words(text: str) -> list[str]:
    """``text`` as RFC 2047 base64 encoded words of at most 75 characters, whole characters."""
    budget = (MAX_ENCODED_WORD - len(ENCODED_WORD_PREFIX) - 2) // 4 * 3
    words: list[str] = []
    chunk = b""
    for char in text:
        data = char.encode("utf-8")
        if chunk and len(chunk) + len(data) > budget:
            words.append(_word(chunk))
            chunk = b""
        chunk += data
    if chunk or not words:
        words.append(_word(chunk))
    return words


def _word(data: bytes) -> str:
    return f"{ENCODED_WORD_PREFIX}{base64.b64encode(data).decode('ascii')}?="


def _plain_ok(text: str, room: int) -> bool:
    """Whether text can go into a header as it is: short printable ASCII, no ``=?``."""
    return len(text) <= room and text.isascii() and text.isprintable() and "=?" not in text


def unstructured(text: str, header: str) -> str:
    """An unstructured header value (Subject): plain when safe, else encoded words."""
    value = one_line(text)
    if _plain_ok(value, 76 - len(header)):
        return value
    return (CRLF + " ").join(encoded_words(value))


def phrase(text: str, header: str) -> str:
    """A display name: a quoted string when it is short ASCII, else encoded words."""
    value = one_line(text)
    if _plain_ok(value, 60 - len(header)):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return (CRLF + " ").join(encoded_words(value))


def mailbox(name: str, address: str, header: str) -> str:
    """``"Name" <address>`` (or the bare address when there is no name)."""
    if not (address.isascii() and address.isprintable()) or " " in address or "<" in address:
        raise DeliveryError(
            f"refusing to put {address!r} into a mail header",
            hint="Addresses must be validated (swfeed subscribers add) before sending.",
        )
    if not one_line(name):
        return address
    display = phrase(name, header)
    if len(header) + len(display) + len(address) + 5 <= 78:
        return f"{display} <{address}>"
    return f"{display}{CRLF} <{address}>"


def message_id(period: str, address: str, settings: MessageSettings) -> str:
    """``<period.hash@domain>``: the same for the same (issue, recipient), so copies match."""
    digest = hashlib.sha256(f"{period}\0{address.lower()}".encode()).hexdigest()[:24]
    domain = settings.from_address.rpartition("@")[2]
    return f"<swfeed.{period}.{digest}@{domain}>"


def message_id_of_test_send(period: str, settings: MessageSettings) -> str:
    """``<swfeed.test.period.random@domain>``: a test send's, unlike any subscriber's copy."""
    domain = settings.from_address.rpartition("@")[2]
    return f"<swfeed.test.{period}.{secrets.token_hex(12)}@{domain}>"


def unsubscribe_link(settings: MessageSettings, recipient: Recipient) -> str:
    """The per-recipient link in the body: the signed https URL, else the mailto.

    A recipient who is no subscriber (a test send) gets the bare URL, whose page explains
    how to unsubscribe.
    """
    if settings.unsubscribe_url and settings.secret is not None:
        return _signed(settings.unsubscribe_url, settings.secret, Purpose.UNSUBSCRIBE, recipient)
    return _mailto(settings)


def preferences_link(settings: MessageSettings, recipient: Recipient) -> str:
    """The recipient's "Manage preferences" link (the unsubscribe link when there is none)."""
    if settings.preferences_url and settings.secret is not None:
        return _signed(settings.preferences_url, settings.secret, Purpose.PREFERENCES, recipient)
    return unsubscribe_link(settings, recipient)


def _signed(url: str, secret: bytes, purpose: Purpose, recipient: Recipient) -> str:
    if recipient.ident is None:
        return url
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}t={link_token(secret, purpose, recipient.ident)}"


def _mailto(settings: MessageSettings) -> str:
    return f"mailto:{settings.unsubscribe_mailto}?subject={quote('unsubscribe')}"


def list_unsubscribe(settings: MessageSettings, recipient: Recipient) -> str:
    """``<https://…>, <mailto:…>`` (RFC 2369), each that is configured."""
    links: list[str] = []
    if settings.unsubscribe_url and settings.secret is not None:
        links.append(f"<{unsubscribe_link(settings, recipient)}>")
    if settings.unsubscribe_mailto:
        links.append(f"<{_mailto(settings)}>")
    return ("," + CRLF + " ").join(links)


@dataclass(frozen=True, slots=True)
class Mail:
    """One message to one person, rendered already (a confirmation or a welcome)."""

    subject: str
    html: str
    text: str
    to: Recipient
    message_id: str


def single_message(mail: Mail, settings: MessageSettings, date: datetime) -> bytes:
    """``mail`` as a complete message (CRLF, 7-bit): the same headers and encodings as an
    issue's, without the list headers, and marked ``Auto-Submitted: auto-generated`` so
    that vacation responders do not answer it."""
    boundary = "=_swfeed_" + hashlib.sha256(mail.html.encode()).hexdigest()[:24]
    headers = [
        f"Date: {format_datetime(date)}",
        f"From: {mailbox(settings.from_name, settings.from_address, 'From')}",
        f"To: {mailbox(mail.to.name, mail.to.address, 'To')}",
        f"Message-ID: {mail.message_id}",
        f"Subject: {unstructured(mail.subject, 'Subject')}",
    ]
    if settings.reply_to:
        headers.append(f"Reply-To: {mailbox('', settings.reply_to, 'Reply-To')}")
    headers += [
        "Auto-Submitted: auto-generated",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
        "",
        "This is a multipart message in MIME format.",
    ]
    return b"".join(
        [
            CRLF.join(headers).encode("ascii"),
            _part_head(boundary, "text/plain"),
            qp_text(mail.text),
            _part_head(boundary, "text/html"),
            qp_text(mail.html),
            f"{CRLF}--{boundary}--{CRLF}".encode(),
        ]
    )
