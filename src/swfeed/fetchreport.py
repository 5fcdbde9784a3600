"""What a fetch found, per source; and a fetch with nothing to do, told without the config.

``SourceReport`` is what ``pipeline.fetch`` gives back for each source and what the CLI
prints. When every source is a content folder, the validated-config cache also keeps a
``FetchShortcut`` (plain data: the store and each folder with the fingerprint of its
settings): ``unchanged_reports`` then tells from the store and one ``stat`` per file that
no folder changed since its last good fetch, and gives the reports that fetch would give,
so ``swfeed fetch`` with nothing new loads none of the config's models (see ``swfeed build``
and ``buildstamp`` for the same on the output side). Whenever it cannot tell (a folder
changed, a source failed last time or is backing off, a file cannot be read), the fetch
runs as usual.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from swfeed.errors import SwfeedError
from swfeed.sources.folderstate import folder_matches
from swfeed.store import Database
from swfeed.store.articles import ArticleStore, UpsertCounts


@dataclass
class SourceReport:
    """The outcome of fetching one source."""

    name: str
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    problems: list[SwfeedError] = field(default_factory=list)
    error: SwfeedError | None = None
    skipped_until: datetime | None = None
    not_modified: bool = False

    @property
    def failed(self) -> int:
        return len(self.problems) + (1 if self.error else 0)

    @property
    def outcome(self) -> str:
        """What the poll found, in a few words (for ``status``)."""
        if self.error is not None:
            return "failed"
        counts = self.counts
        found = [
            f"{number} {what}"
            for number, what in (
                (counts.new, "new"),
                (counts.updated, "updated"),
                (counts.removed, "removed"),
                (len(counts.merged), "merged"),
            )
            if number
        ]
        if found:
            return ", ".join(found)
        return "not modified" if self.not_modified else "nothing new"


@dataclass(frozen=True, slots=True)
class FolderFacts:
    """A content source as its no-change check needs it."""

    name: str
    path: Path
    settings: str
    """The fingerprint of the settings that shape its articles (``settings_key``)."""


@dataclass(frozen=True, slots=True)
class FetchShortcut:
    """What ``swfeed fetch`` needs of a config whose sources are all content folders to
    find, and report, that it has nothing to do (kept in the validated-config cache)."""

    store: Path
    folders: tuple[FolderFacts, ...]


def unchanged_reports(
    shortcut: FetchShortcut, db: Database, now: datetime
) -> list[SourceReport] | None:
    """The report of each source if no folder changed since its last fetch, which went
    well and is not backing off; else None: the fetch must run."""
    articles = ArticleStore(db)
    reports = []
    for folder in shortcut.folders:
        status = articles.source_status(folder.name)
        due = status.next_attempt is None or status.next_attempt <= now
        if status.failures or status.last_ok is None or not due:
            return None
        if not folder_matches(folder.path, status.state, folder.settings):
            return None
        counts = UpsertCounts(unchanged=articles.live_count(folder.name))
        reports.append(SourceReport(folder.name, counts, not_modified=True))
    return reports
