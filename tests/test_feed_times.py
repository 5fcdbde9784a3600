"""Dates in feeds: a day alone is that day for every reader; entries have distinct times."""

from __future__ import annotations

import calendar
import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import feedparser
import pytest

from swfeed import pipeline
from swfeed.config import load_config
from swfeed.feeds.build import feed_times
from swfeed.feeds.times import Times, distinct_times
from swfeed.models import Image
from swfeed.sources.scrape import ListingItem, in_listing_order
from swfeed.store import Database
from swfeed.store.articles import ArticleStore
from tests.feedcheck import sample_article
from tests.samplesite import copy_sample, load_sample

NOW = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
NOON = datetime(2026, 1, 8, 12, tzinfo=UTC)
SITE_ORDER = [  # the Wix listing's order of the three stories of 8 January 2026
    "Women at the Center of Rwanda’s Peacebuilding and Recovery",
    "Rwandan Women Peacekeepers Lead Action",
    "The Continuing Challenge of Violence Against Women in Rwanda",
]


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample site published; its output folder."""
    config = load_sample(copy_sample(tmp_path_factory.mktemp("site")))
    with Database(config.store.path) as db:
        pipeline.publish(config, db, NOW)
    return config.output.path


def test_ties_get_one_second_each_in_id_order() -> None:
    """Three stories of one day: 12:00:00, 11:59:59, 11:59:58, the first id first."""
    shown = distinct_times((i, Times(NOON, NOON)) for i in ("c", "a", "b"))
    assert [shown[i].published for i in ("a", "b", "c")] == [
        NOON,
        NOON - timedelta(seconds=1),
        NOON - timedelta(seconds=2),
    ]
    assert all(times.updated == times.published for times in shown.values())


def test_edits_seen_in_one_fetch_get_distinct_updated_times() -> None:
    """Two edits stamped with the same fetch time, and an unedited story at that second."""
    seen = datetime(2026, 1, 10, 9, 30, tzinfo=UTC)
    shown = distinct_times(
        [
            ("a", Times(NOON, seen)),
            ("b", Times(NOON - timedelta(days=1), seen)),
            ("c", Times(seen, seen)),
        ]
    )
    updated = [times.updated for times in shown.values()]
    assert len(set(updated)) == 3
    assert shown["c"].updated == seen
    assert all(times.updated >= times.published for times in shown.values())


def test_distinct_times_keep_the_newest_first_order() -> None:
    """A later story never shows an earlier time than one below it."""
    stored = [(f"s{n}", Times(NOON - timedelta(seconds=n // 3), NOON)) for n in range(9)]
    stored = [(i, Times(t.published, t.published)) for i, t in stored]
    shown = distinct_times(stored)
    ordered = sorted(stored, key=lambda item: (-item[1].published.timestamp(), item[0]))
    times = [shown[i].published for i, _ in ordered]
    assert times == sorted(times, reverse=True)
    assert len(set(times)) == len(times)


@pytest.mark.parametrize("hours", range(-11, 12))
def test_readers_in_every_zone_show_the_stories_own_day(public: Path, hours: int) -> None:
    """feedparser's published time, shown in UTC-11 ... UTC+11, is the day the site gives."""
    feed = feedparser.parse((public / "feeds" / "rss.xml").read_bytes())
    reader = timezone(timedelta(hours=hours))
    days = {}
    for entry in feed.entries:
        moment = datetime.fromtimestamp(calendar.timegm(entry.published_parsed), UTC)
        days[entry.title] = moment.astimezone(reader).date()
    assert days[
        "Resilient Leaders, Powerful Mentors: Women in Rwanda’s Security Institutions "
        "Inspiring Change"
    ] == date(2025, 10, 10)
    assert {days[title] for title in SITE_ORDER} == {date(2026, 1, 8)}


def test_same_day_stories_keep_the_sites_order_with_distinct_times(public: Path) -> None:
    """Atom, RSS and JSON Feed list the three stories of 8 January as the site does."""
    feed = json.loads((public / "feeds" / "feed.json").read_text(encoding="utf-8"))
    items = [item for item in feed["items"] if item["title"] in SITE_ORDER]
    assert [item["title"] for item in items] == SITE_ORDER
    stamps = [item["date_published"] for item in items]
    assert stamps == sorted(set(stamps), reverse=True)
    for name in ("atom.xml", "rss.xml"):
        parsed = feedparser.parse((public / "feeds" / name).read_bytes())
        titles = [entry.title for entry in parsed.entries if entry.title in SITE_ORDER]
        assert titles == SITE_ORDER
        updated = [entry.updated for entry in parsed.entries]
        assert len(set(updated)) == len(updated)


def test_an_entry_shows_the_same_times_in_every_feed(public: Path) -> None:
    """The category feed of 'Gender-based violence' repeats the main feed's times."""
    main = json.loads((public / "feeds" / "feed.json").read_text(encoding="utf-8"))
    category = public / "feeds" / "category" / "gender-based-violence" / "feed.json"
    times = {item["id"]: item["date_published"] for item in main["items"]}
    for item in json.loads(category.read_text(encoding="utf-8"))["items"]:
        assert item["date_published"] == times[item["id"]]


def listing_item(slug: str, published: datetime) -> ListingItem:
    return ListingItem(slug, f"https://www.example.org/post/{slug}", published, day_only=True)


def test_listing_order_of_one_day_becomes_seconds_counted_from_below() -> None:
    """The top card of a day is the newest; a new card on top leaves the others' times."""
    cards = [listing_item(slug, NOON) for slug in ("top", "middle", "bottom")]
    cards.append(listing_item("older", NOON - timedelta(days=3)))
    times = [item.published for item in in_listing_order(cards)]
    assert times == [
        NOON + timedelta(seconds=2),
        NOON + timedelta(seconds=1),
        NOON,
        NOON - timedelta(days=3),
    ]
    again = in_listing_order([listing_item("newest", NOON), *cards])
    assert [item.published for item in again][1:] == times


def test_a_story_dated_today_is_shown_at_once(tmp_path: Path) -> None:
    """A date-only story of today is visible at 08:00, not held back until noon UTC."""
    morning = datetime(2026, 1, 8, 8, 0, tzinfo=UTC)
    config = load_config(copy_sample(tmp_path))
    today = sample_article(1, published=NOON, day_only=True, image=Image("https://x.org/a.jpg"))
    tomorrow = sample_article(2, published=NOON + timedelta(days=1), day_only=True)
    with Database(config.store.path) as db:
        store = ArticleStore(db)
        store.apply_fetch("site", [today, tomorrow], [], {}, morning)
        assert [a.id for a in store.latest(morning, 10)] == [today.id]
        later = store.latest(morning + timedelta(days=1), 10)
        assert [a.id for a in later] == [tomorrow.id, today.id]


def test_reading_only_articles_since_the_oldest_shown_gives_the_same_times(
    tmp_path: Path,
) -> None:
    """The bound feed_times puts on its query changes no shown article's times."""
    config = load_config(copy_sample(tmp_path))
    day = [sample_article(n, published=NOON - timedelta(days=n // 3)) for n in range(1, 13)]
    with Database(config.store.path) as db:
        store = ArticleStore(db)
        store.apply_fetch("site", day, [], {}, NOON + timedelta(days=1))
        later = NOON + timedelta(days=2)
        shown = store.latest(later, 5)
        everything = feed_times(store, later)
        bounded = feed_times(store, later, shown)
    assert {a.id: bounded[a.id] for a in shown} == {a.id: everything[a.id] for a in shown}
