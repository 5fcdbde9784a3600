"""Digest issues: frozen once created, keyed by period; plus which articles each took up.

An issue's subject, HTML, text and article ids never change after ``create``; only its
delivery status does (``built`` -> ``sending`` -> ``sent``, or ``skipped``). Every article an
issue considered is recorded in ``issue_articles`` (shown or left out), so no later issue
takes it up again; articles of a ``skipped`` issue are released for the next one.

A period can be skipped before any issue was made for it (the digest time passed while
swfeed was down): that is a row of ``skipped_periods``, not an empty issue. ``status_of``
answers for both.
"""

from __future__ import annotations

import builtins
import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from swfeed.errors import DigestError, StoreError
from swfeed.models import Article, DigestIssue, Headline
from swfeed.store import Database, utc_text

STATUSES = ("built", "sending", "paused", "sent", "skipped")

#: Articles taken up by an issue (listed in ``issue_articles``, the issue not skipped).
_UNTAKEN = """
    SELECT a.data FROM articles a
    WHERE a.removed IS NULL AND a.merged_into IS NULL AND a.visible_from <= ? AND NOT EXISTS (
        SELECT 1 FROM issue_articles t JOIN issues i ON i.period = t.period
        WHERE i.status != 'skipped' AND t.article_id = a.id)
    ORDER BY a.published DESC, a.id
"""
_IS_TAKEN = """
    SELECT 1 FROM issue_articles t JOIN issues i ON i.period = t.period
    WHERE i.status != 'skipped' AND t.article_id = ?
"""


class IssueConflict(DigestError):
    """Another process froze an issue with some of the same articles meanwhile."""

    default_hint = "Run the command again: it picks up what the other process left."


@dataclass(frozen=True, slots=True)
class SkippedPeriod:
    """A period recorded as skipped before any issue was made for it."""

    period: str
    due: datetime
    decided: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class LeftOut:
    """An article an issue took up without showing it; ``reason`` is None when recorded
    before reasons were (over the cap or trimmed), ``article`` None if it is gone."""

    article_id: str
    reason: str | None
    article: Article | None


@dataclass(frozen=True, slots=True)
class IssueRecord:
    """A frozen issue with its (changeable) delivery status."""

    issue: DigestIssue
    status: str
    status_changed: datetime | None
    note: str | None


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _issue(row: sqlite3.Row) -> DigestIssue:
    return DigestIssue(
        period=row["period"],
        cutoff=datetime.fromisoformat(row["cutoff"]),
        subject=row["subject"],
        html=row["html"],
        text=row["text"],
        article_ids=tuple(json.loads(row["article_ids"])),
        created=datetime.fromisoformat(row["created"]),
        previous_cutoff=_time(row["previous_cutoff"]),
        archive_url=row["archive_url"],
        **_extra(json.loads(row["extra"])),
    )


def _extra(data: dict[str, Any]) -> dict[str, Any]:
    """``headlines`` and ``left_out`` from the ``extra`` column's JSON."""
    headlines = tuple(Headline(str(h["title"]), str(h["url"])) for h in data.get("headlines", ()))
    return {"headlines": headlines, "left_out": int(data.get("left_out", 0))}


def _extra_json(issue: DigestIssue) -> str:
    headlines = [{"title": h.title, "url": h.url} for h in issue.headlines]
    data = {"headlines": headlines, "left_out": issue.left_out}
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


def _record(row: sqlite3.Row) -> IssueRecord:
    return IssueRecord(_issue(row), row["status"], _time(row["status_changed"]), row["note"])


