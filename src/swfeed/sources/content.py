"""The content-folder source: Markdown files with YAML front matter, one per article.

The folder is read recursively for ``*.md`` (names starting with ``.`` or ``_`` and
``README.md`` are skipped). Unchanged files are not re-read: the saved state holds each
file's size, mtime and SHA-256, so a fetch with nothing changed only calls ``stat``; a file
whose stat changed but whose bytes did not is not re-parsed either. A broken file is
reported (``path:line`` and the fix) and skipped; every other article still publishes,
and an article that was published before keeps its last good version.

Images live in the folder too: ``media_files`` lists them with their output path
``media/<source name>/<path in the folder>``; the build step copies them there.
"""

from __future__ import annotations

import hashlib
import os
import stat as stat_mode
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cache
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urljoin, urlsplit
from zoneinfo import ZoneInfo

from swfeed.config import Config, ContentSourceConfig
from swfeed.errors import ContentError, Location, SourceError, SwfeedError
from swfeed.frontmatter import ArticleFile, ArticleFileError, localize, read_article_file
from swfeed.models import Article, Image
from swfeed.plaintext import one_line, truncate
from swfeed.sanitize import absolute_url, plain_text, sanitize_html
from swfeed.slug import slugify
from swfeed.sources import UNLIMITED, FetchResult, SourceState, WorkBudget
from swfeed.sources.contentids import IdBook, Remembered, story_key
from swfeed.sources.files import IMAGE_TYPES, FoundFile, scan, symlink_error
from swfeed.sources.folderstate import (
    ARTICLE_SUFFIX,
    STATE_FORMAT,
    files_match,
    settings_of,
    stat_pair,
)

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

MAX_ARTICLE_BYTES = 1_000_000
SUMMARY_CHARS = 300


def media_files(config: ContentSourceConfig) -> list[tuple[Path, PurePosixPath]]:
    """Every image in the folder and where it is published: ``media/<name>/<rel>``."""
    found, _errors = scan(config.path, frozenset(IMAGE_TYPES))
    return [(item.path, PurePosixPath("media", config.name, item.rel)) for item in found]


@cache
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt  # loaded only when a file is parsed

    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


@dataclass
class _Context:
    """What building one article needs besides the file itself."""

    root: Path
    name: str
    site_url: str
    media_url: str
    zone_name: str
    link_pattern: str = "{slug}"
    deps: dict[str, list[int]] = field(default_factory=dict)

    def media_link(self, rel: str) -> str:
        return f"{self.media_url}{quote(rel)}"


class ContentSource:
    """A folder of Markdown articles; see the module docstring."""

    def __init__(
        self, config: ContentSourceConfig, site: Config, budget: WorkBudget = UNLIMITED
    ) -> None:
        self.config = config
        self.site = site
        self.name = config.name
        self.budget = budget

    def settings_key(self) -> str:
        """A fingerprint of every setting that shapes an article (re-parse all on change)."""
        return settings_of(self.config, self.site)

    def fetch(self, state: SourceState, now: datetime, *, force: bool = False) -> FetchResult:
        """Load new and changed files; unchanged ones cost one ``stat`` each.

        ``force`` reads and parses every file again; ids stay as the state remembers them.
        """
        root = self.config.path
        if not root.is_dir():
            raise SourceError(
                self.name, f"the folder {root} is missing", hint="Check the source's path."
            )
        found, errors = scan(root, frozenset({ARTICLE_SUFFIX}))
        if not force and not errors and files_match(root, found, state, self.settings_key()):
            # nothing to read: the saved state is the new one, as it was
            return FetchResult(articles=[], removed_ids=[], state=state, not_modified=True)
        old = _files_of(state)
        same_settings = state.get("settings") == self.settings_key()
        trusted = old if same_settings and not force else {}
        ids = IdBook(lambda: _remembered(old), lambda: (item.rel for item in found))
        run = _Fetch(self._context(), trusted, old, errors, ids, self.budget)
        run.load(found)
        old_ids = {e.article_id for e in old.values() if e.article_id}
        new_ids = {e.article_id for e in run.files.values() if e.article_id}
        kept_all = trusted is old and run.files.keys() == old.keys() and not run.reread
        result = FetchResult(
            articles=run.articles,
            removed_ids=sorted(old_ids - new_ids),
            errors=list(run.errors),
            # every file kept its saved entry: the saved state is the new one, as it was
            state=state
            if kept_all
            else {
                "format": STATE_FORMAT,
                "settings": self.settings_key(),
                "files": {rel: entry.to_state() for rel, entry in run.files.items()},
            },
        )
        result.not_modified = not (result.articles or result.removed_ids or result.errors)
        return result

    def _context(self) -> _Context:
        return _Context(
            root=self.config.path,
            name=self.name,
            site_url=self.site.site.base_url,
            media_url=f"{self.site.output_base_url}media/{quote(self.name)}/",
            zone_name=self.site.site.timezone,
            link_pattern=urljoin(self.site.site.base_url, self.config.link_pattern),
        )


