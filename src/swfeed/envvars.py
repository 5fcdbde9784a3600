"""``${NAME}``: how a config value reads an environment variable.

The YAML loader expands these references (``yamlfile``); the validated-config cache
(``configcache``) keys on the variables a config file names and reads the values that came
from them again when it loads, so no such value is ever written to its file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
"""``${NAME}``: the value of the environment variable NAME."""


def referenced_names(text: str) -> list[str]:
    """Every variable ``text`` names in ``${...}``, sorted, each once."""
    return sorted(set(REFERENCE.findall(text)))


def expand(text: str, environ: Mapping[str, str], missing: Callable[[str], str]) -> str:
    """``text`` with each ``${NAME}`` replaced by its value; ``missing(name)`` is called for
    a variable that is not set (it raises, or gives the text to use)."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        return environ[name] if name in environ else missing(name)

    return REFERENCE.sub(replace, text)
