"""Language tags (BCP 47) of articles: cleaning what sources give, and writing direction.

An article may be written in another language than the site's (``site.language``): its
front matter or its upstream feed says so, the feeds mark it (``xml:lang``, ``language``,
``dc:language``) and the digest sets ``lang`` and, for right-to-left scripts, ``dir``.
Pure functions over ``str``.
"""

from __future__ import annotations

import re

#: What a language tag looks like: a 2-3 letter language, then subtags (script, region...).
TAG_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"
_TAG = re.compile(TAG_PATTERN)

#: Languages written right to left (ISO 639), and scripts (ISO 15924) that are.
RTL_LANGUAGES = frozenset(
    {"ar", "arc", "azb", "ckb", "dv", "fa", "he", "iw", "ji", "ks", "nqo", "prs", "ps", "sd"}
    | {"syr", "ug", "ur", "yi"}
)
RTL_SCRIPTS = frozenset({"arab", "hebr", "thaa", "syrc", "nkoo", "adlm", "rohg", "mand", "samr"})
LTR_SCRIPTS = frozenset({"latn", "cyrl", "grek", "deva", "hans", "hant", "jpan", "kore"})


def clean_tag(value: object) -> str | None:
    """A language tag from untrusted input (``en_GB`` becomes ``en-GB``), or None."""
    if not isinstance(value, str):
        return None
    text = value.strip().replace("_", "-")
    return text if _TAG.match(text) and len(text) <= 35 else None


def other_language(tag: str | None, site: str) -> str | None:
    """``tag`` when it names another language than ``site`` (tags compare in any case)."""
    return None if tag is None or tag.casefold() == site.casefold() else tag


def is_rtl(tag: str) -> bool:
    """Whether text in ``tag`` is written right to left (by its script, else its language)."""
    parts = tag.casefold().split("-")
    for part in parts[1:]:
        if part in RTL_SCRIPTS:
            return True
        if part in LTR_SCRIPTS:
            return False
    return parts[0] in RTL_LANGUAGES
