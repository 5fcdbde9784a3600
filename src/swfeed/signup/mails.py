"""The confirmation and welcome emails: rendered from their own templates (HTML extends
``email.html.j2`` with the digest's CSS inlined; text wrapped like the digest's), and
built with the digest's message code, so they are sent (and signed) the same way."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from swfeed.config import Config
from swfeed.delivery.message import Mail, Recipient
from swfeed.digest.periods import long_date
from swfeed.digest.render import inline_css, wrap_text
from swfeed.mailinglist.tokens import Purpose, link_token
from swfeed.models import DigestIssue
from swfeed.signup.settings import SignupSettings
from swfeed.store.mailqueue import Kind
from swfeed.store.subscribers import Subscriber
from swfeed.templating import render_template, site_templates, site_view

SUBJECTS = {
    Kind.CONFIRM: "Please confirm your subscription to {title}",
    Kind.WELCOME: "Welcome to {title}",
}


@dataclass(frozen=True, slots=True)
class MailView:
    """What the two mail templates render."""

    subject: str
    preheader: str
    recipient: str
    name: str
    confirm_url: str
    expires: str
    preferences_url: str
    unsubscribe_url: str
    topics: tuple[str, ...]
    latest_url: str | None
    latest_subject: str | None
    archive_url: str
    postal_lines: tuple[str, ...]


def signed(url: str, secret: bytes, purpose: Purpose, ident: str) -> str:
    """``url`` with the signed token of ``ident`` for ``purpose``."""
    return f"{url}?t={link_token(secret, purpose, ident)}"


def mail_view(
    config: Config,
    settings: SignupSettings,
    kind: Kind,
    subscriber: Subscriber,
    extra: dict[str, Any],
) -> MailView:
    """The template context of one mail to ``subscriber``."""
    secret = settings.keys[0]
    urls = settings.urls
    latest: DigestIssue | None = extra.get("latest")
    postal = config.digest.postal_address if config.digest else ""
    subject = SUBJECTS[kind].format(title=config.site.title)
    confirm_id = extra.get("confirm_id")
    requested = subscriber.confirm_requested or subscriber.created
    return MailView(
        subject=subject,
        preheader=_preheader(kind, config.site.title),
        recipient=subscriber.address,
        name=subscriber.name,
        confirm_url=signed(urls.confirm, secret, Purpose.CONFIRM, confirm_id) if confirm_id else "",
        expires=long_date(
            (requested + settings.rules.confirm_within).astimezone(settings.zone).date()
        ),
        preferences_url=signed(urls.preferences, secret, Purpose.PREFERENCES, subscriber.ident),
        unsubscribe_url=signed(urls.unsubscribe, secret, Purpose.UNSUBSCRIBE, subscriber.ident),
        topics=tuple(extra.get("topic_names", ())),
        latest_url=latest.archive_url if latest else None,
        latest_subject=latest.subject if latest else None,
        archive_url=f"{config.output_base_url}digest/",
        postal_lines=tuple(filter(None, map(str.strip, postal.splitlines()))),
    )


def _preheader(kind: Kind, title: str) -> str:
    if kind is Kind.CONFIRM:
        return f"One click to start getting the {title} weekly digest."
    return f"You will get the {title} weekly digest every week."


def render_mail(config: Config, kind: Kind, view: MailView, message_id: str) -> Mail:
    """The mail of ``kind`` (templates ``<kind>_email.html.j2`` and ``.txt.j2``)."""
    env = site_templates(config)
    context = {"site": site_view(config), "mail": view}
    html = inline_css(render_template(env, f"{kind.value}_email.html.j2", **context))
    text = wrap_text(render_template(env, f"{kind.value}_email.txt.j2", **context))
    return Mail(view.subject, html, text, Recipient(view.recipient, view.name), message_id)


def mail_message_id(kind: Kind, mail_id: int, subscriber: str, from_address: str) -> str:
    """``<swfeed.confirm.N.HASH@domain>``: the same for the same queued mail (an outbox
    file written twice is replaced, not doubled)."""
    digest = hashlib.sha256(subscriber.encode()).hexdigest()[:12]
    return f"<swfeed.{kind.value}.{mail_id}.{digest}@{from_address.rpartition('@')[2]}>"
