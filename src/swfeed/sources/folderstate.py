"""A content folder's saved state, and whether the folder still matches it.

What a content source remembers between fetches (see ``sources.content``) is plain JSON:
the settings that shape its articles, and for each file its size, mtime, hash, article id
and the stat of each local image it uses. A folder *matches* its state when it holds
exactly those files with the same stat, every image they use is unchanged and the settings
are the same: then a fetch has nothing to read. This module tells that from the JSON as
stored, without the config's models, so that ``swfeed fetch`` with nothing new can tell
it as cheaply as ``swfeed build`` does (see ``fetchreport``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from swfeed.sources.files import FoundFile, scan

if TYPE_CHECKING:
    from swfeed.config import Config, ContentSourceConfig

ARTICLE_SUFFIX = ".md"
STATE_FORMAT = 1
RENDER_VERSION = 1  # bump when rendering changes, so every file is parsed again


def settings_key(
    name: str, site_url: str, output_url: str, timezone: str, link_pattern: str
) -> str:
    """A fingerprint of every setting that shapes an article (re-parse all on change)."""
    parts = [RENDER_VERSION, name, site_url, output_url, timezone, link_pattern]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def settings_of(source: ContentSourceConfig, site: Config) -> str:
    """The ``settings_key`` of a content source of ``site``."""
    return settings_key(
        source.name,
        site.site.base_url,
        site.output_base_url,
        site.site.timezone,
        source.link_pattern,
    )


def stat_pair(path: Path) -> list[int] | None:
    """A file's mtime and size as the state keeps them for an image; None when missing."""
    try:
        info = path.stat(follow_symlinks=False)
    except OSError:
        return None
    return [info.st_mtime_ns, info.st_size]


def folder_matches(root: Path, state: Mapping[str, Any], settings: str) -> bool:
    """The folder at ``root`` matches ``state`` (see the module docstring); a folder that
    is missing or holds a file that cannot be read as an article (a symlink) does not."""
    if not root.is_dir():
        return False
    found, errors = scan(root, frozenset({ARTICLE_SUFFIX}))
    return not errors and files_match(root, found, state, settings)


def files_match(
    root: Path, found: Sequence[FoundFile], state: Mapping[str, Any], settings: str
) -> bool:
    """The article files ``found`` under ``root`` are those of ``state``, each as ``stat``
    saw it then, with the images they use unchanged, and the settings are ``settings``.
    A state that is damaged or of another format does not match."""
    files = state.get("files")
    if state.get("format") != STATE_FORMAT or state.get("settings") != settings:
        return False
    if not isinstance(files, dict) or len(files) != len(found):
        return False
    try:
        return _same_files(root, found, files)
    except (KeyError, TypeError, AttributeError):
        return False


def _same_files(root: Path, found: Sequence[FoundFile], files: Mapping[str, Any]) -> bool:
    images: dict[str, list[int] | None] = {}
    for item in found:
        entry = files.get(item.rel)
        if entry is None or entry["mtime_ns"] != item.mtime_ns or entry["size"] != item.size:
            return False
        for rel, seen in entry.get("media", {}).items():
            if rel not in images:
                images[rel] = stat_pair(root / rel)
            if images[rel] != seen:
                return False
    return True
