"""The mailing list: one row per address, with its status, topics and consent record.

Statuses: ``pending`` (signed up, not confirmed yet), ``active`` (mailed), ``unsubscribed``,
``bounced``, ``complained``. Only ``active`` addresses are mailed. An erased address has no
row at all: only a keyed hash of it stays in ``suppressions``, so no import or admin can
add it back (only a new opt-in of its own).

Each row has an opaque random ``id``: links name the subscriber by it, never by the
address. A sign-up waiting for confirmation has a ``confirm_id`` of its own (the id in the
confirmation link), and the time it was asked for.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from swfeed.store import Database, utc_text
from swfeed.store.mailqueue import Kind, enqueue

#: The keyed hashes of an address under every key in use (see ``mailinglist.suppression``).
HashesOf = Callable[[str], Sequence[str]]


def new_id() -> str:
    """A fresh opaque id: 24 hex digits of randomness (a subscriber's, or a sign-up's). The
    links of ``mailinglist.tokens`` carry it, never the address."""
    return secrets.token_hex(12)


class Status(StrEnum):
    """Where a subscriber stands; only ``active`` addresses are mailed."""

    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"  # marked an issue as spam: unsubscribed and never mailed again


class Via(StrEnum):
    """How an address came onto the list."""

    FORM = "form"
    IMPORT = "import"
    ADMIN = "admin"
    LEGACY = "legacy"  # on the list before swfeed kept consent records


@dataclass(frozen=True, slots=True)
class Subscriber:
    """One address on the list, with everything swfeed holds about it."""

    address: str
    name: str
    status: Status
    created: datetime
    changed: datetime
    note: str | None = None
    ident: str = ""
    topics: tuple[str, ...] = ()
    joined_via: Via = Via.LEGACY
    joined: datetime | None = None
    consent_page: str | None = None
    confirmed: datetime | None = None
    confirm_requested: datetime | None = None
    ip: str | None = None
    paused_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class NewEntry:
    """An address the admin adds or imports."""

    address: str
    name: str = ""
    topics: tuple[str, ...] | None = None  # None: leave an existing subscriber's topics


@dataclass(frozen=True, slots=True)
class ImportCounts:
    """What an import did: new rows, changed rows, untouched rows, and kept-out rows."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    kept_out: tuple[tuple[str, str], ...] = ()  # (address, why)


@dataclass(frozen=True, slots=True)
class SignUp:
    """A sign-up from the form."""

    address: str
    name: str
    topics: tuple[str, ...]
    page: str | None
    ip: str | None


@dataclass(frozen=True, slots=True)
class SignUpRules:
    """How sign-ups are rationed (from ``subscribe:``)."""

    confirm_within: timedelta
    resend_after: timedelta
    max_confirmations_per_hour: int


def topics_key(topics: Sequence[str]) -> str:
    """Topics as stored: sorted, unique, comma-separated ('' for all)."""
    return ",".join(sorted(set(filter(None, topics))))


def _topics(text: str) -> tuple[str, ...]:
    return tuple(text.split(",")) if text else ()


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _when(value: datetime | None) -> str | None:
    return utc_text(value) if value else None


def _subscriber(row: sqlite3.Row) -> Subscriber:
    return Subscriber(
        address=row["address"],
        name=row["name"],
        status=Status(row["status"]),
        created=datetime.fromisoformat(row["created"]),
        changed=datetime.fromisoformat(row["changed"]),
        note=row["note"],
        ident=row["id"],
        topics=_topics(row["topics"]),
        joined_via=Via(row["joined_via"]),
        joined=_time(row["joined"]),
        consent_page=row["consent_page"],
        confirmed=_time(row["confirmed"]),
        confirm_requested=_time(row["confirm_requested"]),
        ip=row["ip"],
        paused_until=_time(row["paused_until"]),
    )


_BY = {
    "address": "SELECT * FROM subscribers WHERE address = ?",
    "id": "SELECT * FROM subscribers WHERE id = ?",
    "confirm_id": "SELECT * FROM subscribers WHERE confirm_id = ?",
}


#: Unsubscribe one subscriber, by address or by opaque id.
_LEAVE = {
    "address": "UPDATE subscribers SET status = 'unsubscribed', changed = ?, note = ?"
    " WHERE address = ? AND status IN ('active', 'pending')",
    "id": "UPDATE subscribers SET status = 'unsubscribed', changed = ?, note = ?"
    " WHERE id = ? AND status IN ('active', 'pending')",
}


