"""What a mail that came back to the bounce address says (pure: bytes in, a ``Report`` out).

In the order tried:

1. an RFC 5965 (ARF) feedback report (``multipart/report; report-type=feedback-report``):
   a complaint;
2. an RFC 3464 delivery status notification (``message/delivery-status`` part): each
   recipient's ``Action`` and ``Status`` (or the enhanced code in ``Diagnostic-Code``);
3. a bounce in one of the common non-standard shapes (Exim's and qmail's plain text,
   a DSN whose MIME structure was mangled on the way): from a mailer daemon or
   postmaster, ``X-Failed-Recipients``, or a bounce's subject; the status is the first
   SMTP reply with an enhanced code found in its text;
4. an auto-reply (RFC 3834 ``Auto-Submitted``, ``X-Autoreply``, ``Precedence:
   auto_reply``, an out-of-office subject): changes nothing;
5. anything else: unrecognised, changes nothing.

The VERP token (see ``swfeed.delivery.verp``) is looked for first in the headers the mail
was delivered with (To, Delivered-To, X-Original-To, Envelope-To), then in the whole text
(the returned message's Return-Path, ARF's Original-Mail-From, ``X-Postfix-Sender``):
a bounce whose body is mangled still names issue and recipient by the address it came to.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from email.message import Message
from enum import StrEnum

from swfeed.delivery.verp import Token, Verp
from swfeed.store.bounces import EventKind

_ENHANCED = r"([245])\.(\d{1,3})\.(\d{1,3})"
_STATUS_FIELD = re.compile(rf"^\s*{_ENHANCED}\b")
#: An SMTP reply with an enhanced status code: ``550 5.1.1``, ``550-5.1.1``, ``550 #5.1.1``.
_REPLY_WITH_STATUS = re.compile(rf"\b[245]\d\d[ -]#?{_ENHANCED}(?![\d.])")
_BARE_REPLY = re.compile(r"(?:^|[\s:])([45])\d\d[ -](?=\D)", re.MULTILINE)
_DELIVERED_TO = ("To", "Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To")
_DAEMON = re.compile(r"mailer-daemon|postmaster|mail delivery", re.IGNORECASE)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery (status notification|failure|has failed)|"
    r"mail delivery failed|returned mail|failure notice|non-?delivery",
    re.IGNORECASE,
)
_AUTO_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[ -]?(reply|response|antwort)|out of (the )?office|abwesenheit|"
    r"r[ée]ponse automatique|away from)",
    re.IGNORECASE,
)
_COPY_STARTS = re.compile(
    r"^-+ ?(this is a copy|original message|the original message)", re.IGNORECASE | re.MULTILINE
)
_MAX_TEXT = 200_000


class ReportKind(StrEnum):
    """What a mail was."""

    COMPLAINT = "complaint"
    BOUNCE = "bounce"
    AUTO_REPLY = "auto-reply"
    UNRECOGNISED = "unrecognised"


@dataclass(frozen=True, slots=True)
class Failure:
    """One recipient's line of a bounce: its action, status code and diagnostic."""

    action: str
    status: str | None
    diagnostic: str = ""
    recipient: str | None = None


@dataclass(frozen=True, slots=True)
class Report:
    """A report mail as read: its kind, the worst failure it tells of, the VERP token."""

    kind: ReportKind
    failure: Failure | None
    token: Token | None
    subject: str = ""

    @property
    def event(self) -> EventKind | None:
        """What to record: a complaint, a kind of bounce, or nothing."""
        if self.kind is ReportKind.COMPLAINT:
            return EventKind.COMPLAINT
        if self.kind is ReportKind.BOUNCE and self.failure is not None:
            return classify(self.failure)
        return None


def classify(failure: Failure) -> EventKind | None:
    """A failure's kind: ``hard`` is the address itself (5.1.x, 5.2.1); ``policy`` is what
    we sent (5.7.x); ``soft`` is full (5.2.2), temporary (4.x.x) or another 5.x.x;
    ``delayed`` is still being tried; a delivered or relayed line is nothing."""
    action = failure.action.lower()
    if action in ("delivered", "relayed", "expanded"):
        return None
    if action == "delayed":
        return EventKind.DELAYED
    status = failure.status or "5.0.0"
    klass, subject, _ = status.split(".")
    if klass == "5" and (subject == "1" or status == "5.2.1"):
        return EventKind.HARD
    if klass == "5" and subject == "7":
        return EventKind.POLICY
    return EventKind.SOFT


_SEVERITY = {EventKind.HARD: 4, EventKind.POLICY: 3, EventKind.SOFT: 2, EventKind.DELAYED: 1}


