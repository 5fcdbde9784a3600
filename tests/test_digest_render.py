"""Rendering an issue: both parts carry every article; safe, absolute, inlined, sized."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from swfeed.config import Config
from swfeed.digest.render import (
    TEXT_WIDTH,
    inline_css,
    render_issue,
    render_to_fit,
    sent_size,
    wrap_text,
)
from swfeed.digest.select import select_articles
from swfeed.errors import DigestError, TemplateError
from swfeed.models import (
    PREFERENCES_URL_TOKEN,
    RECIPIENT_ADDRESS_TOKEN,
    UNSUBSCRIBE_URL_TOKEN,
    Article,
    Image,
)
from tests.conftest import ROOT
from tests.test_digest_support import (
    SAMPLE_CONTENT,
    SITE,
    document,
    make_article,
    make_config,
    sample_articles,
    static_server,
)

CUTOFF = datetime(2026, 1, 12, 9, tzinfo=UTC)
PERIOD = "2026-W03"


@pytest.fixture
def sample(tmp_path: Path) -> tuple[Config, list[Article]]:
    """The bundled sample site's articles and a config pointing at them."""
    config = make_config(tmp_path, content=SAMPLE_CONTENT, max_articles=20)
    return config, sample_articles(config, CUTOFF)


def render(config: Config, articles: list[Article], max_articles: int = 20) -> tuple[str, str]:
    rendered = render_issue(config, select_articles(articles, max_articles), PERIOD, CUTOFF)
    return rendered.html, rendered.text


def test_sample_site_issue_has_every_article_in_both_parts(
    sample: tuple[Config, list[Article]],
) -> None:
    """Each sample article's title and links appear in the HTML and in the text part."""
    config, articles = sample
    html, text = render(config, articles)
    page_text = " ".join(document(html).text_content().split())
    hrefs = set(document(html).xpath("//a/@href"))
    assert len(articles) >= 5
    for article in articles:
        assert " ".join(article.title.split()) in page_text
        assert article.title in " ".join(text.split())
        assert article.url in hrefs
        assert article.url in text
        if article.external_url:
            assert article.external_url in hrefs
            assert article.external_url in text


def test_no_script_anywhere(sample: tuple[Config, list[Article]]) -> None:
    """The HTML has no <script> element, not even from a hostile title."""
    config, articles = sample
    hostile = make_article(99, title="<script>alert(1)</script> & more", published=CUTOFF)
    html, text = render(config, [*articles, hostile])
    assert document(html).xpath("//script") == []
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    assert "<script>alert(1)</script> & more" in text


def test_every_image_has_alt_text(sample: tuple[Config, list[Article]]) -> None:
    """Every <img> (logo, hero, thumbnails) carries non-empty alt text."""
    config, articles = sample
    config = config.model_copy(
        update={"site": config.site.model_copy(update={"logo": "https://news.example.org/l.png"})}
    )
    no_alt = make_article(98, published=CUTOFF, image=Image("https://news.example.org/x.jpg"))
    images = document(render(config, [*articles, no_alt])[0]).xpath("//img")
    assert len(images) >= 6
    assert all((image.get("alt") or "").strip() for image in images)


def test_all_links_are_absolute(sample: tuple[Config, list[Article]]) -> None:
    """Every href and src is an absolute http(s) URL, or a per-recipient link placeholder."""
    config, articles = sample
    root = document(render(config, articles)[0])
    urls = root.xpath("//@href | //@src")
    assert urls
    for url in urls:
        placeholders = (UNSUBSCRIBE_URL_TOKEN, PREFERENCES_URL_TOKEN)
        assert url.startswith(("https://", "http://")) or url in placeholders, url


def test_styles_are_inlined_on_elements(sample: tuple[Config, list[Article]]) -> None:
    """Class rules become style attributes: headlines, story cells, the body."""
    config, articles = sample
    root = document(render(config, articles)[0])
    (title,) = root.xpath("//h1")
    assert "font-family" in title.get("style", "")
    assert "font-size" in title.get("style", "")
    stories = root.xpath("//td[contains(@class, 'story')]")
    assert stories
    assert all("padding" in cell.get("style", "") for cell in stories)
    assert "background-color" in root.xpath("//body")[0].get("style", "")