@dataclass(frozen=True, slots=True)
class FileEntry:
    """What the source remembers of one file: its stat and hash, the article it gave,
    and the stat of each local image it uses (so an edited image re-renders the article)."""

    mtime_ns: int
    size: int
    sha256: str
    article_id: str | None
    media: dict[str, list[int] | None] = field(default_factory=dict)
    story: str | None = None
    id_in_file: bool = True

    def to_state(self) -> dict[str, Any]:
        """The JSON-able form kept in the source's state (the keys of STATE_FORMAT 1;
        ``story`` and ``id_in_file`` are optional, absent in states of swfeed 0.1)."""
        data: dict[str, Any] = {
            "mtime_ns": self.mtime_ns,
            "size": self.size,
            "sha256": self.sha256,
            "article_id": self.article_id,
        }
        if self.media:
            data["media"] = dict(sorted(self.media.items()))
        if self.story is not None:
            data["story"] = self.story
        if not self.id_in_file:
            data["id_in_file"] = False
        return data

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> FileEntry:
        return cls(
            mtime_ns=int(data["mtime_ns"]),
            size=int(data["size"]),
            sha256=str(data["sha256"]),
            article_id=data.get("article_id"),
            media=dict(data.get("media", {})),
            story=data.get("story"),
            id_in_file=bool(data.get("id_in_file", True)),
        )


Files = dict[str, FileEntry]


def files_without_id(state: SourceState) -> list[tuple[str, str]]:
    """(file, the id it has) of every article file in ``state`` without an ``id:`` line."""
    return [
        (rel, entry.article_id)
        for rel, entry in sorted(_files_of(state).items())
        if entry.article_id and not entry.id_in_file
    ]


def _remembered(files: Files) -> list[Remembered]:
    return [
        Remembered(rel, entry.article_id, entry.sha256, entry.story)
        for rel, entry in files.items()
        if entry.article_id
    ]


def _files_of(state: SourceState) -> Files:
    files = state.get("files") if state.get("format") == STATE_FORMAT else None
    if not isinstance(files, dict):
        return {}
    try:
        return {rel: FileEntry.from_state(entry) for rel, entry in files.items()}
    except (KeyError, TypeError, ValueError):
        return {}  # a damaged state only costs a full re-read


