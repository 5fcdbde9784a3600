"""The HTML allow-list: what survives ``sanitize_html``, ``plain_text`` and ``safe_url``."""

from __future__ import annotations

import random

import lxml.html
import pytest

from swfeed.sanitize import (
    MAX_DEPTH,
    MAX_HTML_CHARS,
    bound_markup,
    drop_deep_tags,
    plain_text,
    safe_url,
    sanitize_html,
)

BASE = "https://www.example.org/news/"


def clean(fragment: str) -> str:
    return sanitize_html(fragment, BASE)


def hrefs(html: str) -> list[str | None]:
    """Every link target in ``html``, read back with a real HTML parser."""
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    return [a.get("href") for a in root.iter("a")]


def test_script_is_removed_with_its_content() -> None:
    """<script> and its text disappear."""
    assert clean("<p>a</p><script>alert('x')</script>") == "<p>a</p>"


def test_style_is_removed_with_its_content() -> None:
    """<style> and its rules disappear."""
    assert clean("<style>p{color:red}</style><p>a</p>") == "<p>a</p>"


def test_style_attribute_is_removed() -> None:
    """Inline style attributes are not allowed."""
    assert clean('<p style="position:fixed">a</p>') == "<p>a</p>"


def test_iframe_is_removed() -> None:
    """<iframe> embeds are dropped."""
    assert "iframe" not in clean('<iframe src="https://evil.example/"></iframe><p>a</p>')


@pytest.mark.parametrize(
    "fragment",
    [
        '<p onclick="steal()">a</p>',
        '<img src="x.png" onerror="steal()">',
        '<a href="/x" onmouseover="steal()">a</a>',
        "<svg onload=steal()>",
    ],
)
def test_event_handlers_are_removed(fragment: str) -> None:
    """No on* attribute survives."""
    assert "steal" not in clean(fragment)


def test_form_elements_are_removed() -> None:
    """Forms and inputs are not allowed in articles."""
    html = clean('<form action="/x"><input name="q"><button>Go</button></form>')
    assert "<form" not in html
    assert "<input" not in html


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "java\tscript:alert(1)",
        "&#106;avascript:alert(1)",
        " javascript:alert(1)",
        "\x01javascript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "file:///etc/passwd",
        "vbscript:msgbox(1)",
    ],
)
def test_dangerous_link_schemes_are_removed(url: str) -> None:
    """javascript:, data:, file: (however spelt) lose their href."""
    assert hrefs(clean(f'<a href="{url}">x</a>')) == [None]


def test_data_image_source_is_removed() -> None:
    """An inline data: image keeps no src."""
    assert "data:" not in clean('<img src="data:image/png;base64,iVBORw0KGgo=" alt="x">')


def test_relative_link_is_made_absolute() -> None:
    """A relative href is resolved against the base URL."""
    assert hrefs(clean('<a href="../about">us</a>')) == ["https://www.example.org/about"]


def test_root_relative_image_is_made_absolute() -> None:
    """A root-relative img src is resolved against the base URL."""
    html = clean('<img src="/media/p.jpg" alt="p">')
    assert 'src="https://www.example.org/media/p.jpg"' in html


def test_protocol_relative_link_gets_the_base_scheme() -> None:
    """``//host/x`` becomes https://host/x."""
    assert hrefs(clean('<a href="//cdn.example.org/x">x</a>')) == ["https://cdn.example.org/x"]


def test_mailto_and_https_links_are_kept() -> None:
    """Allowed schemes pass through."""
    html = clean('<a href="mailto:info@example.org">m</a> <a href="https://un.org/">u</a>')
    assert hrefs(html) == ["mailto:info@example.org", "https://un.org/"]


def test_allowed_formatting_survives() -> None:
    """Paragraphs, emphasis, lists, tables and quotes are kept."""
    fragment = (
        "<p><strong>a</strong> <em>b</em></p><ul><li>c</li></ul>"
        "<table><tbody><tr><td>d</td></tr></tbody></table><blockquote>e</blockquote>"
    )
    assert clean(fragment) == fragment