def top_level_rules(css: str) -> list[str]:
    """The selectors or at-rule preludes of the top-level rules of a style sheet."""
    rules, depth, start = [], 0, 0
    for index, char in enumerate(css):
        if char == "{":
            if depth == 0:
                rules.append(css[start:index].strip())
            depth += 1
        elif char == "}":
            depth -= 1
            start = index + 1
    return rules


def test_one_small_style_block_keeps_media_rules(sample: tuple[Config, list[Article]]) -> None:
    """One <style>, in <head>, under 16 KB, holding only @media and pseudo-class rules."""
    config, articles = sample
    root = document(render(config, articles)[0])
    styles = root.xpath("//style")
    assert len(styles) == 1
    assert styles[0].getparent().tag == "head"
    css = styles[0].text
    assert len(css.encode()) < 16_384
    rules = top_level_rules(css)
    assert any("prefers-color-scheme: dark" in r or "prefers-color-scheme:dark" in r for r in rules)
    assert any("max-width" in r for r in rules if r.startswith("@media"))
    assert all(r.startswith("@media") or ":" in r for r in rules), rules
    assert "!important" in css


def test_phone_overrides_keep_important(sample: tuple[Config, list[Article]]) -> None:
    """premailer's strip_important is off: the @media rules can beat inline styles."""
    config, articles = sample
    css = document(render(config, articles)[0]).xpath("//style")[0].text
    phone = css[css.index("max-width") :]
    assert re.search(r"max-width:\s*100%\s*!important", phone)


def test_document_is_email_ready(sample: tuple[Config, list[Article]]) -> None:
    """lang, color-scheme meta, hidden preheader and the Outlook fixed-width wrapper."""
    config, articles = sample
    html, _text = render(config, articles)
    root = document(html)
    assert root.get("lang") == "en"
    assert root.xpath("//meta[@name='color-scheme']/@content") == ["light dark"]
    (preheader,) = root.xpath("//div[contains(@class, 'preheader')]")
    assert "display:none" in preheader.get("style", "").replace(" ", "")
    assert articles
    assert " ".join(preheader.text_content().split())
    assert re.search(r'<!--\[if mso\]><table[^>]*width="600"', html)
    assert html.count("<!--[if mso]>") == html.count("<![endif]-->")


def test_view_in_browser_and_placeholders(sample: tuple[Config, list[Article]]) -> None:
    """Both parts link the web copy and carry the per-recipient placeholders."""
    config, articles = sample
    html, text = render(config, articles)
    browser = f"{config.output_base_url}digest/{PERIOD}.html"
    assert browser in document(html).xpath("//a/@href")
    assert browser in text
    for part in (html, text):
        assert UNSUBSCRIBE_URL_TOKEN in part
        assert RECIPIENT_ADDRESS_TOKEN in part
    assert "1 Example Street" in html
    assert "1 Example Street" in text


def test_featured_story_comes_first_and_larger(sample: tuple[Config, list[Article]]) -> None:
    """The newest article is the one <h1>; the others are <h2>."""
    config, articles = sample
    root = document(render(config, articles)[0])
    newest = min(articles, key=lambda a: (-a.published.timestamp(), a.id))
    assert root.xpath("//h1")[0].text_content().strip() == newest.title
    assert len(root.xpath("//h2")) == len(articles) - 1


def test_read_more_goes_to_the_full_story_elsewhere(tmp_path: Path) -> None:
    """An article pointing elsewhere links "Full story at <source>" to that page."""
    config = make_config(tmp_path)
    external = make_article(
        2, external_url="https://un.example.org/story", external_source="UN News"
    )
    html, text = render(config, [make_article(3), external])
    links = {a.text_content().strip(): a.get("href") for a in document(html).xpath("//a")}
    name = "Full story at UN News: “Story number 2 about women in peacekeeping”\xa0→"
    assert links[name] == "https://un.example.org/story"
    assert "Full story at UN News:\nhttps://un.example.org/story" in text


