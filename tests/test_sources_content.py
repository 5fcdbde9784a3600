"""The content-folder source: parsing, errors with path:line, incremental fetches, samples."""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from swfeed.config import Config, ContentSourceConfig, load_config
from swfeed.errors import ContentError, SourceError
from swfeed.frontmatter import ArticleFile, read_article_file
from swfeed.models import Article
from swfeed.plaintext import truncate
from swfeed.sources import FetchResult, WorkBudget, build_source
from swfeed.sources import content as content_module
from swfeed.sources.content import ContentSource, default_slug, media_files
from swfeed.sources.files import FoundFile
from swfeed.store import Database
from swfeed.store.articles import ArticleStore

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data" / "content"
NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
GOOD = "good-story.md"


def make_config(tmp_path: Path, folder: Path, site_url: str = "https://www.example.org/") -> Config:
    """A Config with one content source reading ``folder``."""
    data = {
        "site": {
            "title": "Example",
            "url": site_url,
            "description": "Test site",
            "timezone": "Europe/London",
            "author": {"name": "Editor"},
        },
        "sources": [{"kind": "content", "name": "site", "path": str(folder)}],
        "store": {"path": str(tmp_path / "store.sqlite3")},
        "output": {"path": str(tmp_path / "public"), "base_url": "https://feeds.example.org/"},
    }
    return Config.model_validate(data, context={"base_dir": tmp_path})


def source_for(config: Config) -> ContentSource:
    source_config = config.sources[0]
    assert isinstance(source_config, ContentSourceConfig)
    return ContentSource(source_config, config)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A content folder holding the good fixture article and its image."""
    target = tmp_path / "content"
    target.mkdir()
    shutil.copy(DATA / GOOD, target / GOOD)
    shutil.copytree(DATA / "images", target / "images")
    return target


@pytest.fixture
def config(tmp_path: Path, folder: Path) -> Config:
    return make_config(tmp_path, folder)


@pytest.fixture
def fetch(config: Config) -> Callable[..., FetchResult]:
    """Fetch the fixture folder with a given state (empty by default)."""
    source = source_for(config)

    def run(state: dict[str, Any] | None = None, now: datetime = NOW) -> FetchResult:
        return source.fetch(state or {}, now)

    return run


@pytest.fixture
def store(config: Config) -> Iterator[ArticleStore]:
    db = Database(config.store.path)
    yield ArticleStore(db)
    db.close()


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def article_text(title: str = "Another story", extra: str = "", body: str = "Body text.") -> str:
    return f"---\ntitle: {title}\ndate: 2026-01-06\n{extra}---\n{body}\n"


def one(result: FetchResult) -> Article:
    assert not result.errors, [str(e) for e in result.errors]
    assert len(result.articles) == 1
    return result.articles[0]


def by_title(result: FetchResult) -> dict[str, Article]:
    return {article.title: article for article in result.articles}


def error_text(result: FetchResult) -> str:
    return "\n".join(str(error) for error in result.errors)


# --- the bundled sample site -------------------------------------------------------------


def sample_result() -> FetchResult:
    config = load_config(ROOT / "config" / "swfeed.yaml")
    return build_source(config.sources[0], config).fetch({}, NOW)


def test_sample_content_loads_nine_articles_without_errors() -> None:
    """The bundled content folder yields the nine news items and no errors."""
    result = sample_result()
    assert error_text(result) == ""
    assert len(result.articles) == 9
    assert len({article.id for article in result.articles}) == 9


def test_sample_content_has_the_seed_titles_and_dates() -> None:
    """Titles and dates match the news page the sample site copies."""
    dates = {a.title: a.published.date().isoformat() for a in sample_result().articles}
    assert dates["WPS in Peacekeeping: Gender Perceptions and Gaps in Mandate Integration"] == (
        "2026-01-05"
    )
    assert dates["Winnie’s Story - Choosing Policing as my career"] == "2025-12-18"
    assert dates["Rwanda to send all-woman peacekeeping force to South Sudan"] == "2018-07-10"
    assert sorted(dates.values()).count("2026-01-08") == 3


def test_sample_survey_article_has_credit_image_and_full_story_link() -> None:
    """The survey article carries the MONUSCO credit and the link to the full story."""
    survey = next(a for a in sample_result().articles if a.title.startswith("WPS in"))
    assert survey.image is not None
    assert survey.image.credit.endswith("MONUSCO/Kevin Jordan)")
    assert survey.image.alt
    assert survey.image.mime_type == "image/jpeg"
    assert survey.external_url is not None
    assert survey.external_url.startswith("https://")
    assert survey.external_source == "United Nations Peacekeeping"


def test_sample_images_are_small_real_jpegs() -> None:
    """Every bundled article picture is a JPEG under 60 KB, published under media/site/."""
    config = load_config(ROOT / "config" / "swfeed.yaml")
    source_config = config.sources[0]
    assert isinstance(source_config, ContentSourceConfig)
    files = [(p, out) for p, out in media_files(source_config) if p.parent.name == "images"]
    assert len(files) == 8
    for path, published in files:
        data = path.read_bytes()
        assert data[:3] == b"\xff\xd8\xff"
        assert len(data) < 60_000
        assert published.parts[:2] == ("media", "site")


# --- fields ------------------------------------------------------------------------------


def test_good_article_fields(fetch: Callable[..., FetchResult]) -> None:
    """Title, categories, summary and sanitized body come from the file."""
    article = one(fetch())
    assert article.title == "A good story"
    assert article.categories == ("Peacekeeping", "Policy")
    assert article.summary == "The first paragraph says what happened."
    assert article.body_html.startswith("<p>The first paragraph says what happened.</p>")
    assert article.source == "site"


def test_front_matter_language_is_the_articles(
    folder: Path, fetch: Callable[..., FetchResult]
) -> None:
    """``language: pt_BR`` gives the article the tag ``pt-BR``."""
    (folder / GOOD).unlink()
    write(folder, "historia.md", article_text("Mulheres na paz", "language: pt_BR\n"))
    assert one(fetch()).language == "pt-BR"


def test_article_without_language_has_none(fetch: Callable[..., FetchResult]) -> None:
    """No ``language`` means the site's: the article carries none of its own."""
    assert one(fetch()).language is None


