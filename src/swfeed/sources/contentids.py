"""Which id an article file gets when its front matter gives none (pure).

Feed readers and the digest know a story by its id, so an id never changes once stored: not
when the source's ``link_pattern`` or the site URL changes, and not when the file is
renamed. An article file without ``id:`` keeps

1. the id its path had (the content source's state remembers each file's id), unless the
   file now holds another story (neither its date nor its title is the same);
2. else, when it is a renamed file, the id of the file that vanished in the same fetch
   with the same bytes, or the same date and title;
3. else (a new story) its URL as it is now: fixed from then on.

``swfeed check`` lists the files without ``id:``, with the id to write into each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from swfeed.stories import title_words


def story_key(day: date, title: str) -> str:
    """``2026-01-08 title words``: the ISO date, then the title folded to lower-case words."""
    return f"{day.isoformat()} {title_words(title)}"


@dataclass(frozen=True, slots=True)
class Remembered:
    """What the state remembers of a file: its id, bytes' hash and story (None if unknown)."""

    rel: str
    article_id: str
    sha256: str
    story: str | None


class IdBook:
    """The ids remembered from the last fetch, handed out to the files of this one.

    Built on first use from ``remembered()`` and ``present()`` (the paths found now): a
    fetch that parses no file without an id never pays for it.
    """

    def __init__(
        self,
        remembered: Callable[[], Iterable[Remembered]],
        present: Callable[[], Iterable[str]],
    ) -> None:
        self._remembered = remembered
        self._present = present
        self._by_rel: dict[str, Remembered] | None = None
        self._vanished: list[Remembered] = []

    def _book(self) -> dict[str, Remembered]:
        if self._by_rel is None:
            here = set(self._present())
            self._by_rel = {item.rel: item for item in self._remembered()}
            self._vanished = [item for rel, item in self._by_rel.items() if rel not in here]
        return self._by_rel

    def id_for(self, rel: str, sha256: str, story: str, url: str) -> str:
        """The id of the file ``rel`` (its bytes' hash and story given): see the docstring."""
        known = self._book().get(rel)
        if known is not None and _same_story(known.story, story):
            return known.article_id
        renamed = self._take(sha256=sha256) or self._take(story=story)
        if renamed is not None:
            return renamed
        if known is not None and known.article_id == url:
            return f"{url}#{story[0]}"  # another story in a file that had this URL as id
        return url

    def _take(self, *, sha256: str | None = None, story: str | None = None) -> str | None:
        """The id of a vanished file with these bytes or this story, handed out once."""
        for item in self._vanished:
            if item.sha256 == sha256 or (story is not None and item.story == story):
                self._vanished.remove(item)
                return item.article_id
        return None


def _same_story(remembered: str | None, story: str) -> bool:
    """The same date or the same title (an unknown story, from an older state, counts)."""
    if remembered is None:
        return True
    return remembered[:10] == story[:10] or remembered[11:] == story[11:]