def _row(conn: sqlite3.Connection, column: str, value: str) -> sqlite3.Row | None:
    found: sqlite3.Row | None = conn.execute(_BY[column], (value,)).fetchone()
    return found


def _suppressed(conn: sqlite3.Connection, hashes: Sequence[str]) -> bool:
    return any(
        conn.execute("SELECT 1 FROM suppressions WHERE hash = ?", (h,)).fetchone() for h in hashes
    )


class SubscriberStore:
    """Queries and writes of the ``subscribers`` and ``suppressions`` tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, address: str) -> Subscriber | None:
        row = _row(self.db.conn, "address", address)
        return _subscriber(row) if row else None

    def by_id(self, ident: str) -> Subscriber | None:
        """The subscriber a link's opaque id names."""
        row = _row(self.db.conn, "id", ident)
        return _subscriber(row) if row else None

    def all(self, status: Status | None = None) -> list[Subscriber]:
        """Every subscriber (or those with ``status``), by address."""
        sql = "SELECT * FROM subscribers"
        params: tuple[str, ...] = ()
        if status is not None:
            sql += " WHERE status = ?"
            params = (status.value,)
        rows = self.db.conn.execute(sql + " ORDER BY address", params)
        return [_subscriber(row) for row in rows]

    def count(self, status: Status) -> int:
        row = self.db.conn.execute(
            "SELECT COUNT(*) FROM subscribers WHERE status = ?", (status.value,)
        ).fetchone()
        return int(row[0])

    def is_suppressed(self, hashes: Sequence[str]) -> bool:
        """Whether an erased address with one of these keyed hashes is kept out."""
        return _suppressed(self.db.conn, hashes)

    # -- the admin -----------------------------------------------------------------------

    def add(self, entry: NewEntry, now: datetime, hashes: Sequence[str]) -> str:
        """Add one address as active (the admin vouches for consent).

        Returns ``added``, ``updated`` (its name or topics changed), ``unchanged``, or why
        it was kept out: an address that unsubscribed, bounced, complained or was erased
        comes back only through a new opt-in of its own.
        """
        with self.db.write() as conn:
            return _import_one(conn, entry, now, lambda _address: hashes, Via.ADMIN)

    def import_all(
        self, entries: Sequence[NewEntry], now: datetime, hashes_of: HashesOf
    ) -> ImportCounts:
        """Add entries in one transaction; never re-activates anyone (see ``add``)."""
        counts = {"added": 0, "updated": 0, "unchanged": 0}
        kept_out: list[tuple[str, str]] = []
        with self.db.write() as conn:
            for entry in entries:
                outcome = _import_one(conn, entry, now, hashes_of, Via.IMPORT)
                if outcome in counts:
                    counts[outcome] += 1
                else:
                    kept_out.append((entry.address, outcome))
        return ImportCounts(
            counts["added"], counts["updated"], counts["unchanged"], tuple(kept_out)
        )

    def set_status(
        self, address: str, status: Status, now: datetime, note: str | None = None
    ) -> bool:
        """Set an address's status, remembering it even if unknown; True if anything changed.

        An unknown address is stored with this status, so a later import cannot add it back.
        """
        with self.db.write() as conn:
            return _set_status(conn, address, status, now, note)

    def leave_all(
        self, addresses: Sequence[str], idents: Sequence[str], now: datetime, note: str
    ) -> int:
        """Unsubscribe, in one transaction, the subscribers named by address or opaque id
        (queued unsubscribes); an address no longer held (erased) stays unknown. How many
        changed."""
        rows = [("address", a) for a in addresses] + [("id", i) for i in idents]
        with self.db.write() as conn:
            return sum(
                conn.execute(_LEAVE[column], (utc_text(now), note, value)).rowcount
                for column, value in rows
            )

    def erase(self, address: str, suppression_hash: str, now: datetime, reason: str) -> bool:
        """Delete everything held on ``address`` (its row, its ledger rows, its queued
        mails) and keep only its keyed hash on the suppression list; True if it was known."""
        with self.db.write() as conn:
            row = _row(conn, "address", address)
            if row is not None:
                conn.execute("DELETE FROM mail_queue WHERE subscriber = ?", (row["id"],))
                conn.execute("DELETE FROM subscribers WHERE id = ?", (row["id"],))
            conn.execute("DELETE FROM deliveries WHERE address = ?", (address,))
            conn.execute(
                "INSERT OR IGNORE INTO suppressions (hash, reason, created) VALUES (?, ?, ?)",
                (suppression_hash, reason, utc_text(now)),
            )
        return row is not None

    # -- the subscriber's own links --------------------------------------------------------

    def sign_up(
        self, request: SignUp, rules: SignUpRules, now: datetime, hashes: Sequence[str]
    ) -> bool:
        """Record a sign-up from the form; True if a confirmation email was queued.

        New and erased addresses become ``pending``. An active address changes nothing.
        A pending one gets its confirmation again only ``resend_after`` after the last.
        One that unsubscribed, bounced or complained keeps its status until it confirms
        this new opt-in. No more than ``max_confirmations_per_hour`` are queued in all.
        """
        with self.db.write() as conn:
            row = _row(conn, "address", request.address)
            if row is not None and row["status"] == Status.ACTIVE:
                return False
            if _confirmations_since(conn, now - timedelta(hours=1)) >= (
                rules.max_confirmations_per_hour
            ):
                return False
            if row is None:
                ident = _insert_pending(conn, request, now)
            elif _waiting(row, now, rules.confirm_within):
                sent = _time(row["confirm_sent"])
                if sent is not None and now - sent < rules.resend_after:
                    return False
                ident = row["id"]
            else:
                ident = _request_again(conn, row, request, now)
            conn.execute(
                "UPDATE subscribers SET confirm_sent = ? WHERE id = ?", (utc_text(now), ident)
            )
            enqueue(conn, Kind.CONFIRM, ident, now)
            return True

    def confirm_id_of(self, ident: str) -> str | None:
        """The id of a subscriber's outstanding sign-up (for its confirmation link)."""
        row = self.db.conn.execute(
            "SELECT confirm_id FROM subscribers WHERE id = ?", (ident,)
        ).fetchone()
        return row["confirm_id"] if row else None

    def waiting(self, confirm_id: str, now: datetime, within: timedelta) -> Subscriber | None:
        """The subscriber of a confirmation link, while it can still be confirmed."""
        row = _row(self.db.conn, "confirm_id", confirm_id)
        if row is None or not _waiting(row, now, within):
            return None
        return _subscriber(row)

    def confirm(
        self, confirm_id: str, now: datetime, within: timedelta, hashes_of: HashesOf
    ) -> Subscriber | None:
        """Confirm a sign-up: active from now, a welcome email queued; None if the link
        expired or was used. Its suppression hash (if it had been erased) is removed."""
        with self.db.write() as conn:
            row = _row(conn, "confirm_id", confirm_id)
            if row is None or not _waiting(row, now, within):
                return None
            conn.execute(
                "UPDATE subscribers SET status = 'active', confirmed = ?, joined = ?,"
                " joined_via = 'form', changed = ?, note = NULL WHERE id = ?",
                (utc_text(now), row["confirm_requested"], utc_text(now), row["id"]),
            )
            conn.executemany(
                "DELETE FROM suppressions WHERE hash = ?", [(h,) for h in hashes_of(row["address"])]
            )
            enqueue(conn, Kind.WELCOME, row["id"], now)
            found = _row(conn, "id", row["id"])
        return _subscriber(found) if found else None

    def save_preferences(
        self, ident: str, topics: Sequence[str], paused_until: datetime | None, now: datetime
    ) -> bool:
        """Set a subscriber's topics and pause; True if the subscriber exists."""
        with self.db.write() as conn:
            cursor = conn.execute(
                "UPDATE subscribers SET topics = ?, paused_until = ?, changed = ? WHERE id = ?",
                (topics_key(topics), _when(paused_until), utc_text(now), ident),
            )
        return cursor.rowcount > 0

    def leave(self, ident: str, now: datetime, note: str) -> Subscriber | None:
        """Unsubscribe the subscriber a link names (harmless when repeated)."""
        with self.db.write() as conn:
            conn.execute(_LEAVE["id"], (utc_text(now), note, ident))
            found = _row(conn, "id", ident)
        return _subscriber(found) if found else None

    def expire(self, now: datetime, within: timedelta) -> int:
        """Forget sign-ups not confirmed in time: pending rows are deleted (with their
        queued mails), others lose the outstanding request; how many."""
        before = utc_text(now - within)
        with self.db.write() as conn:
            conn.execute(
                "DELETE FROM mail_queue WHERE subscriber IN (SELECT id FROM subscribers"
                " WHERE status = 'pending' AND confirm_requested < ?)",
                (before,),
            )
            gone = conn.execute(
                "DELETE FROM subscribers WHERE status = 'pending' AND confirm_requested < ?",
                (before,),
            ).rowcount
            conn.execute(
                "UPDATE subscribers SET confirm_id = NULL, confirm_requested = NULL,"
                " confirm_sent = NULL WHERE confirm_requested < ?",
                (before,),
            )
        return gone


