"""The subscriber side in the store: sign-ups, confirmation, expiry, erasure, rate counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from swfeed.mailinglist.suppression import Suppression
from swfeed.store import Database
from swfeed.store.mailqueue import Kind, MailQueue
from swfeed.store.ratecounts import RateCounts
from swfeed.store.subscribers import (
    NewEntry,
    SignUp,
    SignUpRules,
    Status,
    SubscriberStore,
    Via,
)

NOW = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
RULES = SignUpRules(timedelta(days=7), timedelta(hours=1), 100)
KEYS = Suppression([b"k" * 32, b"old-secret-0123456789"])


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return Database(tmp_path / "store.sqlite3")


def sign_up(db: Database, address: str = "ann@example.org", at: datetime = NOW) -> bool:
    request = SignUp(address, "Ann", ("policy",), "https://site.example/join", None)
    return SubscriberStore(db).sign_up(request, RULES, at, KEYS.hashes(address))


def queued(db: Database, kind: Kind) -> int:
    return sum(1 for mail in MailQueue(db).due(NOW + timedelta(days=30)) if mail.kind is kind)


def confirm_id(db: Database, address: str = "ann@example.org") -> str:
    found = SubscriberStore(db).get(address)
    assert found is not None
    cid = SubscriberStore(db).confirm_id_of(found.ident)
    assert cid is not None
    return cid


def confirm(db: Database, cid: str, at: datetime = NOW) -> Status | None:
    found = SubscriberStore(db).confirm(cid, at, RULES.confirm_within, KEYS.hashes)
    return found.status if found else None


def test_new_address_is_pending_with_a_confirmation_queued(db: Database) -> None:
    """A sign-up of a new address stores it pending, with its consent page, and queues one mail."""
    assert sign_up(db)
    found = SubscriberStore(db).get("ann@example.org")
    assert found is not None
    assert (found.status, found.joined_via, found.topics) == (Status.PENDING, Via.FORM, ("policy",))
    assert found.consent_page == "https://site.example/join"
    assert found.ip is None
    assert queued(db, Kind.CONFIRM) == 1


def test_second_sign_up_within_the_hour_sends_no_second_mail(db: Database) -> None:
    """Signing up again within resend_after queues nothing; after it, one more mail."""
    sign_up(db)
    assert not sign_up(db, at=NOW + timedelta(minutes=59))
    assert sign_up(db, at=NOW + timedelta(minutes=61))
    assert queued(db, Kind.CONFIRM) == 2


def test_active_address_signing_up_again_changes_nothing(db: Database) -> None:
    """An active subscriber's sign-up queues no mail and keeps them as they are."""
    SubscriberStore(db).add(NewEntry("ann@example.org", "Ann"), NOW, [])
    assert not sign_up(db)
    found = SubscriberStore(db).get("ann@example.org")
    assert found is not None
    assert (found.status, found.topics) == (Status.ACTIVE, ())


def test_confirming_activates_and_queues_the_welcome(db: Database) -> None:
    """POSTing the confirmation makes the address active, records when, and queues a welcome."""
    sign_up(db)
    assert confirm(db, confirm_id(db), NOW + timedelta(hours=2)) is Status.ACTIVE
    found = SubscriberStore(db).get("ann@example.org")
    assert found is not None
    assert found.confirmed == NOW + timedelta(hours=2)
    assert found.joined == NOW
    assert queued(db, Kind.WELCOME) == 1


def test_confirmation_link_expires(db: Database) -> None:
    """A confirmation after confirm_within fails, and the worker's expiry deletes the row."""
    sign_up(db)
    cid = confirm_id(db)
    late = NOW + timedelta(days=7, seconds=1)
    assert confirm(db, cid, late) is None
    assert SubscriberStore(db).expire(late, RULES.confirm_within) == 1
    assert SubscriberStore(db).get("ann@example.org") is None
    assert queued(db, Kind.CONFIRM) == 0


def test_confirmation_link_works_once(db: Database) -> None:
    """A used confirmation link does nothing more (no second welcome)."""
    sign_up(db)
    cid = confirm_id(db)
    confirm(db, cid)
    assert confirm(db, cid) is None
    assert queued(db, Kind.WELCOME) == 1


def test_old_confirmation_link_cannot_undo_a_later_unsubscribe(db: Database) -> None:
    """Someone who confirmed, then left, is not re-subscribed by the old confirmation link."""
    sign_up(db)
    cid = confirm_id(db)
    confirm(db, cid)
    SubscriberStore(db).set_status("ann@example.org", Status.UNSUBSCRIBED, NOW)
    assert confirm(db, cid) is None
    found = SubscriberStore(db).get("ann@example.org")
    assert found is not None
    assert found.status is Status.UNSUBSCRIBED


@pytest.mark.parametrize("status", [Status.UNSUBSCRIBED, Status.BOUNCED, Status.COMPLAINED])
def test_leaver_comes_back_only_by_confirming_a_new_opt_in(db: Database, status: Status) -> None:
    """A sign-up of an address that left queues a confirmation but keeps it out until confirmed."""
    SubscriberStore(db).set_status("ann@example.org", status, NOW)
    assert sign_up(db)
    found = SubscriberStore(db).get("ann@example.org")
    assert found is not None
    assert found.status is status
    assert confirm(db, confirm_id(db)) is Status.ACTIVE


