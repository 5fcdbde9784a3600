"""What the pages do, apart from HTTP: decide, record, queue (run in a worker thread).

Every answer to a sign-up is the same whatever the address's standing; only the store
knows whether a confirmation was queued. Bots (the honeypot filled, a missing or forged
form token, a form posted faster than ``min_fill``) and clients over their rate are
answered the same way and change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from swfeed.mailinglist.suppression import Suppression
from swfeed.mailinglist.tokens import (
    Purpose,
    is_link_token,
    read_form_token,
    read_link_token,
    verify_legacy_token,
)
from swfeed.signup.clients import client_key
from swfeed.signup.forms import PreferencesForm, SignupForm
from swfeed.signup.settings import SignupSettings
from swfeed.store import Database
from swfeed.store.ratecounts import ALL_CLIENTS, RateCounts
from swfeed.store.subscribers import SignUp, Subscriber, SubscriberStore

#: A form shown longer ago than this is stale (reload the page).
FORM_MAX_AGE = timedelta(days=1)


def looks_human(settings: SignupSettings, form: SignupForm, now: datetime) -> bool:
    """The honeypot is empty and the form token is genuine, neither too fresh nor stale."""
    shown = read_form_token(settings.keys, form.token)
    if form.honeypot or shown is None:
        return False
    age = now.timestamp() - shown
    return settings.min_fill.total_seconds() <= age <= FORM_MAX_AGE.total_seconds()


def sign_up(
    settings: SignupSettings,
    db: Database,
    form: SignupForm,
    address: str,
    client: str,
    now: datetime,
) -> bool:
    """Record a sign-up of a valid ``address``; True if a confirmation mail was queued."""
    if not looks_human(settings, form, now):
        return False
    key = client_key(settings.keys[0], client, now)
    limits = [(key, settings.per_client), (ALL_CLIENTS, settings.per_hour)]
    if not RateCounts(db).take(limits, now):
        return False
    request = SignUp(
        address, form.name, form.topics, form.page, client if settings.store_ip else None
    )
    hashes = Suppression(settings.keys).hashes(address)
    return SubscriberStore(db).sign_up(request, settings.rules, now, hashes)


def _confirm_id(settings: SignupSettings, token: str) -> str | None:
    """The sign-up a confirmation link names; only the current secret signs them (a
    rotation expires confirmation links)."""
    return read_link_token(settings.keys[:1], Purpose.CONFIRM, token)


def waiting(settings: SignupSettings, db: Database, token: str, now: datetime) -> Subscriber | None:
    """The sign-up a confirmation link names, while it can still be confirmed."""
    confirm_id = _confirm_id(settings, token)
    if confirm_id is None:
        return None
    return SubscriberStore(db).waiting(confirm_id, now, settings.rules.confirm_within)


def confirm(settings: SignupSettings, db: Database, token: str, now: datetime) -> Subscriber | None:
    """Confirm the sign-up a link names; the subscriber, or None (forged, used or expired)."""
    confirm_id = _confirm_id(settings, token)
    if confirm_id is None:
        return None
    hashes_of = Suppression(settings.keys).hashes
    return SubscriberStore(db).confirm(confirm_id, now, settings.rules.confirm_within, hashes_of)


def holder(settings: SignupSettings, db: Database, token: str) -> Subscriber | None:
    """The subscriber a preference link names."""
    ident = read_link_token(settings.keys, Purpose.PREFERENCES, token)
    return SubscriberStore(db).by_id(ident) if ident else None


def pause_start(day: date | None, settings: SignupSettings) -> datetime | None:
    """A pause "until" a day ends when that day starts in the site's zone."""
    return datetime.combine(day, time(0), settings.zone) if day else None


def save_preferences(
    settings: SignupSettings,
    db: Database,
    subscriber: Subscriber,
    form: PreferencesForm,
    now: datetime,
) -> str:
    """Apply the preference form: ``saved``, ``left`` or ``erased``."""
    store = SubscriberStore(db)
    if form.action == "erase":
        erase(settings.keys, db, subscriber.address, now, "erased at the person's request")
        return "erased"
    if form.action == "leave":
        store.leave(subscriber.ident, now, "left from the preference page")
        return "left"
    store.save_preferences(
        subscriber.ident, form.topics, pause_start(form.pause_until, settings), now
    )
    return "saved"


def erase(keys: tuple[bytes, ...], db: Database, address: str, now: datetime, reason: str) -> bool:
    """Delete everything held on ``address``, keeping only its keyed hash; True if known."""
    return SubscriberStore(db).erase(address, Suppression(keys).hash(address), now, reason)


@dataclass(frozen=True, slots=True)
class Unsubscriber:
    """Whom an unsubscribe link names: a subscriber's opaque id, or (links in issues
    sent by swfeed 0.1) an address."""

    ident: str | None = None
    address: str | None = None


def read_unsubscribe(keys: tuple[bytes, ...], token: str) -> Unsubscriber | None:
    """Whom an unsubscribe token (either format) names, or None if it is not genuine."""
    if is_link_token(token):
        ident = read_link_token(keys, Purpose.UNSUBSCRIBE, token)
        return Unsubscriber(ident=ident) if ident else None
    address = verify_legacy_token(keys, token)
    return Unsubscriber(address=address) if address else None


def unsubscriber(db: Database, who: Unsubscriber) -> Subscriber | None:
    """The subscriber a link names (None once erased)."""
    store = SubscriberStore(db)
    if who.ident is not None:
        return store.by_id(who.ident)
    return store.get(who.address) if who.address else None


def unsubscribe(db: Database, who: Unsubscriber, now: datetime) -> Subscriber | None:
    """Unsubscribe whom a link names (harmless when repeated, or once erased)."""
    found = unsubscriber(db, who)
    if found is None:
        return None
    return SubscriberStore(db).leave(found.ident, now, "unsubscribed by link")
