"""One pass over the bounce mailbox: read each new mail, act on it, file it away."""

from __future__ import annotations

import imaplib
from dataclasses import dataclass, field
from datetime import datetime

from swfeed.bounces.handle import BounceHandler, Handled
from swfeed.bounces.mailbox import BounceMailboxError, open_mailbox
from swfeed.config import BouncesConfig, Config
from swfeed.delivery.settings import verp_settings
from swfeed.delivery.verp import Verp
from swfeed.store import Database

_EXAMPLE = """Add to the config, for example:
    delivery:
      bounce_address: bounces@news.example.org
    bounces:
      maildir: /var/mail/swfeed-bounces"""


@dataclass
class BounceRun:
    """What a pass did: each mail handled, and mails seen before (filed away again)."""

    handled: list[Handled] = field(default_factory=list)
    again: int = 0

    def count(self, action_start: str) -> int:
        return sum(1 for item in self.handled if item.action.startswith(action_start))


def bounce_settings(config: Config) -> tuple[BouncesConfig, Verp]:
    """The ``bounces:`` section and the VERP settings its tokens are checked with."""
    verp = verp_settings(config)
    if config.bounces is None or verp is None:
        missing = "bounces:" if config.bounces is None else "delivery.bounce_address"
        raise BounceMailboxError(f"the config has no {missing}", hint=_EXAMPLE)
    return config.bounces, verp


def read_bounces(config: Config, db: Database, now: datetime) -> BounceRun:
    """Handle every new mail in the bounce mailbox once, then move it out of the inbox."""
    settings, verp = bounce_settings(config)
    handler = BounceHandler(db, verp, settings.soft_limit, now)
    mailbox = open_mailbox(settings.maildir, settings.imap)
    run = BounceRun()
    try:
        for mail in mailbox.mails():
            handled = handler.handle(mail.raw, mail.name)
            mailbox.done(mail)
            if handled is None:
                run.again += 1
            else:
                run.handled.append(handled)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise BounceMailboxError(
            f"reading the bounce mailbox failed: {exc}",
            hint="Nothing is lost: mails handled so far are remembered, the rest are read "
            "by the next run.",
        ) from None
    finally:
        mailbox.close()
    return run
