"""Plain text made fit for one place: a single line (header values, names), or a length
(summaries). Pure functions over ``str``; HTML to text is ``sanitize.plain_text``.
"""

from __future__ import annotations

import unicodedata


def one_line(text: str) -> str:
    """Text with control characters and line separators as spaces, whitespace collapsed.

    Covers CR, LF, NEL, VT, FF, the file/group/record separators, U+2028 and U+2029: every
    character that some parser treats as a line end.
    """
    cleaned = "".join(
        " " if unicodedata.category(char) in ("Cc", "Zl", "Zp", "Cs") else char for char in text
    )
    return " ".join(cleaned.split())


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 article``, ``2 articles``; ``many`` for words that do not just take an s."""
    return f"{count} {word if count == 1 else many or word + 's'}"


def truncate(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + "…"