def test_expired_opt_in_of_a_leaver_keeps_them_out(db: Database) -> None:
    """When a leaver's new opt-in expires, they stay as they were (not deleted, not active)."""
    SubscriberStore(db).set_status("ann@example.org", Status.UNSUBSCRIBED, NOW)
    sign_up(db)
    SubscriberStore(db).expire(NOW + timedelta(days=8), RULES.confirm_within)
    found = SubscriberStore(db).get("ann@example.org")
    assert found is not None
    assert found.status is Status.UNSUBSCRIBED


def test_confirmations_per_hour_are_capped(db: Database) -> None:
    """No more than max_confirmations_per_hour mails are queued in an hour, whoever asks."""
    rules = SignUpRules(timedelta(days=7), timedelta(hours=1), 3)
    store = SubscriberStore(db)
    results = [
        store.sign_up(SignUp(f"p{n}@example.org", "", (), None, None), rules, NOW, [])
        for n in range(5)
    ]
    assert results == [True, True, True, False, False]
    later = store.sign_up(
        SignUp("q@example.org", "", (), None, None), rules, NOW + timedelta(hours=1, seconds=1), []
    )
    assert later


def test_erase_keeps_only_a_keyed_hash(db: Database) -> None:
    """Erasing deletes the row, its ledger rows and queued mails; the suppression list holds
    a hash that is not the address."""
    sign_up(db)
    SubscriberStore(db).erase("ann@example.org", KEYS.hash("ann@example.org"), NOW, "asked")
    assert SubscriberStore(db).get("ann@example.org") is None
    dump = "\n".join(db.conn.iterdump())
    assert "ann@example.org" not in dump.lower()
    assert queued(db, Kind.CONFIRM) == 0
    assert SubscriberStore(db).is_suppressed(KEYS.hashes("ANN@example.org"))


def test_import_and_add_keep_erased_addresses_out(db: Database) -> None:
    """Neither an import nor the admin's add brings an erased address back."""
    store = SubscriberStore(db)
    store.erase("ann@example.org", KEYS.hash("ann@example.org"), NOW, "asked")
    counts = store.import_all([NewEntry("ann@example.org")], NOW, KEYS.hashes)
    assert counts.kept_out == (("ann@example.org", "erased at the person's request"),)
    assert store.add(NewEntry("Ann@Example.org"), NOW, KEYS.hashes("Ann@Example.org")) != "added"
    assert store.get("ann@example.org") is None


def test_erased_address_rotated_secret_still_suppressed(db: Database) -> None:
    """An address erased under an earlier secret stays out after a rotation."""
    before = Suppression([b"old-secret-0123456789"])
    SubscriberStore(db).erase("ann@example.org", before.hash("ann@example.org"), NOW, "asked")
    assert SubscriberStore(db).is_suppressed(KEYS.hashes("ann@example.org"))


def test_erased_person_may_opt_in_again(db: Database) -> None:
    """A new sign-up of an erased address is possible; confirming lifts the suppression."""
    SubscriberStore(db).erase("ann@example.org", KEYS.hash("ann@example.org"), NOW, "asked")
    assert sign_up(db)
    assert confirm(db, confirm_id(db)) is Status.ACTIVE
    assert not SubscriberStore(db).is_suppressed(KEYS.hashes("ann@example.org"))


def test_rate_counts_survive_a_restart(tmp_path: Path) -> None:
    """Counts live in the store: a new connection (a restarted server) sees them."""
    path = tmp_path / "store.sqlite3"
    with Database(path) as first:
        assert all(RateCounts(first).take([("client", 2)], NOW) for _ in range(2))
    with Database(path) as second:
        assert not RateCounts(second).take([("client", 2)], NOW)
        assert RateCounts(second).take([("client", 2)], NOW + timedelta(hours=1))


def test_rate_limit_over_counts_nothing(db: Database) -> None:
    """A refused request does not use up the other keys' allowance."""
    counts = RateCounts(db)
    assert counts.take([("a", 1), ("all", 5)], NOW)
    assert not counts.take([("a", 1), ("all", 5)], NOW)
    row = db.conn.execute("SELECT count FROM rate_counts WHERE key = 'all'").fetchone()
    assert row[0] == 1


def test_pause_keeps_a_subscriber_out_of_the_list_until_the_day(db: Database) -> None:
    """A paused subscriber is not among the recipients until the pause ends."""
    from swfeed.store.deliveries import DeliveryStore

    store = SubscriberStore(db)
    store.add(NewEntry("ann@example.org"), NOW, [])
    found = store.get("ann@example.org")
    assert found is not None
    store.save_preferences(found.ident, ("rwanda",), NOW + timedelta(days=14), NOW)
    assert DeliveryStore(db).topic_sets(NOW) == []
    assert DeliveryStore(db).recipients(NOW) == []
    assert DeliveryStore(db).topic_sets(NOW + timedelta(days=14)) == ["rwanda"]
