"""``digest preview`` output: the issue as one sample recipient would get it (files only).

The placeholders get sample values, and ``digest.eml`` is a complete multipart/alternative
message built with the standard library (``email.policy.SMTP``: CRLF line ends), so an
admin can open it in a mail client. Nothing is frozen or sent.
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

from swfeed.config import Config
from swfeed.digest.archive import unsubscribe_page
from swfeed.feeds.write import atomic_write
from swfeed.models import RECIPIENT_ADDRESS_TOKEN, UNSUBSCRIBE_URL_TOKEN, DigestIssue

SAMPLE_RECIPIENT = "subscriber@example.com"


@dataclass(frozen=True, slots=True)
class PreviewFiles:
    html: Path
    text: Path
    eml: Path


def personalize(issue: DigestIssue, address: str, unsubscribe_url: str) -> tuple[str, str]:
    """(HTML, text) of ``issue`` for one recipient: the placeholders filled in."""
    page = issue.html.replace(UNSUBSCRIBE_URL_TOKEN, html.escape(unsubscribe_url))
    page = page.replace(RECIPIENT_ADDRESS_TOKEN, html.escape(address))
    text = issue.text.replace(UNSUBSCRIBE_URL_TOKEN, unsubscribe_url)
    return page, text.replace(RECIPIENT_ADDRESS_TOKEN, address)


def sender(config: Config) -> tuple[str, str]:
    """(display name, address) of the From header: delivery's, else the site's."""
    if config.delivery is not None:
        return config.delivery.from_name or config.site.title, config.delivery.from_address
    host = urlsplit(config.site.base_url).hostname or "localhost"
    return config.site.title, config.site.author.email or f"news@{host}"


def sample_message(
    config: Config, issue: DigestIssue, now: datetime, address: str = SAMPLE_RECIPIENT
) -> EmailMessage:
    """The multipart/alternative message ``address`` would get (text first, then HTML)."""
    unsubscribe = unsubscribe_page(config)
    page, text = personalize(issue, address, unsubscribe)
    name, from_address = sender(config)
    message = EmailMessage(policy=SMTP)
    message["Subject"] = issue.subject
    message["From"] = formataddr((name, from_address))
    message["To"] = address
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=from_address.rpartition("@")[2] or None)
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(page, subtype="html", charset="utf-8", cte="quoted-printable")
    return message


def write_preview(config: Config, issue: DigestIssue, out: Path, now: datetime) -> PreviewFiles:
    """Write ``digest.html``, ``digest.txt`` and ``digest.eml`` into ``out``."""
    page, text = personalize(issue, SAMPLE_RECIPIENT, unsubscribe_page(config))
    files = PreviewFiles(out / "digest.html", out / "digest.txt", out / "digest.eml")
    atomic_write(files.html, page.encode("utf-8"))
    atomic_write(files.text, text.encode("utf-8"))
    atomic_write(files.eml, sample_message(config, issue, now).as_bytes())
    return files
