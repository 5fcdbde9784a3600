"""What the subscriber side needs from the config, checked once when the server starts."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from swfeed.config import Config
from swfeed.delivery.settings import endpoint_url, link_keys, unsubscribe_url
from swfeed.slug import slugify
from swfeed.store import Database
from swfeed.store.articles import ArticleStore
from swfeed.store.subscribers import SignUpRules

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Urls:
    """The public URLs of the pages (on swfeed's own host, ``output.base_url``)."""

    subscribe: str
    confirm: str
    preferences: str
    unsubscribe: str


@dataclass(frozen=True, slots=True)
class SignupSettings:
    """The ``subscribe:`` section, resolved."""

    keys: tuple[bytes, ...]
    rules: SignUpRules
    min_fill: timedelta
    per_client: int
    per_hour: int
    trusted_proxies: tuple[Network, ...]
    store_ip: bool
    privacy_url: str | None
    site_origin: str
    urls: Urls
    zone: ZoneInfo


def why_off(config: Config) -> str | None:
    """Why sign-up cannot run with this config, or None when it can."""
    if not config.subscribe.enabled:
        return "subscribe.enabled is false"
    if config.digest is None or not config.digest.enabled:
        return "there is no digest to subscribe to (digest: section, digest.enabled)"
    if not link_keys(config):
        return "delivery.unsubscribe_secret is not set (it signs the links)"
    return None


def signup_settings(config: Config) -> SignupSettings:
    """The settings of a config for which ``why_off`` is None."""
    section = config.subscribe
    site = urlsplit(str(config.site.url))
    return SignupSettings(
        keys=link_keys(config),
        rules=SignUpRules(
            section.confirm_within, section.resend_after, section.max_confirmations_per_hour
        ),
        min_fill=timedelta(seconds=section.min_fill_seconds),
        per_client=section.per_client_per_hour,
        per_hour=section.per_hour,
        trusted_proxies=tuple(
            ipaddress.ip_network(n, strict=False) for n in section.trusted_proxies
        ),
        store_ip=section.store_ip,
        privacy_url=str(section.privacy_url) if section.privacy_url else None,
        site_origin=f"{site.scheme}://{site.netloc}",
        urls=Urls(
            subscribe=endpoint_url(config, "subscribe"),
            confirm=endpoint_url(config, "confirm"),
            preferences=endpoint_url(config, "preferences"),
            unsubscribe=unsubscribe_url(config),
        ),
        zone=config.site.zone,
    )


def offered_topics(config: Config, db: Database, now: datetime) -> list[tuple[str, str]]:
    """(slug, name) of the topics the forms offer: ``subscribe.topics`` if set (named
    as the articles name them), else every category the site's articles have."""
    known = ArticleStore(db).categories(now)
    if not config.subscribe.topics:
        return known
    names = dict(known)
    slugs = [slugify(topic) for topic in config.subscribe.topics]
    return [(slug, names.get(slug, slug.replace("-", " ").capitalize())) for slug in slugs]