def test_bad_language_names_line_and_fix(folder: Path, fetch: Callable[..., FetchResult]) -> None:
    """A language that is no tag is an error at its line, with an example of a good one."""
    (folder / GOOD).unlink()
    path = write(folder, "bad.md", article_text("Story", "language: French language\n"))
    text = error_text(fetch())
    assert f"{path}:4:" in text
    assert "language: not a language tag" in text
    assert "pt-BR" in text


def test_default_url_comes_from_file_name_without_date(
    folder: Path, fetch: Callable[..., FetchResult]
) -> None:
    """``2026-01-06-my-story.md`` is published at ``news/my-story``."""
    (folder / GOOD).unlink()
    write(folder, "2026/2026-01-06-My Story.md", article_text())
    assert one(fetch()).url == "https://www.example.org/news/my-story"


def test_default_slug_keeps_names_without_a_date() -> None:
    """A file name without a date prefix is slugified whole."""
    assert default_slug("news/Women, Peace & Security.md") == "women-peace-security"


def test_id_defaults_to_the_canonical_url(fetch: Callable[..., FetchResult]) -> None:
    """Without ``id`` the canonical URL is the stable id."""
    article = one(fetch())
    assert article.id == article.url == "https://www.example.org/news/good-story"


def test_front_matter_id_is_used(folder: Path, fetch: Callable[..., FetchResult]) -> None:
    """An ``id`` in the front matter is the article's id."""
    (folder / GOOD).unlink()
    write(folder, "a.md", article_text(extra="id: tag:example.org,2026:a\n"))
    assert one(fetch()).id == "tag:example.org,2026:a"


def test_slug_sets_the_url(folder: Path, fetch: Callable[..., FetchResult]) -> None:
    """``slug`` replaces the file-name slug."""
    (folder / GOOD).unlink()
    write(folder, "a.md", article_text(extra="slug: chosen-slug\n"))
    assert one(fetch()).url == "https://www.example.org/news/chosen-slug"


