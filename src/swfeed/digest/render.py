"""Rendering an issue: subject, CSS-inlined HTML and wrapped plain text (pure).

Templates come from ``templating`` (the admin's folder, then the bundled one, so an admin
may override one file or one block). Jinja2 autoescapes every HTML template; the text
template is plain. premailer inlines the CSS once per issue with network access off, keeping
the ``@media`` rules (with their ``!important``) in the one ``<style>`` block in ``<head>``.
"""

from __future__ import annotations

import logging
import re
import textwrap
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from premailer import Premailer

from swfeed.config import Config, template_problem
from swfeed.digest.checks import check_html
from swfeed.digest.periods import period_label
from swfeed.digest.select import Selection, keep_newest
from swfeed.digest.settings import digest_settings
from swfeed.digest.views import issue_date, issue_view, one_line
from swfeed.errors import ConfigError, DigestError, Location
from swfeed.models import RECIPIENT_ADDRESS_TOKEN, UNSUBSCRIBE_URL_TOKEN
from swfeed.templating import render_template, site_view, template_env

HTML_TEMPLATE = "digest.html.j2"
TEXT_TEMPLATE = "digest.txt.j2"
TEXT_WIDTH = 78
#: Bytes reserved for each per-recipient value delivery puts in place of a placeholder.
PLACEHOLDER_BYTES = 250

_STYLE_BLOCK = re.compile(r"(<style[^>]*>)(.*?)(</style>)", re.DOTALL)
_CSS_SPACE = re.compile(r"\s*([{};,])\s*")
_NOT_IN_SUBJECT = frozenset({"Cc", "Zl", "Zp"})

PREMAILER_OPTIONS: dict[str, Any] = {
    "allow_network": False,  # never fetch <link rel=stylesheet> or external_styles
    "allow_loading_external_files": False,
    "keep_style_tags": False,  # the <style> block keeps only what cannot be inlined: @media
    "strip_important": False,  # the @media overrides need their !important
    "remove_classes": False,  # ... and the classes they select
    "disable_basic_attributes": ["width", "height"],  # templates set those for Outlook
    "disable_validation": True,  # keep mso- and -webkit- properties
    "cssutils_logging_level": logging.CRITICAL,
}


@dataclass(frozen=True, slots=True)
class RenderedIssue:
    """One rendering of an issue: what recipients get, before per-recipient values."""

    subject: str
    html: str
    text: str
    selection: Selection

    @property
    def size(self) -> int:
        return sent_size(self.html)


def render_subject(config: Config, context: dict[str, Any]) -> str:
    """The subject line from the config's template: one line, no control characters."""
    template = digest_settings(config).subject
    where = Location(config.source_file) if config.source_file else None
    try:
        env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)
        subject = clean_subject(env.from_string(template).render(**context))
    except Exception as exc:  # a template may fail in any way (``'a' if period < 1``)
        raise ConfigError(
            f"the subject template fails: {template_problem(exc)}",
            location=where,
            key="digest.subject",
            hint="Use only site.title, count, period, label, date and featured.",
        ) from None
    if not subject:
        raise ConfigError("the subject is empty", location=where, key="digest.subject")
    return subject


def clean_subject(text: str) -> str:
    """One line: control characters and line or paragraph separators become spaces."""
    kept = "".join(" " if unicodedata.category(c) in _NOT_IN_SUBJECT else c for c in text)
    return one_line(kept)


def inline_css(html: str) -> str:
    """Move the CSS onto the elements (premailer, no network); ``@media`` rules stay."""
    inlined = str(Premailer(html, **PREMAILER_OPTIONS).transform(pretty_print=False))
    return _STYLE_BLOCK.sub(lambda m: m[1] + compact_css(m[2]) + m[3], inlined)


def compact_css(css: str) -> str:
    """CSS without the indentation cssutils writes (every byte counts towards Gmail's cap)."""
    return _CSS_SPACE.sub(r"\1", " ".join(css.split())).strip()


def wrap_text(text: str, width: int = TEXT_WIDTH) -> str:
    """Lines wrapped at ``width``; a URL longer than that keeps a line of its own."""
    lines: list[str] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if len(line) <= width:
            lines.append(line)
            continue
        body = line.lstrip()
        indent = line[: len(line) - len(body)]
        hanging = indent + "  " if body[:2] in ("* ", "- ") else indent
        lines += textwrap.wrap(
            body,
            width,
            initial_indent=indent,
            subsequent_indent=hanging,
            break_long_words=False,
            break_on_hyphens=False,
        )
    joined = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
    return joined.strip("\n") + "\n"


def sent_size(html: str) -> int:
    """Bytes of the HTML as sent, with room for each per-recipient value."""
    size = len(html.encode("utf-8"))
    for token in (UNSUBSCRIBE_URL_TOKEN, RECIPIENT_ADDRESS_TOKEN):
        size += html.count(token) * (PLACEHOLDER_BYTES - len(token))
    return size


def render_issue(
    config: Config, selection: Selection, period: str, cutoff: datetime
) -> RenderedIssue:
    """Render ``selection`` once: subject, inlined HTML, wrapped text."""
    digest = digest_settings(config)
    featured = selection.featured
    subject = render_subject(
        config,
        {
            "site": site_view(config),
            "count": len(selection.articles),
            "period": period,
            "label": period_label(period),
            "date": issue_date(cutoff, config.site.zone),
            "featured": one_line(featured.title) if featured else "",
        },
    )
    view = issue_view(config, selection, period, cutoff, subject)
    env = template_env(digest.templates)
    context = {"site": site_view(config), "issue": view}
    html = render_template(env, HTML_TEMPLATE, **context)
    check_html(html, HTML_TEMPLATE)
    text = wrap_text(render_template(env, TEXT_TEMPLATE, **context))
    return RenderedIssue(subject, inline_css(html), text, selection)


def render_to_fit(
    config: Config, selection: Selection, period: str, cutoff: datetime
) -> RenderedIssue:
    """Render within ``digest.max_html_bytes``: trim the oldest articles or fail."""
    digest = digest_settings(config)
    rendered = render_issue(config, selection, period, cutoff)
    if rendered.size <= digest.max_html_bytes:
        return rendered
    if not digest.trim_to_fit:
        raise too_large(rendered.size, digest.max_html_bytes, len(selection.articles))
    best: RenderedIssue | None = None
    low, high = 1, len(selection.articles) - 1
    while low <= high:
        middle = (low + high) // 2
        candidate = render_issue(config, keep_newest(selection, middle), period, cutoff)
        if candidate.size <= digest.max_html_bytes:
            best, low = candidate, middle + 1
        else:
            high = middle - 1
    if best is None:
        single = render_issue(config, keep_newest(selection, 1), period, cutoff)
        raise too_large(single.size, digest.max_html_bytes, 1, trimmed=True)
    return best


def too_large(size: int, budget: int, count: int, trimmed: bool = False) -> DigestError:
    """The error of an issue whose HTML does not fit the size budget."""
    what = "even with a single article" if trimmed else f"with {count} articles"
    return DigestError(
        f"the digest HTML is {size:,} bytes {what}, over digest.max_html_bytes "
        f"({budget:,} bytes; Gmail clips messages above about 102 KB)",
        hint="Lower digest.max_articles, set digest.trim_to_fit: true to drop the oldest "
        "stories until it fits, or slim down the templates.",
    )
