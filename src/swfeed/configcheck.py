"""What ``swfeed check`` warns about in a config that loads: settings that will not work (pure).

A warning does not stop anything (the config is valid); it names the key and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from swfeed.config import Config

#: Platforms that host the site and serve nothing of swfeed's: their display names.
HOSTED_PLATFORMS = {"wix": "Wix"}


@dataclass(frozen=True, slots=True)
class ConfigWarning:
    """A setting that loads but will not work as meant."""

    key: str
    message: str
    hint: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}\n  hint: {self.hint}"


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def host_warnings(config: Config) -> list[ConfigWarning]:
    """On a hosted platform, swfeed's own URLs must not point at the site's host."""
    platform = HOSTED_PLATFORMS.get(config.site.platform)
    if platform is None:
        return []
    site_host = _host(config.site.base_url)
    hint = (
        f"Serve swfeed's output and `swfeed serve` on a host of their own, e.g. "
        f"output.base_url: https://news.{site_host.removeprefix('www.')}/ "
        '(README: "Next to a Wix site").'
    )
    found: list[ConfigWarning] = []
    if _host(config.output_base_url) == site_host:
        given = "is" if config.output.base_url is not None else "defaults to the site URL,"
        found.append(
            ConfigWarning(
                "output.base_url",
                f"{given} on {site_host}, which {platform} serves: feeds, images, the digest's "
                "web copies and its unsubscribe link would all be dead links",
                hint,
            )
        )
    unsubscribe = config.delivery.unsubscribe_url if config.delivery else None
    if unsubscribe is not None and _host(str(unsubscribe)) == site_host:
        found.append(
            ConfigWarning(
                "delivery.unsubscribe_url",
                f"is on {site_host}, which {platform} serves: one-click unsubscribe would fail",
                "Leave it out (it defaults to <output.base_url>unsubscribe) or point it at "
                "the host that runs `swfeed serve`.",
            )
        )
    return found