def _set_status(
    conn: sqlite3.Connection, address: str, status: Status, now: datetime, note: str | None
) -> bool:
    row = _row(conn, "address", address)
    if row is None:
        _insert(conn, NewEntry(address), status, now, Via.ADMIN, note)
        return True
    if row["status"] == status:
        return False
    conn.execute(
        "UPDATE subscribers SET status = ?, changed = ?, note = ? WHERE address = ?",
        (status.value, utc_text(now), note, address),
    )
    return True


def _import_one(
    conn: sqlite3.Connection, entry: NewEntry, now: datetime, hashes_of: HashesOf, via: Via
) -> str:
    """Add or update one entry: ``added``, ``updated``, ``unchanged`` or why it was kept out."""
    row = _row(conn, "address", entry.address)
    if row is None:
        if _suppressed(conn, hashes_of(entry.address)):
            return "erased at the person's request"
        _insert(conn, entry, Status.ACTIVE, now, via)
        return "added"
    if row["status"] == Status.PENDING:
        conn.execute(
            "UPDATE subscribers SET status = 'active', name = ?, topics = ?, joined_via = ?,"
            " joined = ?, changed = ?, confirm_id = NULL, confirm_requested = NULL WHERE id = ?",
            (
                entry.name or row["name"],
                topics_key(entry.topics or ()),
                via.value,
                utc_text(now),
                utc_text(now),
                row["id"],
            ),
        )
        return "added"
    if row["status"] != Status.ACTIVE:
        return f"{row['status']} on {row['changed'][:10]}"
    name = entry.name or row["name"]
    topics = row["topics"] if entry.topics is None else topics_key(entry.topics)
    if (name, topics) == (row["name"], row["topics"]):
        return "unchanged"
    conn.execute(
        "UPDATE subscribers SET name = ?, topics = ?, changed = ? WHERE id = ?",
        (name, topics, utc_text(now), row["id"]),
    )
    return "updated"