class IssueStore:
    """Queries and writes of the ``issues`` and ``issue_articles`` tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, period: str) -> DigestIssue | None:
        """The frozen issue of ``period``, or None."""
        found = self.record(period)
        return found.issue if found else None

    def record(self, period: str) -> IssueRecord | None:
        """The issue of ``period`` with its status, or None."""
        row = self.db.conn.execute("SELECT * FROM issues WHERE period = ?", (period,)).fetchone()
        return _record(row) if row else None

    def status_of(self, period: str) -> str | None:
        """The period's status: its issue's, ``skipped``, or None (nothing yet)."""
        found = self.record(period)
        if found is not None:
            return found.status
        row = self.db.conn.execute("SELECT 1 FROM skipped_periods WHERE period = ?", (period,))
        return "skipped" if row.fetchone() else None

    def newest_period(self) -> str | None:
        """The newest period with an issue or a skip, or None."""
        row = self.db.conn.execute(
            "SELECT max(period) FROM (SELECT period FROM issues"
            " UNION ALL SELECT period FROM skipped_periods)"
        ).fetchone()
        return str(row[0]) if row[0] is not None else None

    def skipped(self, limit: int | None = None) -> builtins.list[SkippedPeriod]:
        """Periods skipped without an issue, newest first."""
        rows = self.db.conn.execute(
            "SELECT * FROM skipped_periods ORDER BY period DESC LIMIT ?",
            (-1 if limit is None else limit,),
        )
        return [
            SkippedPeriod(
                row["period"],
                datetime.fromisoformat(row["due"]),
                datetime.fromisoformat(row["decided"]),
                row["reason"],
            )
            for row in rows
        ]

    def skip(self, period: str, due: datetime, now: datetime, reason: str) -> None:
        """Record ``period`` as skipped: its issue's status if one was made (its articles
        are released for the next issue), else a row of its own. Idempotent."""
        if self.record(period) is not None:
            self.set_status(period, "skipped", now, f"not sent: {reason}")
            return
        with self.db.write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO skipped_periods (period, due, decided, reason)"
                " VALUES (?, ?, ?, ?)",
                (period, utc_text(due), utc_text(now), reason),
            )

    def latest(self) -> DigestIssue | None:
        """The issue of the newest period (whatever its status), or None."""
        found = self.list(1)
        return found[0].issue if found else None

    def list(self, limit: int | None = None) -> builtins.list[IssueRecord]:
        """Issues with their statuses, newest period first (all of them when no limit)."""
        rows = self.db.conn.execute(
            "SELECT * FROM issues ORDER BY period DESC LIMIT ?", (-1 if limit is None else limit,)
        )
        return [_record(row) for row in rows]

    def previous_cutoff(self, period: str) -> datetime | None:
        """The cutoff of the newest issue before ``period`` (None for the first issue)."""
        row = self.db.conn.execute(
            "SELECT cutoff FROM issues WHERE period < ? ORDER BY period DESC LIMIT 1", (period,)
        ).fetchone()
        return _time(row["cutoff"]) if row else None

    def untaken(self, cutoff: datetime) -> builtins.list[Article]:
        """Articles visible at ``cutoff`` that no (unskipped) issue took up; newest first."""
        rows = self.db.conn.execute(_UNTAKEN, (utc_text(cutoff),))
        return [Article.from_json_dict(json.loads(row["data"])) for row in rows]

    def oldest_period(self) -> str | None:
        """The oldest period with an issue (the first issue ever made), or None."""
        row = self.db.conn.execute("SELECT min(period) FROM issues").fetchone()
        return str(row[0]) if row[0] is not None else None

    def left_out(self, period: str) -> builtins.list[LeftOut]:
        """The articles ``period``'s issue took up without showing, and why."""
        rows = self.db.conn.execute(
            "SELECT t.article_id, t.reason, a.data FROM issue_articles t"
            " LEFT JOIN articles a ON a.id = t.article_id"
            " WHERE t.period = ? AND t.position IS NULL ORDER BY a.published DESC, t.article_id",
            (period,),
        )
        return [
            LeftOut(
                row["article_id"],
                row["reason"],
                Article.from_json_dict(json.loads(row["data"])) if row["data"] else None,
            )
            for row in rows
        ]

    def create(self, issue: DigestIssue, left_out: Mapping[str, str] | None = None) -> DigestIssue:
        """Freeze ``issue`` and return it as stored; an existing period is never overwritten.

        ``left_out`` maps the ids the issue took up without showing them (over the cap,
        trimmed to fit, too old) to the reason: they count as taken up too. Raises
        ``IssueConflict`` when another issue took up one of the articles meanwhile.
        """
        left_out = left_out or {}
        with self.db.write() as conn:
            exists = conn.execute("SELECT 1 FROM issues WHERE period = ?", (issue.period,))
            if exists.fetchone() is None:
                self._check_untaken(conn, [*issue.article_ids, *left_out])
                self._insert(conn, issue, left_out)
        stored = self.get(issue.period)
        assert stored is not None
        return stored

    def _check_untaken(self, conn: sqlite3.Connection, ids: Sequence[str]) -> None:
        clashes = [i for i in ids if conn.execute(_IS_TAKEN, (i,)).fetchone()]
        if clashes:
            raise IssueConflict(
                f"{len(clashes)} article(s) were taken up by another issue meanwhile, "
                f"e.g. {clashes[0]}"
            )

    def _insert(
        self, conn: sqlite3.Connection, issue: DigestIssue, left_out: Mapping[str, str]
    ) -> None:
        previous = issue.previous_cutoff
        conn.execute(
            "INSERT INTO issues (period, cutoff, previous_cutoff, subject, html, text,"
            " article_ids, created, status, archive_url, extra)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'built', ?, ?)",
            (
                issue.period,
                utc_text(issue.cutoff),
                utc_text(previous) if previous else None,
                issue.subject,
                issue.html,
                issue.text,
                json.dumps(list(issue.article_ids)),
                utc_text(issue.created),
                issue.archive_url,
                _extra_json(issue),
            ),
        )
        rows: builtins.list[tuple[str, str, int | None, str | None]]
        rows = [(issue.period, i, n, None) for n, i in enumerate(issue.article_ids)]
        rows += [(issue.period, i, None, reason) for i, reason in left_out.items()]
        conn.executemany(
            "INSERT INTO issue_articles (period, article_id, position, reason) VALUES (?, ?, ?, ?)",
            rows,
        )

    def set_status(self, period: str, status: str, now: datetime, note: str | None = None) -> None:
        """Record a delivery status change: built | sending | paused | sent | skipped."""
        if status not in STATUSES:
            raise StoreError(
                f"unknown issue status {status!r}", hint=f"Use one of: {', '.join(STATUSES)}."
            )
        with self.db.write() as conn:
            cursor = conn.execute(
                "UPDATE issues SET status = ?, status_changed = ?, note = ? WHERE period = ?",
                (status, utc_text(now), note, period),
            )
        if cursor.rowcount == 0:
            raise StoreError(
                f"there is no digest issue {period}",
                hint="Run `swfeed digest freeze` to create it first.",
            )
