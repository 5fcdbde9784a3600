"""Category names from a source and from its config, merged whatever their case (pure)."""

from __future__ import annotations

from collections.abc import Iterable


def merge_categories(found: Iterable[str], configured: Iterable[str]) -> tuple[str, ...]:
    """``found`` then ``configured`` names, each once whatever its case; a configured
    spelling wins, so a page's "NEWS" and the config's "News" are one category, "News"."""
    wanted = [name.strip() for name in configured if name.strip()]
    spelling = {name.casefold(): name for name in wanted}
    merged: dict[str, str] = {}
    for name in (name.strip() for name in [*found, *wanted]):
        if name:
            merged.setdefault(name.casefold(), spelling.get(name.casefold(), name))
    return tuple(merged.values())
