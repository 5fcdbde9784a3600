"""``digest preview`` output: the issue as one sample recipient would get it (files only).

With a ``delivery:`` section, ``digest.eml`` is made by delivery's own message builder for
the sample address ``preview@example.org``: the very bytes ``swfeed digest send --to
preview@example.org`` would send at the same moment (List-Id, List-Unsubscribe with a
signed token for that address, List-Unsubscribe-Post, the Message-ID derived from issue and
address). Without one there is no list to send to, and ``digest.eml`` is an approximation
built with the standard library (said so in ``PreviewFiles.note``). ``digest.html`` and
``digest.txt`` are the two parts of that message. Nothing is frozen or sent.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from urllib.parse import urlsplit

from swfeed.atomicfile import atomic_write
from swfeed.config import Config
from swfeed.delivery.message import Recipient, build_template, preferences_link, unsubscribe_link
from swfeed.delivery.settings import message_settings
from swfeed.digest.archive import unsubscribe_page
from swfeed.models import (
    PREFERENCES_URL_TOKEN,
    RECIPIENT_ADDRESS_TOKEN,
    UNSUBSCRIBE_URL_TOKEN,
    DigestIssue,
)

#: The sample recipient: a reserved domain, never a real subscriber (whose signed
#: unsubscribe link would then sit in the preview folder).
SAMPLE_RECIPIENT = "preview@example.org"
#: ... and its opaque id, which no subscriber has: its links are signed but lead nowhere.
SAMPLE_IDENT = "0" * 24


@dataclass(frozen=True, slots=True)
class PreviewFiles:
    html: Path
    text: Path
    eml: Path
    note: str


@dataclass(frozen=True, slots=True)
class SampleMessage:
    """The message one address would get, and its two parts decoded."""

    eml: bytes
    html: str
    text: str
    note: str


def personalize(
    issue: DigestIssue, address: str, unsubscribe_url: str, preferences_url: str
) -> tuple[str, str]:
    """(HTML, text) of ``issue`` for one recipient: the placeholders filled in."""
    values = {
        UNSUBSCRIBE_URL_TOKEN: unsubscribe_url,
        PREFERENCES_URL_TOKEN: preferences_url,
        RECIPIENT_ADDRESS_TOKEN: address,
    }
    page, text = issue.html, issue.text
    for token, value in values.items():
        page, text = page.replace(token, html.escape(value)), text.replace(token, value)
    return page, text


def delivered_message(
    config: Config, issue: DigestIssue, now: datetime, address: str = SAMPLE_RECIPIENT
) -> SampleMessage:
    """What delivery would send ``address`` at ``now`` (``delivery:`` must be configured)."""
    settings = message_settings(config)
    recipient = Recipient(address, ident=SAMPLE_IDENT)
    eml = build_template(issue, settings, now).render(recipient, dot_stuffed=False)
    links = unsubscribe_link(settings, recipient), preferences_link(settings, recipient)
    page, text = personalize(issue, address, *links)
    note = f"digest.eml is what delivery would send to {address} (a sample address)"
    return SampleMessage(eml, page, text, note)


def sender(config: Config) -> tuple[str, str]:
    """(display name, address) of the From header without delivery: the site's."""
    host = urlsplit(config.site.base_url).hostname or "localhost"
    return config.site.title, config.site.author.email or f"news@{host}"


def stdlib_message(
    config: Config, issue: DigestIssue, now: datetime, address: str = SAMPLE_RECIPIENT
) -> SampleMessage:
    """Without delivery: an approximate multipart/alternative message (text, then HTML)."""
    page, text = personalize(issue, address, unsubscribe_page(config), unsubscribe_page(config))
    name, from_address = sender(config)
    message = EmailMessage(policy=SMTP)
    message["Subject"] = issue.subject
    message["From"] = formataddr((name, from_address))
    message["To"] = address
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=from_address.rpartition("@")[2] or None)
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(page, subtype="html", charset="utf-8", cte="quoted-printable")
    note = (
        "delivery is not configured (no delivery: section), so digest.eml is only an "
        "approximation: no List-Id, no List-Unsubscribe, no signed unsubscribe link"
    )
    return SampleMessage(message.as_bytes(), page, text, note)


def sample_message(config: Config, issue: DigestIssue, now: datetime) -> SampleMessage:
    """The sample recipient's message: delivery's when configured, else the stdlib one."""
    if config.delivery is None:
        return stdlib_message(config, issue, now)
    return delivered_message(config, issue, now)


def write_preview(config: Config, issue: DigestIssue, out: Path, now: datetime) -> PreviewFiles:
    """Write ``digest.html``, ``digest.txt`` and ``digest.eml`` into ``out``."""
    sample = sample_message(config, issue, now)
    files = PreviewFiles(out / "digest.html", out / "digest.txt", out / "digest.eml", sample.note)
    atomic_write(files.html, sample.html.encode("utf-8"))
    atomic_write(files.text, sample.text.encode("utf-8"))
    atomic_write(files.eml, sample.eml)
    return files
