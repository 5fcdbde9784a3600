"""From the config to what delivery needs, checked before any message is built."""

from __future__ import annotations

from urllib.parse import urlsplit

from swfeed.config import MIN_SECRET_LENGTH, Config, DeliveryConfig
from swfeed.delivery.message import MessageSettings
from swfeed.delivery.verp import Verp, check_bounce_address
from swfeed.errors import DeliveryError
from swfeed.mailinglist.addresses import SubscriberError, normalize_address

_EXAMPLE = """Add to the config, for example:
    delivery:
      from_address: news@example.org
      unsubscribe_secret: ${SWFEED_UNSUBSCRIBE_SECRET}"""


def delivery_config(config: Config) -> DeliveryConfig:
    """The ``delivery:`` section; ``DeliveryError`` when there is none."""
    if config.delivery is None:
        raise DeliveryError("the config has no delivery: section", hint=_EXAMPLE)
    return config.delivery


def unsubscribe_secret(config: Config) -> bytes | None:
    """The HMAC key of unsubscribe links, if configured; too short is an error."""
    delivery = config.delivery
    if delivery is None or delivery.unsubscribe_secret is None:
        return None
    return _checked(delivery.unsubscribe_secret.get_secret_value(), "unsubscribe_secret")


def link_keys(config: Config) -> tuple[bytes, ...]:
    """Every key a link may be signed with: the current secret, then the earlier ones
    (``delivery.previous_secrets``). Empty without a secret."""
    current = unsubscribe_secret(config)
    if current is None or config.delivery is None:
        return ()
    earlier = config.delivery.previous_secrets
    return (
        current,
        *(_checked(s.get_secret_value(), f"previous_secrets[{n}]") for n, s in enumerate(earlier)),
    )


def _checked(secret: str, key: str) -> bytes:
    if len(secret) < MIN_SECRET_LENGTH:
        raise DeliveryError(
            f"delivery.{key} is shorter than {MIN_SECRET_LENGTH} characters",
            hint="Use a long random value, e.g. `python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))'`.",
        )
    return secret.encode("utf-8")


def unsubscribe_url(config: Config) -> str:
    """The public /unsubscribe URL: configured, else ``unsubscribe`` under the output's URL."""
    delivery = config.delivery
    if delivery is not None and delivery.unsubscribe_url is not None:
        return str(delivery.unsubscribe_url)
    return config.output_base_url + "unsubscribe"


def endpoint_url(config: Config, name: str) -> str:
    """The public URL of one of `swfeed serve`'s pages (``subscribe``, ``confirm``,
    ``preferences``): under ``output.base_url``, swfeed's own host."""
    return config.output_base_url + name


def message_settings(config: Config) -> MessageSettings:
    """Everything the message needs from the config, validated."""
    delivery = delivery_config(config)
    secret = unsubscribe_secret(config)
    mailto = _address(delivery.unsubscribe_mailto, "unsubscribe_mailto")
    if secret is None and mailto is None:
        raise DeliveryError(
            "recipients would have no way to unsubscribe",
            hint="Set delivery.unsubscribe_secret: ${SWFEED_UNSUBSCRIBE_SECRET} (for one-click "
            "links served by `swfeed serve`) and/or delivery.unsubscribe_mailto.",
        )
    host = urlsplit(str(config.site.url)).hostname or "localhost"
    return MessageSettings(
        from_address=_address(delivery.from_address, "from_address") or "",
        from_name=delivery.from_name,
        list_name=f"{config.site.title} weekly digest",
        list_id=f"digest.{host}",
        reply_to=_address(delivery.reply_to, "reply_to"),
        unsubscribe_url=unsubscribe_url(config) if secret is not None else None,
        unsubscribe_mailto=mailto,
        secret=secret,
        preferences_url=endpoint_url(config, "preferences") if secret is not None else None,
    )


def verp_settings(config: Config) -> Verp | None:
    """The VERP bounce address and its signing secret, when ``delivery.bounce_address`` is set."""
    delivery = config.delivery
    if delivery is None or delivery.bounce_address is None:
        return None
    bounce_address = _address(delivery.bounce_address, "bounce_address") or ""
    check_bounce_address(bounce_address)
    secret = unsubscribe_secret(config)
    if secret is None:
        raise DeliveryError(
            "delivery.bounce_address needs a secret to sign its tokens",
            hint="Set delivery.unsubscribe_secret: ${SWFEED_UNSUBSCRIBE_SECRET} (a long random "
            "value), or remove delivery.bounce_address.",
        )
    return Verp(bounce_address, (secret,))


def _address(value: str | None, key: str) -> str | None:
    if value is None:
        return None
    try:
        return normalize_address(value)
    except SubscriberError as exc:
        raise DeliveryError(
            f"delivery.{key}: {exc.message}", hint="Write a plain address, e.g. news@example.org."
        ) from None
