"""Which config file a command reads (without loading the config's models)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

DEFAULT_CONFIG = Path("config/swfeed.yaml")
CONFIG_ENV = "SWFEED_CONFIG"


def config_path(explicit: str | Path | None, environ: Mapping[str, str] | None = None) -> Path:
    """Which config file to use: ``--config``, else ``$SWFEED_CONFIG``, else the default."""
    env = os.environ if environ is None else environ
    if explicit:
        return Path(explicit)
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    return DEFAULT_CONFIG
