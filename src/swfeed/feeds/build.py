"""From the config and the article lists to the files under ``<output>/feeds/``.

    feeds/rss.xml  feeds/atom.xml  feeds/feed.json
    feeds/category/<slug>/rss.xml  .../atom.xml  .../feed.json

``render_feeds`` is pure (paths -> bytes); ``write_feeds`` writes them atomically, leaves
unchanged files alone, removes folders of categories that no longer exist and temp files
left by a crash. The pipeline queries the store (``load_feed_articles``) and calls
``write_feeds``; ``autodiscovery_tags`` gives the ``<link rel="alternate">`` tags for the
site's HTML head.
"""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from swfeed.atomicfile import atomic_write, is_temp_file, remove_temp_files
from swfeed.buildstamp import FEEDS_FOLDER
from swfeed.config import Config
from swfeed.errors import OutputError
from swfeed.feeds import FeedMeta, Renderer, atom, jsonfeed, rss
from swfeed.feeds.entry import Entry, EntryCache, newest_first, prepare_all
from swfeed.feeds.times import Times, distinct_times
from swfeed.models import Article
from swfeed.store.articles import ArticleStore

CATEGORY_FOLDER = "category"
STYLESHEET = "feed.css"
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")


@dataclass(frozen=True, slots=True)
class FeedFormat:
    """One of the three formats: its file name, media type, label and serializer."""

    key: str
    filename: str
    media_type: str
    label: str
    render: Renderer
    render_entries: Callable[[FeedMeta, Sequence[Entry]], bytes]


RSS = FeedFormat("rss", "rss.xml", rss.MEDIA_TYPE, "RSS", rss.render, rss.render_entries)
ATOM = FeedFormat("atom", "atom.xml", atom.MEDIA_TYPE, "Atom", atom.render, atom.render_entries)
JSON_FEED = FeedFormat(
    "json",
    "feed.json",
    jsonfeed.MEDIA_TYPE,
    "JSON Feed",
    jsonfeed.render,
    jsonfeed.render_entries,
)
FORMATS: tuple[FeedFormat, ...] = (RSS, ATOM, JSON_FEED)
FEED_FILES = frozenset(fmt.filename for fmt in FORMATS)


class CategoryFeed(NamedTuple):
    """One category's feeds: its slug (the folder name), display name and articles."""

    slug: str
    name: str
    articles: Sequence[Article]


@dataclass(slots=True)
class WriteReport:
    """What ``write_feeds`` did: the files written, left unchanged, folders removed.

    ``rendered`` is False when a build found nothing changed and rendered nothing (every
    file it made last time is then listed unchanged).
    """

    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    rendered: bool = True

    @property
    def changed(self) -> bool:
        return bool(self.written or self.removed)


def _folder(slug: str | None) -> PurePosixPath:
    if slug is None:
        return PurePosixPath(FEEDS_FOLDER)
    if not _SLUG.match(slug):
        raise OutputError(
            f"category slug {slug!r} is not a safe folder name",
            hint="Category slugs must be lower-case letters, digits and single hyphens.",
        )
    return PurePosixPath(FEEDS_FOLDER, CATEGORY_FOLDER, slug)


def base_meta(config: Config, category: str | None = None) -> FeedMeta:
    """The site's ``FeedMeta`` (for ``category``'s feed when given); URLs filled per file."""
    site = config.site
    title = f"{site.title}: {category}" if category else site.title
    description = (
        f"{site.title} articles in the category {category}." if category else site.description
    )
    return FeedMeta(
        title=title,
        link=site.base_url,
        self_url="",
        description=description,
        feed_id="",
        author_name=site.author.name,
        language=site.language,
        author_email=site.author.email,
        logo=str(site.logo) if site.logo else None,
        icon=str(site.icon) if site.icon else None,
        category=category,
        full_content=config.feeds.full_content,
        stylesheet=stylesheet_url(config),
        hubs=tuple(str(hub) for hub in config.feeds.websub.hubs),
    )


def stylesheet_url(config: Config) -> str:
    """Where the CSS that browsers show the RSS and Atom feeds with is published."""
    return f"{config.output_base_url}{FEEDS_FOLDER}/{STYLESHEET}"


def feed_url(config: Config, fmt: FeedFormat, slug: str | None = None) -> str:
    """The public URL of one feed file."""
    return f"{config.output_base_url}{_folder(slug) / fmt.filename}"


def _render_set(
    config: Config,
    slug: str | None,
    name: str | None,
    articles: Sequence[Article],
    cache: EntryCache,
    times: Mapping[str, Times] | None,
) -> dict[PurePosixPath, bytes]:
    meta = base_meta(config, name)
    atom_url = feed_url(config, ATOM, slug)
    chosen = newest_first(articles)[: config.feeds.max_items]
    entries = prepare_all(meta, chosen, cache, times)
    files: dict[PurePosixPath, bytes] = {}
    for fmt in FORMATS:
        url = feed_url(config, fmt, slug)
        files[_folder(slug) / fmt.filename] = fmt.render_entries(
            replace(meta, self_url=url, feed_id=atom_url), entries
        )
    return files