def test_relative_url_is_made_absolute(folder: Path, fetch: Callable[..., FetchResult]) -> None:
    """A site-relative ``url`` becomes absolute against the site URL."""
    (folder / GOOD).unlink()
    write(folder, "a.md", article_text(extra="url: /stories/a\n"))
    assert one(fetch()).url == "https://www.example.org/stories/a"


def test_url_and_slug_together_are_refused(folder: Path, fetch: Callable[..., FetchResult]) -> None:
    """Giving both url and slug is an error naming the file."""
    write(folder, "a.md", article_text(extra="url: /a\nslug: a\n"))
    result = fetch()
    assert "a.md:2:1" in error_text(result)
    assert "either url or slug" in error_text(result)
    assert [a.title for a in result.articles] == ["A good story"]


def test_javascript_url_is_refused(folder: Path, fetch: Callable[..., FetchResult]) -> None:
    """A ``url`` that is not http(s) is an error at its line."""
    write(folder, "a.md", article_text(extra="url: javascript:alert(1)\n"))
    assert "a.md:4:" in error_text(fetch())


def test_summary_defaults_to_a_truncated_first_paragraph(
    folder: Path, fetch: Callable[..., FetchResult]
) -> None:
    """A long first paragraph is cut at a word boundary near 300 characters."""
    (folder / GOOD).unlink()
    long = " ".join(["word"] * 120)
    write(folder, "a.md", article_text(body=f"![pic](images/pic.jpg)\n\n{long}\n\nSecond."))
    summary = one(fetch()).summary
    assert summary.endswith("word…")
    assert 250 < len(summary) <= 300


def test_truncate_leaves_short_text_alone() -> None:
    """Text within the limit is returned unchanged."""
    assert truncate("Short text.", 300) == "Short text."


def test_front_matter_summary_is_text(folder: Path, fetch: Callable[..., FetchResult]) -> None:
    """A given summary is text: what looks like markup or an entity is kept as written."""
    (folder / GOOD).unlink()
    write(folder, "a.md", article_text(extra="summary: Read <b>this</b> &amp; that\n"))
    assert one(fetch()).summary == "Read <b>this</b> &amp; that"


def test_front_matter_title_keeps_text_that_looks_like_markup(
    folder: Path, fetch: Callable[..., FetchResult]
) -> None:
    """A title is text: no word that looks like a tag is lost."""
    (folder / GOOD).unlink()
    title = "The <video> element and <b>bold</b> claims: a<b"
    write(folder, "a.md", article_text(title=f"'{title}'"))
    assert one(fetch()).title == title


def test_local_image_has_length_type_and_media_url(fetch: Callable[..., FetchResult]) -> None:
    """A local image is published under media/<source>/ with its size and MIME type."""
    image = one(fetch()).image
    assert image is not None
    assert image.url == "https://feeds.example.org/media/site/images/pic.jpg"
    assert image.length == (DATA / "images" / "pic.jpg").stat().st_size
    assert image.mime_type == "image/jpeg"
    assert (image.alt, image.credit) == ("A blue rectangle", "Test Photographer")


def test_remote_image_url_is_kept(folder: Path, fetch: Callable[..., FetchResult]) -> None:
    """An https image stays as it is, typed by its extension."""
    (folder / GOOD).unlink()
    extra = "image:\n  src: https://cdn.example.org/p.png\n  alt: A picture\n"
    write(folder, "a.md", article_text(extra=extra))
    image = one(fetch()).image
    assert image is not None
    assert (image.url, image.mime_type, image.length) == (
        "https://cdn.example.org/p.png",
        "image/png",
        None,
    )


def test_body_image_points_to_the_media_copy(
    folder: Path, fetch: Callable[..., FetchResult]
) -> None:
    """A relative Markdown image in the body is rewritten to its published URL."""
    (folder / GOOD).unlink()
    write(folder, "news/a.md", article_text(body="Look: ![a pic](../images/pic.jpg)"))
    html = one(fetch()).body_html
    assert 'src="https://feeds.example.org/media/site/images/pic.jpg"' in html


def test_media_files_lists_images_with_output_paths(config: Config) -> None:
    """media_files pairs each image with media/<source>/<relative path>."""
    source_config = config.sources[0]
    assert isinstance(source_config, ContentSourceConfig)
    [(path, published)] = media_files(source_config)
    assert path.name == "pic.jpg"
    assert str(published) == "media/site/images/pic.jpg"