class _Fetch:
    """One fetch: which files changed, their articles, the new per-file state.

    ``previous`` is the saved state when it can be trusted (same settings), else empty;
    ``old`` is the saved state in any case, to keep a broken file's last good version.
    """

    def __init__(
        self,
        context: _Context,
        previous: Files,
        old: Files,
        errors: list[ContentError],
        ids: IdBook,
        budget: WorkBudget = UNLIMITED,
    ) -> None:
        self.context = context
        self.budget = budget
        self.previous = previous
        self.old = old
        self.ids = ids
        self.errors: list[SwfeedError] = list(errors)
        self.files: Files = {}
        self.articles: list[Article] = []
        self.reread = 0
        """How many files were read (their stat or an image they use changed)."""
        self._stats: dict[str, list[int] | None] = {}

    def load(self, found: list[FoundFile]) -> None:
        """Keep unchanged files' entries; then read, hash and parse the others in order."""
        changed = []
        for item in found:
            entry = self.previous.get(item.rel)
            if entry is not None and _same_stat(entry, item) and self._deps_unchanged(entry):
                self.files[item.rel] = entry
            else:
                changed.append(item)
        self.reread = len(changed)
        claimed = {e.article_id: rel for rel, e in self.files.items() if e.article_id}
        for done, item in enumerate(changed):
            if self.budget.spent():
                self._postpone(changed[done:], self.context.name)
                return
            self._load_changed(item, claimed)

    def _postpone(self, rest: list[FoundFile], source: str) -> None:
        """Leave ``rest`` for the next fetch: their last state stays, nothing is removed."""
        for item in rest:
            if item.rel in self.old:
                self.files[item.rel] = self.old[item.rel]
        self.errors.append(
            SourceError(
                source,
                f"stopped after {self.budget.why()}; {len(rest)} changed file(s) are left "
                "for the next fetch",
                hint="Nothing was lost. If this repeats, look for very large or deeply "
                "nested files in the folder.",
            )
        )

    def _load_changed(self, item: FoundFile, claimed: dict[str, str]) -> None:
        entry = self.previous.get(item.rel)
        try:
            data = _read(item)
            digest = hashlib.sha256(data).hexdigest()
            if entry is not None and entry.sha256 == digest and self._deps_unchanged(entry):
                self.files[item.rel] = replace(entry, mtime_ns=item.mtime_ns, size=item.size)
                return
            self.context.deps = {}
            parsed = read_article_file(data, item.path)
            article = build_article(parsed, item.rel, self.context)
            story = story_key(_day(parsed.matter.date), parsed.matter.title)
            if article is not None and parsed.matter.id is None:
                article = replace(article, id=self.ids.id_for(item.rel, digest, story, article.url))
            if article is not None:
                _claim(claimed, article.id, item)
        except ArticleFileError as exc:
            self._failed(item, exc.errors)
            return
        except ContentError as exc:
            self._failed(item, [exc])
            return
        entry = _entry(item, digest, article, self.context.deps)
        self.files[item.rel] = replace(entry, story=story, id_in_file=parsed.matter.id is not None)
        if article is not None:
            self.articles.append(article)

    def _failed(self, item: FoundFile, errors: list[ContentError]) -> None:
        """Report the file; an article published before keeps its last good version."""
        self.errors.extend(errors)
        if item.rel in self.old:
            self.files[item.rel] = self.old[item.rel]

    def _deps_unchanged(self, entry: FileEntry) -> bool:
        for rel, seen in entry.media.items():
            if rel not in self._stats:
                self._stats[rel] = stat_pair(self.context.root / rel)
            if self._stats[rel] != seen:
                return False
        return True


def _day(value: date | datetime) -> date:
    """The calendar day as the file writes it."""
    return value.date() if isinstance(value, datetime) else value


def _same_stat(entry: FileEntry, item: FoundFile) -> bool:
    return entry.mtime_ns == item.mtime_ns and entry.size == item.size


def _claim(claimed: dict[str, str], article_id: str, item: FoundFile) -> None:
    owner = claimed.setdefault(article_id, item.rel)
    if owner != item.rel:
        raise ContentError(
            f"id {article_id!r} is already used by {owner}",
            location=Location(item.path, 1),
            hint="Give each article its own id (or url/slug); ids must never be reused.",
        )