def read_report(raw: bytes, verp: Verp) -> Report:
    """Read one mail that came back to the bounce address."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    subject = _header(message, "Subject")
    token = _token(message, raw, verp)
    if _is_feedback_report(message):
        return Report(ReportKind.COMPLAINT, None, token, subject)
    failures = _dsn_failures(message)
    if failures:
        return Report(ReportKind.BOUNCE, _worst(failures), token, subject)
    if _looks_like_bounce(message, subject):
        return Report(ReportKind.BOUNCE, _text_failure(message, raw), token, subject)
    if _is_auto_reply(message, subject):
        return Report(ReportKind.AUTO_REPLY, None, token, subject)
    return Report(ReportKind.UNRECOGNISED, None, token, subject)


def _header(message: Message, name: str) -> str:
    value = message.get(name)
    return " ".join(str(value).split()) if value is not None else ""


def _token(message: Message, raw: bytes, verp: Verp) -> Token | None:
    for name in _DELIVERED_TO:
        for value in message.get_all(name) or []:
            token = verp.read(str(value))
            if token is not None:
                return token
    return verp.read(_all_text(message, raw))


def _all_text(message: Message, raw: bytes) -> str:
    """The raw mail and every decoded text part, for finding the token anywhere."""
    texts = [raw[:_MAX_TEXT].decode("latin-1")]
    for part in message.walk():
        if part.is_multipart() or part.get_content_maintype() == "message":
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            texts.append(payload[:_MAX_TEXT].decode("latin-1"))
    return "\n".join(texts)


def _is_feedback_report(message: Message) -> bool:
    if message.get_content_type() != "multipart/report":
        return any(part.get_content_type() == "message/feedback-report" for part in message.walk())
    return str(message.get_param("report-type", "")).lower() == "feedback-report"


def _dsn_failures(message: Message) -> list[Failure]:
    """Every per-recipient block of the mail's ``message/delivery-status`` parts."""
    failures: list[Failure] = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        if not isinstance(blocks, list):
            continue
        failures += [_failure(block) for block in blocks[1:] if isinstance(block, Message)]
    return [failure for failure in failures if failure.action]


def _failure(block: Message) -> Failure:
    diagnostic = _header(block, "Diagnostic-Code")
    match = _STATUS_FIELD.match(_header(block, "Status"))
    status = ".".join(match.groups()) if match else _status_in(diagnostic)
    recipient = _header(block, "Final-Recipient").rpartition(";")[2].strip() or None
    return Failure(_header(block, "Action") or "failed", status, diagnostic, recipient)


def _worst(failures: list[Failure]) -> Failure:
    return max(failures, key=_severity)


def _severity(failure: Failure) -> int:
    kind = classify(failure)
    return _SEVERITY[kind] if kind is not None and kind in _SEVERITY else 0


def _looks_like_bounce(message: Message, subject: str) -> bool:
    if message.get("X-Failed-Recipients") is not None:
        return True
    if _DAEMON.search(_header(message, "From")) and not _is_auto_reply(message, subject):
        return True
    return bool(_BOUNCE_SUBJECT.search(subject)) and _header(message, "Return-Path") in ("", "<>")


def _text_failure(message: Message, raw: bytes) -> Failure:
    """A non-standard bounce's status: the first SMTP reply with an enhanced code in its
    text, else a bare reply code (4xx: 4.0.0, 5xx: 5.0.0)."""
    text = _bounce_text(message, raw)
    status = _status_in(text)
    if status is None:
        bare = _BARE_REPLY.search(text)
        status = f"{bare.group(1)}.0.0" if bare else None
    recipients = _header(message, "X-Failed-Recipients")
    line = next((line.strip() for line in text.splitlines() if status and status in line), "")
    return Failure("failed", status, line[:300], recipients.split(",")[0].strip() or None)


def _bounce_text(message: Message, raw: bytes) -> str:
    """The bounce's own text: the first text part, up to where the returned copy starts."""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes) and payload.strip():
                return _before_copy(payload.decode("utf-8", "replace"))
    return _before_copy(raw.decode("latin-1"))


def _before_copy(text: str) -> str:
    cut = _COPY_STARTS.search(text)
    return text[: cut.start()] if cut else text[:_MAX_TEXT]


def _status_in(text: str) -> str | None:
    match = _REPLY_WITH_STATUS.search(text)
    return ".".join(match.groups()) if match else None


def _is_auto_reply(message: Message, subject: str) -> bool:
    auto = _header(message, "Auto-Submitted").lower()
    if auto and auto != "no":
        return True
    if message.get("X-Autoreply") is not None or message.get("X-Autorespond") is not None:
        return True
    if _header(message, "Precedence").lower() == "auto_reply":
        return True
    return bool(_AUTO_SUBJECT.search(subject))