def test_external_source_defaults_to_the_host(
    folder: Path, fetch: Callable[..., FetchResult]
) -> None:
    """Without external_source the link's host name is shown."""
    (folder / GOOD).unlink()
    write(folder, "a.md", article_text(extra="external_url: https://www.un.org/x\n"))
    article = one(fetch())
    assert (article.external_url, article.external_source) == ("https://www.un.org/x", "un.org")


def test_draft_is_not_published(folder: Path, fetch: Callable[..., FetchResult]) -> None:
    """``draft: true`` keeps an article out."""
    write(folder, "a.md", article_text(extra="draft: true\n"))
    assert [a.title for a in fetch().articles] == ["A good story"]


def test_single_category_string_is_a_list(folder: Path, fetch: Callable[..., FetchResult]) -> None:
    """``categories: Rwanda`` means one category."""
    (folder / GOOD).unlink()
    write(folder, "a.md", article_text(extra="categories: Rwanda\nauthors: Ann\n"))
    article = one(fetch())
    assert (article.categories, article.authors) == (("Rwanda",), ("Ann",))


def test_top_level_heading_becomes_h2(folder: Path, fetch: Callable[..., FetchResult]) -> None:
    """A ``#`` heading in the body is shown as h2 (h1 is the page title)."""
    (folder / GOOD).unlink()
    write(folder, "a.md", article_text(body="# Part one\n\nText."))
    assert one(fetch()).body_html.startswith("<h2>Part one</h2>")


def test_raw_html_in_body_is_sanitized(folder: Path, fetch: Callable[..., FetchResult]) -> None:
    """Scripts and handlers in Markdown HTML never reach the store."""
    (folder / GOOD).unlink()
    body = '<script>alert(1)</script>\n\n<p onclick="x()">Hi <a href="/about">us</a></p>'
    write(folder, "a.md", article_text(body=body))
    html = one(fetch()).body_html
    assert "script" not in html
    assert "onclick" not in html
    assert 'href="https://www.example.org/about"' in html


def test_tables_are_rendered(folder: Path, fetch: Callable[..., FetchResult]) -> None:
    """GitHub-style tables become HTML tables."""
    (folder / GOOD).unlink()
    write(folder, "a.md", article_text(body="| a | b |\n|---|---|\n| 1 | 2 |"))
    assert "<td>1</td>" in one(fetch()).body_html


# --- time zones --------------------------------------------------------------------------


def published_for(folder: Path, fetch: Callable[..., FetchResult], date: str) -> datetime:
    (folder / GOOD).unlink()
    write(folder, "a.md", f"---\ntitle: T\ndate: {date}\n---\nBody.\n")
    return one(fetch()).published


def test_naive_winter_time_is_london_gmt(folder: Path, fetch: Callable[..., FetchResult]) -> None:
    """A naive January time is read as GMT (UTC+0)."""
    published = published_for(folder, fetch, "2026-01-05 09:30")
    assert published.utcoffset() == timedelta(0)
    assert published.astimezone(UTC) == datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def test_naive_summer_time_is_london_bst(folder: Path, fetch: Callable[..., FetchResult]) -> None:
    """A naive July time is read as BST (UTC+1)."""
    published = published_for(folder, fetch, "2026-07-05T09:30:00")
    assert published.astimezone(UTC) == datetime(2026, 7, 5, 8, 30, tzinfo=UTC)


def test_date_only_is_noon_utc_that_day(folder: Path, fetch: Callable[..., FetchResult]) -> None:
    """A summer date alone is noon UTC: 5 July in London and in every reader's zone."""
    published = published_for(folder, fetch, "2026-07-05")
    assert published == datetime(2026, 7, 5, 12, 0, tzinfo=UTC)
    assert published.astimezone(ZoneInfo("Europe/London")).date() == date(2026, 7, 5)


def test_explicit_offset_is_kept(folder: Path, fetch: Callable[..., FetchResult]) -> None:
    """A date-time with an offset is not re-zoned."""
    published = published_for(folder, fetch, "2026-07-05T09:30:00+02:00")
    assert published.astimezone(UTC) == datetime(2026, 7, 5, 7, 30, tzinfo=UTC)


