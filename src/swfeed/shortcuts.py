"""What the validated-config cache keeps with a config besides the config itself: what
``swfeed build`` and ``swfeed fetch`` need to find, and say, that they have nothing to do
without loading the config (see ``buildstamp`` and ``fetchreport``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from swfeed.buildstamp import BuildShortcut
    from swfeed.config import Config
    from swfeed.fetchreport import FetchShortcut


@dataclass(frozen=True, slots=True)
class Shortcuts:
    """Kept with the config in the cache (plain data, no config model)."""

    build: BuildShortcut
    fetch: FetchShortcut | None
    """None when a source is not a content folder."""


def shortcuts_of(config: Config) -> Shortcuts:
    """What the cache keeps with ``config``."""
    from swfeed.feeds.stamp import build_shortcut
    from swfeed.pipeline import fetch_shortcut

    return Shortcuts(build_shortcut(config), fetch_shortcut(config))


def cached_shortcuts(config_file: Path) -> Shortcuts | None:
    """What the cache keeps with the config in ``config_file``, if it holds that config as
    it is now (see ``configcache.cached_derived``); loads no config model."""
    from swfeed.configcache import cached_derived

    found = cached_derived(config_file)
    return found if isinstance(found, Shortcuts) else None