def _insert(
    conn: sqlite3.Connection,
    entry: NewEntry,
    status: Status,
    now: datetime,
    via: Via,
    note: str | None = None,
) -> str:
    ident = new_id()
    conn.execute(
        "INSERT INTO subscribers (address, name, status, created, changed, note, id, topics,"
        " joined_via, joined) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            entry.address,
            entry.name,
            status.value,
            utc_text(now),
            utc_text(now),
            note,
            ident,
            topics_key(entry.topics or ()),
            via.value,
            utc_text(now),
        ),
    )
    return ident


def _insert_pending(conn: sqlite3.Connection, request: SignUp, now: datetime) -> str:
    ident = _insert(
        conn, NewEntry(request.address, request.name, request.topics), Status.PENDING, now, Via.FORM
    )
    conn.execute(
        "UPDATE subscribers SET confirm_id = ?, confirm_requested = ?, consent_page = ?, ip = ?"
        " WHERE id = ?",
        (new_id(), utc_text(now), request.page, request.ip, ident),
    )
    return ident


def _request_again(
    conn: sqlite3.Connection, row: sqlite3.Row, request: SignUp, now: datetime
) -> str:
    """A new opt-in of a known address: a fresh confirmation id; the status stays."""
    conn.execute(
        "UPDATE subscribers SET confirm_id = ?, confirm_requested = ?, confirmed = NULL,"
        " consent_page = ?, ip = ?, topics = ?, name = ? WHERE id = ?",
        (
            new_id(),
            utc_text(now),
            request.page,
            request.ip,
            topics_key(request.topics),
            request.name or row["name"],
            row["id"],
        ),
    )
    return str(row["id"])


def _waiting(row: sqlite3.Row, now: datetime, within: timedelta) -> bool:
    """Whether the row has a sign-up that is still open (asked for, not yet confirmed)."""
    requested = _time(row["confirm_requested"])
    if requested is None or row["confirm_id"] is None or now - requested > within:
        return False
    confirmed = _time(row["confirmed"])
    return confirmed is None or confirmed < requested


def _confirmations_since(conn: sqlite3.Connection, since: datetime) -> int:
    row = conn.execute(
        "SELECT COUNT(*) FROM mail_queue WHERE kind = 'confirm' AND created >= ?",
        (utc_text(since),),
    ).fetchone()
    return int(row[0])