def test_time_in_the_spring_gap_uses_the_offset_before(
    folder: Path, fetch: Callable[..., FetchResult]
) -> None:
    """01:30 on the day clocks go forward (which never happens) is read as GMT."""
    published = published_for(folder, fetch, "2026-03-29 01:30")
    assert published.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_updated_is_zoned_too(folder: Path, fetch: Callable[..., FetchResult]) -> None:
    """``updated`` follows the same rules as ``date``."""
    (folder / GOOD).unlink()
    write(folder, "a.md", article_text(extra="updated: 2026-07-07\n"))
    assert one(fetch()).updated == datetime(2026, 7, 7, 12, 0, tzinfo=UTC)


def test_updated_before_date_is_refused(folder: Path, fetch: Callable[..., FetchResult]) -> None:
    """An ``updated`` earlier than ``date`` is an error."""
    write(folder, "a.md", article_text(extra="updated: 2025-01-01\n"))
    assert "updated is earlier than date" in error_text(fetch())


# --- bad input: reported with path:line, the rest still published ------------------------


def fetch_broken(folder: Path, fetch: Callable[..., FetchResult], name: str) -> FetchResult:
    """Add one broken fixture next to the good article and fetch."""
    shutil.copy(DATA / "broken" / name, folder / name)
    result = fetch()
    assert [a.title for a in result.articles] == ["A good story"]
    assert all(isinstance(error, ContentError) for error in result.errors)
    return result


BROKEN_FILES = [
    # (file, where the error points, what it says, what its hint says)
    ("bad-yaml.md", ":5:1: YAML syntax error", [], ""),
    ("missing-title.md", ":2:", ["title: Field required", "Add this key"], ""),
    (
        "bad-date.md",
        ":3:",
        ["date: '2026-13-01' is not a valid", "2026-01-05T09:30:00+01:00"],
        "",
    ),
    ("non-utf8.md", ":2:11: not UTF-8 text (byte 0xe9)", [], "UTF-8"),
    ("missing-image.md", ":5:", ["image file 'images/nowhere.jpg' not found"], ""),
    ("no-front-matter.md", ":1:1: the file does not start with front", [], ""),
    ("unknown-field.md", ":4:", ["catgories: Extra inputs"], ""),
    ("duplicate-key.md", ":4:", ["title: duplicate key 'title'", "line 2"], ""),
    ("unclosed.md", ":1:1: the front matter is never closed", [], ""),
]


@pytest.mark.parametrize(("name", "where", "says", "hint"), BROKEN_FILES)
def test_broken_file_is_reported_at_its_line_and_the_rest_publish(
    folder: Path,
    fetch: Callable[..., FetchResult],
    name: str,
    where: str,
    says: list[str],
    hint: str,
) -> None:
    """A broken file is an error at file:line with its fix; the good article publishes."""
    text = error_text(fetch_broken(folder, fetch, name))
    assert f"{folder / name}{where}" in text
    assert all(words in text for words in says)
    assert hint in text.split("hint:")[1]


def test_symlinked_file_is_refused(folder: Path, fetch: Callable[..., FetchResult]) -> None:
    """A symbolic link to an article is reported, not followed."""
    outside = write(folder.parent, "outside.md", article_text("Outside"))
    (folder / "link.md").symlink_to(outside)
    result = fetch()
    assert f"{folder / 'link.md'}: symbolic links are refused" in error_text(result)
    assert [a.title for a in result.articles] == ["A good story"]


def test_symlinked_folder_is_refused(folder: Path, fetch: Callable[..., FetchResult]) -> None:
    """A symbolic link to a folder is reported and not descended into."""
    outside = folder.parent / "elsewhere"
    write(outside, "x.md", article_text("Elsewhere"))
    (folder / "more").symlink_to(outside, target_is_directory=True)
    result = fetch()
    assert f"{folder / 'more'}: symbolic links are refused" in error_text(result)
    assert [a.title for a in result.articles] == ["A good story"]