def test_every_read_more_link_names_its_story(sample: tuple[Config, list[Article]]) -> None:
    """Each story's "read more" link (the button too) says which story, in visible text."""
    config, articles = sample
    root = document(render(config, articles)[0])
    links = root.xpath("//a[contains(@class, 'more') or contains(@class, 'button-link')]")
    assert len(links) == len(articles)
    titles = {a.external_url or a.url: a.title for a in articles}
    for link in links:
        name = link.text_content()
        assert name.startswith(("Read more: “", "Full story at")), name
        named = name.split("“")[1].split("”")[0].rstrip("…")
        assert titles[link.get("href")].startswith(named), name


def test_links_with_the_same_text_go_to_the_same_place(
    sample: tuple[Config, list[Article]],
) -> None:
    """No two links read alike but lead to different pages (screen readers list links)."""
    config, articles = sample
    destinations: dict[str, set[str]] = {}
    for link in document(render(config, articles)[0]).xpath("//a"):
        destinations.setdefault(link.text_content().strip(), set()).add(link.get("href"))
    assert {text: hrefs for text, hrefs in destinations.items() if len(hrefs) > 1} == {}


def test_story_pictures_are_not_links(sample: tuple[Config, list[Article]]) -> None:
    """Pictures carry alt text about what they show, so none is the only content of a link."""
    config, articles = sample
    root = document(render(config, articles)[0])
    linked = [img.get("src") for img in root.xpath("//a//img") if "logo" not in img.get("class")]
    assert linked == []


def test_story_in_another_language_is_marked(tmp_path: Path) -> None:
    """Title and summary of a story in Arabic carry lang="ar" dir="rtl"; French only lang."""
    config = make_config(tmp_path)
    arabic = make_article(3, title="النساء في حفظ السلام", language="ar")
    french = make_article(2, title="Les femmes et la paix", language="fr")
    root = document(render(config, [arabic, french, make_article(1)])[0])
    marked = {(e.tag, e.get("lang"), e.get("dir")) for e in root.xpath("//*[@lang]")[1:]}
    assert marked == {
        ("h1", "ar", "rtl"),
        ("p", "ar", "rtl"),
        ("span", "ar", "rtl"),
        ("h2", "fr", None),
        ("p", "fr", None),
        ("span", "fr", None),
    }


def test_dark_logo_replaces_the_logo_in_dark_mode(tmp_path: Path) -> None:
    """With site.logo_dark both logos are there: the dark one hidden until dark mode, and
    kept from Outlook for Windows (which ignores display: none)."""
    site = {"logo": f"{SITE}logo.png", "logo_dark": f"{SITE}logo-dark.png"}
    html, _text = render(make_config(tmp_path, site=site), [make_article(1)])
    dark = document(html).xpath("//img[contains(@class, 'logo-dark')]")[0]
    assert "display:none" in dark.get("style").replace(" ", "")
    assert '<!--[if !mso]><!--><img class="logo logo-dark"' in html
    style = document(html).xpath("//style")[0].text.replace(" ", "")
    assert ".logo-dark{display:block!important" in style
    assert ".logo-light{display:none!important" in style


def test_logo_without_a_dark_version_gets_a_plate_in_dark_mode(tmp_path: Path) -> None:
    """Without site.logo_dark the logo keeps a light plate behind it in dark mode."""
    html, _text = render(make_config(tmp_path, site={"logo": f"{SITE}logo.png"}), [])
    assert document(html).xpath("//img[contains(@class, 'logo-plate')]")
    style = document(html).xpath("//style")[0].text.replace(" ", "")
    assert ".logo-plate{padding:8px12px!important" in style


def test_text_part_is_wrapped_at_78(sample: tuple[Config, list[Article]]) -> None:
    """No text line is longer than 78 characters unless it is one unbreakable URL."""
    config, articles = sample
    long_title = make_article(97, title="A very long headline " * 8, published=CUTOFF)
    _html, text = render(config, [*articles, long_title])
    for line in text.splitlines():
        assert len(line) <= TEXT_WIDTH or " " not in line.strip(), line


def test_wrap_keeps_long_urls_whole() -> None:
    """A URL longer than the line stays in one piece on a line of its own."""
    url = "https://news.example.org/" + "x" * 90
    assert wrap_text(f"Read more: {url}") == f"Read more:\n{url}\n"


