"""The digest's config section, or a clear error saying how to switch the digest on."""

from __future__ import annotations

from swfeed.config import Config, DigestConfig
from swfeed.errors import ConfigError, Location

ENABLE_HINT = (
    "Add a `digest:` section with at least `postal_address:` to the config "
    "(config/swfeed.yaml ends with a commented example), then run `swfeed check`."
)


def digest_settings(config: Config) -> DigestConfig:
    """``config.digest``; a ``ConfigError`` (exit 2) when the config has no digest section."""
    if config.digest is None:
        where = Location(config.source_file) if config.source_file else None
        raise ConfigError(
            "the digest is not configured (no digest: section)",
            location=where,
            key="digest",
            hint=ENABLE_HINT,
        )
    return config.digest