def test_image_outside_the_folder_is_refused(
    folder: Path, fetch: Callable[..., FetchResult]
) -> None:
    """An image path with ``..`` leading out of the folder is refused at its line."""
    shutil.copy(DATA / "images" / "pic.jpg", folder.parent / "secret.jpg")
    write(folder, "a.md", article_text(extra="image:\n  src: ../secret.jpg\n  alt: x\n"))
    result = fetch()
    assert "a.md:5:" in error_text(result)
    assert [a.title for a in result.articles] == ["A good story"]


def test_image_through_a_symlink_is_refused(
    folder: Path, fetch: Callable[..., FetchResult]
) -> None:
    """An image reached through a symbolic link is refused."""
    shutil.copy(DATA / "images" / "pic.jpg", folder.parent / "secret.jpg")
    (folder / "images" / "linked.jpg").symlink_to(folder.parent / "secret.jpg")
    write(folder, "a.md", article_text(extra="image:\n  src: images/linked.jpg\n  alt: x\n"))
    assert "goes through a symbolic link" in error_text(fetch())


def test_svg_image_is_refused(folder: Path, fetch: Callable[..., FetchResult]) -> None:
    """SVG pictures (which can carry scripts) are refused."""
    write(folder, "x.svg", "<svg/>")
    write(folder, "a.md", article_text(extra="image:\n  src: x.svg\n  alt: x\n"))
    assert "not a supported picture type" in error_text(fetch())


def test_missing_body_image_is_reported_at_its_line(
    folder: Path, fetch: Callable[..., FetchResult]
) -> None:
    """A body image that does not exist is reported at the body line."""
    write(folder, "a.md", article_text(body="Intro.\n\n![x](images/gone.png)"))
    assert "a.md:7: image file 'images/gone.png' not found" in error_text(fetch())


def test_two_files_with_one_id_are_refused(folder: Path, fetch: Callable[..., FetchResult]) -> None:
    """The second file claiming an id is reported; the first keeps it."""
    write(folder, "a.md", article_text("First", extra="id: same\n"))
    write(folder, "b.md", article_text("Second", extra="id: same\n"))
    result = fetch()
    assert sorted(by_title(result)) == ["A good story", "First"]
    assert "b.md:1: id 'same' is already used by a.md" in error_text(result)


def test_broken_edit_keeps_the_published_version(
    folder: Path, fetch: Callable[..., FetchResult]
) -> None:
    """Breaking a published file reports it but does not withdraw the article."""
    first = fetch()
    write(folder, GOOD, "---\ntitle: [broken\n---\n")
    second = fetch(first.state)
    assert second.removed_ids == []
    assert "YAML syntax error" in error_text(second)
    assert second.state == first.state


def test_broken_file_is_reported_again_on_the_next_fetch(
    folder: Path, fetch: Callable[..., FetchResult]
) -> None:
    """An unfixed file is reported on every fetch, not only the first."""
    shutil.copy(DATA / "broken" / "bad-date.md", folder / "bad-date.md")
    first = fetch()
    second = fetch(first.state)
    assert "bad-date.md:3:" in error_text(second)
    assert second.state == first.state


def test_missing_folder_fails_the_whole_source(
    folder: Path, fetch: Callable[..., FetchResult]
) -> None:
    """A vanished folder is a SourceError, not a mass removal of articles."""
    shutil.rmtree(folder)
    with pytest.raises(SourceError, match="is missing"):
        fetch()


# --- incremental -------------------------------------------------------------------------