def _entry(
    item: FoundFile, digest: str, article: Article | None, deps: dict[str, list[int]]
) -> FileEntry:
    article_id = article.id if article is not None else None
    return FileEntry(item.mtime_ns, item.size, digest, article_id, dict(deps))


def _read(item: FoundFile) -> bytes:
    """The file's bytes, refusing a symlink swapped in since the scan, and huge files."""
    if item.size > MAX_ARTICLE_BYTES:
        raise ContentError(
            f"the file is {item.size:,} bytes; the limit is {MAX_ARTICLE_BYTES:,}",
            location=Location(item.path),
            hint="Articles are text: move big pictures out of the Markdown into image files.",
        )
    try:
        fd = os.open(item.full_path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise ContentError(
            f"cannot read the file: {exc.strerror}",
            location=Location(item.path),
            hint="Check that the file exists, is not a symbolic link, and is readable.",
        ) from None
    with os.fdopen(fd, "rb") as handle:
        if not stat_mode.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise symlink_error(item.path)
        return handle.read(MAX_ARTICLE_BYTES + 1)


def build_article(parsed: ArticleFile, rel: str, context: _Context) -> Article | None:
    """One parsed file -> an ``Article`` (None for drafts); local images recorded as deps."""
    matter = parsed.matter
    if matter.draft:
        return None
    url = _canonical_url(parsed, rel, context)
    body_html, first_paragraph = _render_body(parsed, context)
    title = one_line(matter.title)
    if not title:
        raise ContentError(
            "title: the title is empty",
            location=parsed.locate("title"),
            hint="Write the headline as plain text.",
        )
    summary = one_line(matter.summary) if matter.summary is not None else first_paragraph
    external = _external(parsed)
    zone = _zone(context.zone_name)
    return Article(
        id=matter.id or url,
        url=url,
        title=title,
        published=localize(matter.date, zone),
        updated=localize(matter.updated, zone) if matter.updated is not None else None,
        source=context.name,
        summary=truncate(summary, SUMMARY_CHARS),
        body_html=body_html,
        authors=matter.clean_authors,
        categories=matter.clean_categories,
        image=_image(parsed, context),
        external_url=external[0] if external else None,
        external_source=external[1] if external else None,
        language=matter.language,
        day_only=not isinstance(matter.date, datetime),
    )


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _canonical_url(parsed: ArticleFile, rel: str, context: _Context) -> str:
    matter = parsed.matter
    if matter.url is not None:
        url = absolute_url(matter.url, context.site_url)
        if url is None or not url.startswith(("http://", "https://")):
            raise ContentError(
                "url: not an http(s) URL",
                location=parsed.locate("url"),
                hint="Write the article's address, e.g. https://www.example.org/news/my-story "
                "or /news/my-story.",
            )
        return url
    slug = matter.slug or default_slug(rel)
    if not slug:
        raise ContentError(
            "no slug can be made from the file name",
            location=Location(parsed.path, 1),
            hint="Add 'slug: my-story' (lowercase words joined by hyphens) to the front matter.",
        )
    return context.link_pattern.replace("{slug}", slug)


def default_slug(rel: str) -> str:
    """``news/2026-01-05-my-story.md`` -> ``my-story`` (a leading date is dropped)."""
    stem = PurePosixPath(rel).stem
    if len(stem) > 11 and stem[:10].replace("-", "").isdigit() and stem[10] in "-_":
        stem = stem[11:]
    return slugify(stem)


def _external(parsed: ArticleFile) -> tuple[str, str] | None:
    matter = parsed.matter
    if matter.external_url is None:
        if matter.external_source is not None:
            raise ContentError(
                "external_source: given without external_url",
                location=parsed.locate("external_source"),
                hint="Add external_url: the address of the full story, or remove this line.",
            )
        return None
    parts = urlsplit(matter.external_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ContentError(
            "external_url: not an absolute http(s) URL",
            location=parsed.locate("external_url"),
            hint="Write the full address, starting with https://.",
        )
    source = matter.external_source or (parts.hostname or "").removeprefix("www.")
    return matter.external_url.strip(), one_line(source)


def _image(parsed: ArticleFile, context: _Context) -> Image | None:
    image = parsed.matter.image
    if image is None:
        return None
    where = parsed.locate("image", "src")
    url, length, mime = _resolve_image(image.src, parsed.path, context, where)
    return Image(
        url=url,
        alt=one_line(image.alt),
        credit=one_line(image.credit),
        mime_type=mime,
        length=length,
    )


def _resolve_image(
    src: str, article: Path, context: _Context, where: Location
) -> tuple[str, int | None, str | None]:
    """(published URL, bytes, MIME type) of an image named in an article."""
    parts = urlsplit(src.strip())
    suffix = PurePosixPath(parts.path).suffix.lower()
    if parts.scheme or parts.netloc:
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ContentError(
                f"image {src!r}: only http(s) URLs or paths inside the folder are allowed",
                location=where,
                hint="Write https://... or a path relative to the article file.",
            )
        return src.strip(), None, IMAGE_TYPES.get(suffix)
    rel = _inside(src.strip(), article, context.root, where)
    path = context.root / rel
    if suffix not in IMAGE_TYPES:
        raise ContentError(
            f"image {src!r}: not a supported picture type",
            location=where,
            hint=f"Use one of: {', '.join(sorted(IMAGE_TYPES))} (SVG is not accepted).",
        )
    info = stat_pair(path)
    if info is None or not path.is_file():
        raise ContentError(
            f"image file {src!r} not found (looked for {path})",
            location=where,
            hint="Check the file name and that the path is relative to the article file.",
        )
    context.deps[rel] = info
    return context.media_link(rel), info[1], IMAGE_TYPES[suffix]


def _inside(src: str, article: Path, root: Path, where: Location) -> str:
    """``src`` (relative to the article; ``/x`` = folder root) as a path in the folder."""
    base = root if src.startswith("/") else article.parent
    target = Path(os.path.normpath(base / src.lstrip("/")))
    try:
        rel = target.relative_to(root)
    except ValueError:
        rel = None
    if rel is None or rel.parts[:1] == ("..",) or not rel.parts:
        raise ContentError(
            f"image {src!r} leads outside the content folder",
            location=where,
            hint="Keep images inside the content folder and link them with a relative path.",
        )
    if target.resolve() != root.resolve() / rel:
        raise ContentError(
            f"image {src!r} goes through a symbolic link; refused",
            location=where,
            hint="Copy the picture into the content folder instead of linking to it.",
        )
    return rel.as_posix()


def _render_body(parsed: ArticleFile, context: _Context) -> tuple[str, str]:
    """(sanitized HTML of the body, plain text of its first paragraph)."""
    md = _markdown()
    tokens = md.parse(parsed.body)
    first = ""
    for index, token in enumerate(tokens):
        if token.type in ("heading_open", "heading_close") and token.tag == "h1":
            token.tag = "h2"
        if token.type == "inline":
            _rewrite_images(token, parsed, context)
        if not first and token.type == "paragraph_open":
            paragraph = md.renderer.render(tokens[index : index + 3], md.options, {})
            first = plain_text(paragraph, alt_text=False)
    html = md.renderer.render(tokens, md.options, {})
    return sanitize_html(html, context.site_url), first


def _rewrite_images(inline: Token, parsed: ArticleFile, context: _Context) -> None:
    """Point relative Markdown images at their published copies under media/."""
    line = parsed.body_line + (inline.map[0] if inline.map else 0)
    for child in inline.children or []:
        src = str(child.attrs.get("src", "")) if child.type == "image" else ""
        if not src or urlsplit(src).scheme or src.startswith("//"):
            continue
        where = Location(parsed.path, line)
        child.attrs["src"] = _resolve_image(unquote(src), parsed.path, context, where)[0]