def render_feeds(
    config: Config,
    main: Sequence[Article],
    categories: Sequence[CategoryFeed],
    times: Mapping[str, Times] | None = None,
) -> dict[PurePosixPath, bytes]:
    """Every feed file's bytes, keyed by its path under the output folder (pure).

    ``times`` are the entries' shown times by article id (``feed_times``); without them
    each entry shows its stored times.
    """
    cache: EntryCache = {}
    files = _render_set(config, None, None, main, cache, times)
    if config.feeds.per_category:
        for slug, name, articles in categories:
            files.update(_render_set(config, slug, name, articles, cache, times))
    return files


def write_feeds(
    config: Config,
    main: Sequence[Article],
    categories: Sequence[CategoryFeed | tuple[str, str, Sequence[Article]]],
    *,
    now: datetime | None = None,
    times: Mapping[str, Times] | None = None,
) -> WriteReport:
    """Write all feeds under ``config.output.path``; see the module docstring.

    With ``now``, temp files left by a crashed run (older than ten minutes) are removed too.
    """
    wanted = [CategoryFeed(*category) for category in categories]
    files = render_feeds(config, main, wanted, times)
    output = config.output.path
    report = WriteReport()
    for relative, data in files.items():
        path = output.joinpath(relative)
        (report.written if atomic_write(path, data) else report.unchanged).append(path)
    keep = [c.slug for c in wanted] if config.feeds.per_category else []
    category_root = output / FEEDS_FOLDER / CATEGORY_FOLDER
    report.removed = remove_stale_folders(category_root, keep, FEED_FILES)
    if now is not None:
        remove_temp_files(output / FEEDS_FOLDER, now)
    return report


def changed_feed_urls(config: Config, report: WriteReport) -> list[str]:
    """The public URLs of the feed files ``report`` says were written (WebSub topics)."""
    root = config.output.path / FEEDS_FOLDER
    return [
        f"{config.output_base_url}{path.relative_to(config.output.path).as_posix()}"
        for path in report.written
        if path.name in FEED_FILES and path.is_relative_to(root)
    ]


def load_feed_articles(
    store: ArticleStore, config: Config, now: datetime
) -> tuple[list[Article], list[CategoryFeed]]:
    """The newest visible articles for the main feeds and, if enabled, each category's."""
    limit = config.feeds.max_items
    main = store.latest(now, limit)
    if not config.feeds.per_category:
        return main, []
    categories = [
        CategoryFeed(slug, name, store.latest(now, limit, slug))
        for slug, name in store.categories(now)
    ]
    return main, categories


def feed_times(
    store: ArticleStore, now: datetime, shown: Iterable[Article] = ()
) -> dict[str, Times]:
    """The distinct times the visible articles show in the feeds (see ``feeds.times``).

    With ``shown`` (the articles of every feed), only the articles published since the
    oldest of them are read: a tie moves the older article, so nothing older can change
    the times of those shown.
    """
    oldest = min((article.published for article in shown), default=None)
    stored = store.visible_times(now, oldest)
    return distinct_times((i, Times(published, updated)) for i, published, updated in stored)


def autodiscovery_tags(config: Config, category: tuple[str, str] | None = None) -> str:
    """HTML ``<link rel="alternate">`` tags for the site's (or a category's) feeds."""
    slug, name = category if category else (None, None)
    title = base_meta(config, name).title
    lines = []
    for fmt in FORMATS:
        href = html.escape(feed_url(config, fmt, slug), quote=True)
        label = html.escape(f"{title} ({fmt.label})", quote=True)
        lines.append(
            f'<link rel="alternate" type="{fmt.media_type}" title="{label}" href="{href}">'
        )
    return "\n".join(lines)


def remove_stale_folders(
    parent: Path, keep: Iterable[str], owned_names: frozenset[str]
) -> list[Path]:
    """Delete sub-folders of ``parent`` not named in ``keep`` that hold only files we own.

    A folder with anything else in it (an admin's own file) is left alone.
    """
    if not parent.is_dir():
        return []
    wanted = set(keep)
    removed: list[Path] = []
    for folder in sorted(p for p in parent.iterdir() if p.is_dir() and not p.is_symlink()):
        if folder.name in wanted:
            continue
        children = list(folder.iterdir())
        if all(c.is_file() and (c.name in owned_names or is_temp_file(c)) for c in children):
            try:
                shutil.rmtree(folder)
            except OSError as exc:
                raise OutputError(f"cannot remove {folder}: {exc.strerror or exc}") from None
            removed.append(folder)
    return removed