@pytest.fixture
def parse_calls(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Records every file the source reads (a spy; the real function still runs)."""
    calls: list[Path] = []

    def spy(data: bytes, path: Path) -> ArticleFile:
        calls.append(path)
        return read_article_file(data, path)

    monkeypatch.setattr(content_module, "read_article_file", spy)
    return calls


@pytest.fixture
def read_calls(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Records every file whose bytes are read."""
    calls: list[Path] = []
    real = content_module._read

    def spy(item: FoundFile) -> bytes:
        calls.append(item.path)
        return real(item)

    monkeypatch.setattr(content_module, "_read", spy)
    return calls


def test_unchanged_fetch_reads_nothing(
    fetch: Callable[..., FetchResult], read_calls: list[Path]
) -> None:
    """With nothing changed, no file is read and the state is the same."""
    first = fetch()
    read_calls.clear()
    second = fetch(first.state)
    assert read_calls == []
    assert (second.articles, second.removed_ids, second.errors) == ([], [], [])
    assert second.state == first.state
    assert second.not_modified


def test_touched_file_is_hashed_but_not_parsed(
    folder: Path, fetch: Callable[..., FetchResult], parse_calls: list[Path]
) -> None:
    """A new mtime with the same bytes costs a hash, not a parse."""
    first = fetch()
    parse_calls.clear()
    info = (folder / GOOD).stat()
    os.utime(folder / GOOD, ns=(info.st_atime_ns, info.st_mtime_ns + 5_000_000_000))
    second = fetch(first.state)
    assert parse_calls == []
    assert second.articles == []
    entry = second.state["files"][GOOD]
    assert entry["mtime_ns"] == info.st_mtime_ns + 5_000_000_000


def test_deleted_file_lists_its_id_as_removed(
    folder: Path, fetch: Callable[..., FetchResult]
) -> None:
    """Deleting a file reports its article id in removed_ids."""
    first = fetch()
    (folder / GOOD).unlink()
    second = fetch(first.state)
    assert second.removed_ids == ["https://www.example.org/news/good-story"]
    assert second.state["files"] == {}


def test_draft_flag_withdraws_a_published_article(
    folder: Path, fetch: Callable[..., FetchResult]
) -> None:
    """Setting draft: true on a published article removes it."""
    first = fetch()
    text = (folder / GOOD).read_text().replace("---\nThe first", "draft: true\n---\nThe first")
    write(folder, GOOD, text)
    assert fetch(first.state).removed_ids == ["https://www.example.org/news/good-story"]


def test_changed_id_removes_the_old_one(folder: Path, fetch: Callable[..., FetchResult]) -> None:
    """Giving an article a new id removes the old id."""
    first = fetch()
    write(folder, GOOD, article_text("A good story", extra="id: new-id\n"))
    second = fetch(first.state)
    assert [a.id for a in second.articles] == ["new-id"]
    assert second.removed_ids == ["https://www.example.org/news/good-story"]


def test_changed_image_reparses_its_article(
    folder: Path, fetch: Callable[..., FetchResult]
) -> None:
    """Replacing a lead image (same article file) updates the image length."""
    first = fetch()
    (folder / "images" / "pic.jpg").write_bytes(b"\xff\xd8\xff" + b"0" * 5000)
    image = one(fetch(first.state)).image
    assert image is not None
    assert image.length == 5003


def test_new_site_url_reparses_everything(
    tmp_path: Path, folder: Path, fetch: Callable[..., FetchResult]
) -> None:
    """Changing a setting that shapes articles re-reads every file; the id stays."""
    first = fetch()
    other = source_for(make_config(tmp_path, folder, site_url="https://new.example.org/"))
    second = other.fetch(first.state, NOW)
    assert one(second).url == "https://new.example.org/news/good-story"
    assert one(second).id == "https://www.example.org/news/good-story"
    assert second.removed_ids == []


def test_broken_file_survives_a_settings_change(
    tmp_path: Path, folder: Path, fetch: Callable[..., FetchResult]
) -> None:
    """A file broken while the settings change is reported, not withdrawn."""
    first = fetch()
    write(folder, GOOD, "---\ntitle: [broken\n---\n")
    other = source_for(make_config(tmp_path, folder, site_url="https://new.example.org/"))
    second = other.fetch(first.state, NOW)
    assert second.removed_ids == []
    assert "YAML syntax error" in error_text(second)


def test_garbage_state_is_ignored(fetch: Callable[..., FetchResult]) -> None:
    """A state from an older format is treated as empty, not trusted."""
    assert len(fetch({"format": 0, "files": []}).articles) == 1


# --- through the store -------------------------------------------------------------------


def files_snapshot(path: Path) -> dict[str, tuple[int, bytes]]:
    """mtime and bytes of the database file and its WAL."""
    snapshot = {}
    for suffix in ("", "-wal"):
        candidate = Path(f"{path}{suffix}")
        if candidate.exists():
            snapshot[suffix] = (candidate.stat().st_mtime_ns, candidate.read_bytes())
    return snapshot


def data_version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA data_version").fetchone()[0])


def test_unchanged_fetch_writes_nothing_to_the_store(
    config: Config, fetch: Callable[..., FetchResult], store: ArticleStore
) -> None:
    """A no-change fetch leaves the SQLite file, WAL and data_version untouched."""
    first = fetch()
    store.apply_fetch("site", first.articles, first.removed_ids, first.state, NOW)
    watcher = sqlite3.connect(config.store.path)
    version = int(watcher.execute("PRAGMA data_version").fetchone()[0])
    before = files_snapshot(config.store.path)
    later = NOW + timedelta(minutes=15)
    state = store.source_status("site").state
    second = fetch(state, later)
    counts = store.apply_fetch("site", second.articles, second.removed_ids, second.state, later)
    assert not counts.changed
    assert files_snapshot(config.store.path) == before
    assert int(watcher.execute("PRAGMA data_version").fetchone()[0]) == version
    watcher.close()


def test_edited_article_keeps_its_id_and_gets_a_new_updated(
    folder: Path, fetch: Callable[..., FetchResult], store: ArticleStore
) -> None:
    """An edit is stored under the same id with updated = when it was seen."""
    first = fetch()
    store.apply_fetch("site", first.articles, first.removed_ids, first.state, NOW)
    write(folder, GOOD, (folder / GOOD).read_text().replace("happened", "happened today"))
    later = NOW + timedelta(hours=2)
    second = fetch(store.source_status("site").state, later)
    counts = store.apply_fetch("site", second.articles, second.removed_ids, second.state, later)
    assert (counts.new, counts.updated) == (0, 1)
    assert store.count() == 1
    stored = store.get("https://www.example.org/news/good-story")
    assert stored is not None
    assert stored.updated == later
    assert "happened today" in stored.body_html


def test_future_article_is_held_back_until_its_time(
    folder: Path, fetch: Callable[..., FetchResult], store: ArticleStore
) -> None:
    """An article dated next week is fetched but only visible from its date."""
    write(folder, "future.md", "---\ntitle: Next week\ndate: 2026-01-17 09:00\n---\nSoon.\n")
    result = fetch()
    assert "Next week" in by_title(result)
    store.apply_fetch("site", result.articles, result.removed_ids, result.state, NOW)
    assert [a.title for a in store.latest(NOW, 10)] == ["A good story"]
    visible = datetime(2026, 1, 17, 9, 0, tzinfo=UTC)
    assert [a.title for a in store.latest(visible, 10)] == ["Next week", "A good story"]


def test_deleted_file_is_removed_from_the_store(
    folder: Path, fetch: Callable[..., FetchResult], store: ArticleStore
) -> None:
    """Deleting a file takes its article out of the feeds."""
    first = fetch()
    store.apply_fetch("site", first.articles, first.removed_ids, first.state, NOW)
    (folder / GOOD).unlink()
    second = fetch(store.source_status("site").state)
    counts = store.apply_fetch("site", second.articles, second.removed_ids, second.state, NOW)
    assert counts.removed == 1
    assert store.latest(NOW, 10) == []


def test_oversized_front_matter_is_refused(folder: Path, fetch: Callable[..., FetchResult]) -> None:
    """Front matter over its size limit is an error naming the file; other files publish."""
    padding = "# " + "x" * 98 + "\n"
    write(folder, "big.md", article_text("Big", extra=padding * 1000))
    result = fetch()
    assert "big.md:1:1: the front matter is 10" in error_text(result)
    assert "the limit is 65,536 bytes" in error_text(result)
    assert [article.title for article in result.articles] == ["A good story"]


def test_spent_budget_postpones_changed_files_and_removes_nothing(
    config: Config, folder: Path
) -> None:
    """Past its deadline the source stops: changed files wait, no article is removed."""
    first = source_for(config).fetch({}, NOW)
    write(folder, "later.md", article_text("Later"))
    source_config = config.sources[0]
    assert isinstance(source_config, ContentSourceConfig)
    result = ContentSource(source_config, config, WorkBudget(0)).fetch(first.state, NOW)
    assert result.articles == []
    assert result.removed_ids == []
    assert "deadline passed; 1 changed file(s) are left for the next fetch" in error_text(result)
    again = source_for(config).fetch(result.state, NOW)
    assert [article.title for article in again.articles] == ["Later"]
