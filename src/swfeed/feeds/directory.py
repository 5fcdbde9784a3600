"""What tells people about the feeds, beside them under ``<output>/feeds/``:

    feeds/index.html   every feed (the site and each category, in each format) with its
                       address, what it holds and how to subscribe; a page like the archive's
    feeds/feeds.opml   the same list as OPML 2.0, one outline per feed set (Atom), to import
    feeds/feed.css     the stylesheet the RSS and Atom feeds name, so a browser shows a
                       feed as a readable page instead of raw XML

They depend on the config and the category list only (not on the stories), so they change
when a category comes or goes. ``render_directory`` is pure; ``write_directory`` writes the
files atomically, like the feeds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from markupsafe import Markup

from swfeed.atomicfile import atomic_write
from swfeed.buildstamp import FEEDS_FOLDER
from swfeed.config import Config
from swfeed.feeds import opml
from swfeed.feeds.build import (
    ATOM,
    FORMATS,
    STYLESHEET,
    WriteReport,
    base_meta,
    feed_url,
)
from swfeed.templating import render_template, site_templates, site_view

INDEX = "index.html"
OPML = "feeds.opml"
INDEX_TEMPLATE = "feeds_index.html.j2"
STYLESHEET_TEMPLATE = "feed.css"


@dataclass(frozen=True, slots=True)
class FeedLink:
    """One feed file: its format's label, media type and public URL."""

    label: str
    media_type: str
    url: str


@dataclass(frozen=True, slots=True)
class FeedSet:
    """The three formats of one feed: the site's (``slug`` None) or a category's."""

    title: str
    name: str
    slug: str | None
    description: str
    holds: str
    links: tuple[FeedLink, ...]


def feed_sets(config: Config, categories: Sequence[tuple[str, str]]) -> list[FeedSet]:
    """The site's feed set, then one per category (``(slug, name)``) when they are written."""
    wanted = [(None, None), *categories] if config.feeds.per_category else [(None, None)]
    return [_feed_set(config, slug, name) for slug, name in wanted]


def _feed_set(config: Config, slug: str | None, name: str | None) -> FeedSet:
    meta = base_meta(config, name)
    newest = f"The newest {config.feeds.max_items} stories"
    holds = f"{newest} in the category {name}." if name else f"{newest} of the whole site."
    return FeedSet(
        title=meta.title,
        name=name or config.site.title,
        slug=slug,
        description=meta.description,
        holds=holds,
        links=tuple(
            FeedLink(fmt.label, fmt.media_type, feed_url(config, fmt, slug)) for fmt in FORMATS
        ),
    )


def index_url(config: Config) -> str:
    """The public URL of the page listing every feed."""
    return f"{config.output_base_url}{FEEDS_FOLDER}/"


def opml_url(config: Config) -> str:
    return f"{config.output_base_url}{FEEDS_FOLDER}/{OPML}"


def render_index(config: Config, sets: Sequence[FeedSet]) -> bytes:
    """``feeds/index.html``: the site's feeds, then each category's."""
    archive = f"{config.output_base_url}digest/" if config.digest else None
    page = render_template(
        site_templates(config),
        INDEX_TEMPLATE,
        site=site_view(config),
        main=sets[0],
        categories=sets[1:],
        opml_url=opml_url(config),
        archive_url=archive,
    )
    return page.encode("utf-8")


def render_opml(config: Config, sets: Sequence[FeedSet]) -> bytes:
    """``feeds/feeds.opml``: one outline per feed set, in Atom."""
    outlines = [
        opml.Outline(
            title=item.title,
            xml_url=next(link.url for link in item.links if link.label == ATOM.label),
            html_url=config.site.base_url,
            description=item.description,
            language=config.site.language,
        )
        for item in sets
    ]
    author = config.site.author
    return opml.render(
        f"{config.site.title} feeds", outlines, owner=author.name, owner_email=author.email
    )


def css_string(text: str) -> Markup:
    """``text`` as a double-quoted CSS string (safe to put in a stylesheet as is)."""
    escaped = "".join(
        f"\\{ord(char):x} " if char in '"\\<>' or ord(char) < 0x20 or char == "\x7f" else char
        for char in text
    )
    return Markup(f'"{escaped}"')  # noqa: S704 (every character CSS gives a meaning is escaped)


def render_stylesheet(config: Config) -> bytes:
    """``feeds/feed.css``: how browsers show the RSS and Atom feeds."""
    css = render_template(
        site_templates(config), STYLESHEET_TEMPLATE, index_url=css_string(index_url(config))
    )
    return css.encode("utf-8")


def render_directory(
    config: Config, categories: Sequence[tuple[str, str]]
) -> dict[PurePosixPath, bytes]:
    """The index page, the OPML list and the stylesheet, by path under the output folder."""
    sets = feed_sets(config, categories)
    folder = PurePosixPath(FEEDS_FOLDER)
    return {
        folder / INDEX: render_index(config, sets),
        folder / OPML: render_opml(config, sets),
        folder / STYLESHEET: render_stylesheet(config),
    }


def write_directory(
    config: Config, categories: Sequence[tuple[str, str]], report: WriteReport
) -> None:
    """Write the files of ``render_directory``, noting each in ``report``."""
    for relative, data in render_directory(config, categories).items():
        path = config.output.path.joinpath(relative)
        (report.written if atomic_write(path, data) else report.unchanged).append(path)