def test_subject_is_one_clean_line(tmp_path: Path) -> None:
    """Line breaks and control characters in the subject become single spaces."""
    config = make_config(tmp_path, subject="{{ featured }}\n| {{ count }}\x07 stories")
    article = make_article(1, title="Peace\u2028talks\tresume")
    rendered = render_issue(config, select_articles([article], 5), PERIOD, CUTOFF)
    assert rendered.subject == "Peace talks resume | 1 stories"


def test_default_subject_counts_stories(tmp_path: Path) -> None:
    """The default subject says how many stories, in the singular for one."""
    config = make_config(tmp_path)
    one = render_issue(config, select_articles([make_article(1)], 5), PERIOD, CUTOFF)
    two = render_issue(
        config, select_articles([make_article(1), make_article(2)], 5), PERIOD, CUTOFF
    )
    assert one.subject == "SecurityWomen weekly: 1 story"
    assert two.subject == "SecurityWomen weekly: 2 stories"


def test_broken_subject_template_names_the_key(tmp_path: Path) -> None:
    """A subject template using an unknown variable is refused with the config, on
    digest.subject, before any issue is rendered."""
    with pytest.raises(ValidationError) as caught:
        make_config(tmp_path, subject="{{ sight.title }}")
    (error,) = caught.value.errors()
    assert error["loc"] == ("digest", "subject")
    assert "'sight' is undefined" in error["msg"]


def test_grouping_adds_category_headings(tmp_path: Path) -> None:
    """group_by_category puts a heading over each category's stories in both parts."""
    config = make_config(tmp_path, group_by_category=True)
    html, text = render(config, [make_article(n) for n in range(1, 6)])
    headings = [td.text_content().strip() for td in document(html).xpath("//td[@class='section']")]
    assert headings == ["Policing", "Peacekeeping"]
    assert "POLICING\n--------" in text
    assert "PEACEKEEPING\n------------" in text


def test_empty_issue_says_so(tmp_path: Path) -> None:
    """An issue without articles (skip_when_empty off) tells readers nothing was new."""
    config = make_config(tmp_path, skip_when_empty=False)
    html, text = render(config, [])
    assert "No new stories" in document(html).text_content()
    assert "No new stories" in text


def many(count: int) -> list[Article]:
    start = CUTOFF - timedelta(days=6)
    return [make_article(n, start + timedelta(minutes=n)) for n in range(count)]


def test_oversized_issue_fails_naming_the_size(tmp_path: Path) -> None:
    """Over max_html_bytes without trim_to_fit, the build fails with the size and the fix."""
    config = make_config(tmp_path, max_articles=40, max_html_bytes=30_000)
    with pytest.raises(DigestError, match=r"is [\d,]+ bytes with 40 articles") as caught:
        render_to_fit(config, select_articles(many(40), 40), PERIOD, CUTOFF)
    assert "30,000" in str(caught.value)
    assert "trim_to_fit" in caught.value.hint


def test_trim_to_fit_drops_the_oldest(tmp_path: Path) -> None:
    """With trim_to_fit, the oldest articles are dropped until the HTML fits."""
    config = make_config(tmp_path, max_articles=40, max_html_bytes=30_000, trim_to_fit=True)
    articles = many(40)
    rendered = render_to_fit(config, select_articles(articles, 40), PERIOD, CUTOFF)
    kept = rendered.selection.articles
    assert 1 < len(kept) < 40
    assert rendered.size <= 30_000
    assert [a.id for a in kept] == [a.id for a in reversed(articles)][: len(kept)]
    assert len(rendered.selection.trimmed) == 40 - len(kept)
    bigger = render_issue(config, select_articles(articles, len(kept) + 1), PERIOD, CUTOFF)
    assert bigger.size > 30_000


def test_default_cap_keeps_the_sample_well_under_budget(
    sample: tuple[Config, list[Article]],
) -> None:
    """The sample site at the default cap (12) stays far below Gmail's 102 KB."""
    config, articles = sample
    html, _text = render(config, articles, max_articles=12)
    assert sent_size(html) < 60_000


def test_size_counts_room_for_per_recipient_values() -> None:
    """Each placeholder counts as 250 bytes, the room delivery's values may take."""
    html = f'<a href="{UNSUBSCRIBE_URL_TOKEN}">{RECIPIENT_ADDRESS_TOKEN}</a>'
    assert sent_size(html) == len(html) - len(UNSUBSCRIBE_URL_TOKEN + RECIPIENT_ADDRESS_TOKEN) + 500