def test_unknown_tags_are_unwrapped_not_emptied() -> None:
    """A disallowed harmless tag keeps its text."""
    assert clean("<p><span class='x'>kept</span></p>") == "<p>kept</p>"


def test_comments_are_removed() -> None:
    """HTML comments (conditional comments included) are dropped."""
    assert clean("<!--[if IE]><script>x</script><![endif]--><p>a</p>") == "<p>a</p>"


def test_control_characters_are_removed() -> None:
    """Control characters and line separators do not reach feeds (invalid in XML)."""
    assert clean("<p>a\x00b\x0bc\u2028d</p>") == "<p>abcd</p>"


def test_plain_text_strips_tags_and_decodes_entities() -> None:
    """plain_text gives one line of text."""
    assert plain_text("<b>Rwanda</b> &amp; <i>peace</i>\n\n  keeping") == "Rwanda & peace keeping"


def test_plain_text_drops_script_content() -> None:
    """Script text never becomes part of a title."""
    assert plain_text("Title<script>alert(1)</script>") == "Title"


def test_safe_url_refuses_javascript() -> None:
    """safe_url returns None for a javascript: link."""
    assert safe_url("javascript:alert(1)", BASE) is None


def test_safe_url_resolves_relative_links() -> None:
    """safe_url makes a relative link absolute."""
    assert safe_url("story", BASE) == "https://www.example.org/news/story"


def test_safe_url_passes_none_through() -> None:
    """No URL stays no URL."""
    assert safe_url(None, BASE) is None


def test_nesting_is_bounded_before_the_allow_list() -> None:
    """Tags nested deeper than MAX_DEPTH are dropped before nh3 sees them; the text stays."""
    deep = "<div>" * 150_000 + "deep words" + "</div>" * 150_000
    bounded = bound_markup(deep)
    assert bounded.count("<div>") == bounded.count("</div>") == MAX_DEPTH
    assert "deep words" in sanitize_html(deep, BASE)


def test_unclosed_siblings_do_not_count_as_nesting() -> None:
    """Paragraphs and list items without end tags are siblings, not ever deeper nesting."""
    items = "<ul>" + "<li>item" * 500 + "</ul>" + "<p>para" * 500
    assert bound_markup(items) == items


def test_markup_with_few_tags_comes_back_as_it_is() -> None:
    """With no more '<' than MAX_DEPTH no tag can be too deep: the scan is skipped, and
    the full scan would indeed have kept every tag (random tag soup, nested to the limit)."""
    rng = random.Random(7)
    tags = ["<div>", "</div>", "<p>", "</p>", "<br>", "<img src=x/>", "<li>", "<b>", "</b>"]
    for count in (1, MAX_DEPTH // 2, MAX_DEPTH):
        for _ in range(50):
            soup = "".join(rng.choice(tags) + rng.choice(["", "word "]) for _ in range(count))
            assert soup.count("<") == count
            assert bound_markup(soup) == drop_deep_tags(soup) == soup
    nested = "<div>" * MAX_DEPTH + "words" + "</div>" * MAX_DEPTH
    assert drop_deep_tags(nested) == nested


def test_oversized_markup_is_cut_at_a_tag() -> None:
    """Markup over MAX_HTML_CHARS is cut before the last tag that fits."""
    big = "<p>words</p>" * (MAX_HTML_CHARS // 12 + 10)
    bounded = bound_markup(big)
    assert len(bounded) <= MAX_HTML_CHARS
    assert bounded.endswith("</p>")


def test_plain_text_keeps_alt_text_and_drops_scripts() -> None:
    """HTML to text: words and image alt text stay; script and style go with their contents."""
    fragment = '<p>A <img src="x.png" alt="map &amp; key"> <script>var x = 1;</script>b</p>'
    assert plain_text(fragment) == "A map & key b"