def test_premailer_never_fetches_stylesheets(tmp_path: Path) -> None:
    """Inlining ignores <link rel=stylesheet>: no request reaches the (real) server."""
    (tmp_path / "x.css").write_text("p { color: red; }", encoding="utf-8")
    with static_server(tmp_path) as (base, requests):
        html = (
            f'<html><head><link rel="stylesheet" href="{base}x.css">'
            "<style>p { font-size: 14px; }</style></head><body><p>Hi</p></body></html>"
        )
        inlined = inline_css(html)
    assert requests == []
    assert 'style="font-size:14px"' in inlined
    assert "color:red" not in inlined


def write_template(folder: Path, name: str, text: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def test_admin_template_overrides_one_file(tmp_path: Path) -> None:
    """An admin's digest.txt.j2 replaces the bundled one; the HTML stays bundled."""
    folder = tmp_path / "mine"
    write_template(folder, "digest.txt.j2", "Custom: {{ issue.count }} & {{ site.title }}\n")
    config = make_config(tmp_path, templates=str(folder))
    html, text = render(config, [make_article(1)])
    assert text == "Custom: 1 & SecurityWomen\n"
    assert "<h1" in html


def test_admin_template_overrides_one_block(tmp_path: Path) -> None:
    """An admin's digest.html.j2 extends the bundled one and replaces only its intro."""
    folder = tmp_path / "mine"
    write_template(
        folder,
        "digest.html.j2",
        '{% extends "swfeed/digest.html.j2" %}\n'
        '{% block intro %}<tr><td class="intro">Our own words.</td></tr>{% endblock %}\n',
    )
    bundled_html, _ = render(make_config(tmp_path), [make_article(1)])
    html, _ = render(make_config(tmp_path, templates=str(folder)), [make_article(1)])
    assert "Our own words." in html
    assert "Our own words." not in bundled_html
    assert html.count('class="story"') == bundled_html.count('class="story"')
    assert "featured-title" in html


def test_admin_brand_recolours_the_digest(tmp_path: Path) -> None:
    """An admin's brand.j2 changes the accent colour everywhere it is used."""
    folder = tmp_path / "mine"
    bundled = (ROOT / "templates" / "brand.j2").read_text(encoding="utf-8")
    write_template(folder, "brand.j2", bundled.replace("#7a1f4f", "#005a9c"))
    html, _ = render(make_config(tmp_path, templates=str(folder)), [make_article(1)])
    assert "#005a9c" in html
    assert "#7a1f4f" not in html


def test_brand_colours_are_defined_once() -> None:
    """No template but brand.j2 spells out a colour: they all come from the brand."""
    for path in (ROOT / "templates").iterdir():
        if path.name != "brand.j2":
            assert not re.search(r"#[0-9a-fA-F]{6}\b", path.read_text(encoding="utf-8")), path


def test_template_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    """A broken admin template fails with its file and line number."""
    folder = tmp_path / "mine"
    write_template(folder, "digest.txt.j2", "line one\n{% if %}\n")
    config = make_config(tmp_path, templates=str(folder))
    with pytest.raises(TemplateError, match=r"digest\.txt\.j2:2"):
        render(config, [make_article(1)])


def test_linked_stylesheet_in_template_is_refused(tmp_path: Path) -> None:
    """A template linking an external stylesheet is refused (mail clients would fetch it)."""
    folder = tmp_path / "mine"
    write_template(
        folder,
        "digest.html.j2",
        '<html><head><link rel="stylesheet" href="https://cdn.example.org/x.css"></head>'
        "<body>{{ issue.count }}</body></html>",
    )
    config = make_config(tmp_path, templates=str(folder))
    with pytest.raises(DigestError, match="link rel=stylesheet"):
        render(config, [make_article(1)])


def test_relative_link_in_template_is_refused(tmp_path: Path) -> None:
    """A template with a site-relative link fails before anything is frozen."""
    folder = tmp_path / "mine"
    write_template(folder, "digest.html.j2", '<html><body><a href="/news">x</a></body></html>')
    config = make_config(tmp_path, templates=str(folder))
    with pytest.raises(DigestError, match="not an absolute URL"):
        render(config, [make_article(1)])
