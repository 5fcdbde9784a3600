"""The config file's pydantic models, declared once with their help text.

Every field carries a ``description``: it is the documentation (the JSON Schema shown by
``swfeed config schema``, and the README's reference), and a test fails if one is missing.
Relative paths resolve against the config file's folder. Errors name file:line:column, the key
path and the fix (see ``yamlfile``).
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
from collections.abc import Mapping, Sequence
from datetime import time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    PlainSerializer,
    SecretStr,
    Strict,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from swfeed.configpath import CONFIG_ENV, DEFAULT_CONFIG, config_path
from swfeed.errors import ConfigError, ConfigErrors, Location

if TYPE_CHECKING:
    from swfeed.yamlfile import YamlDocument

__all__ = ["CONFIG_ENV", "DEFAULT_CONFIG", "config_path"]  # where they were before


Bool = Annotated[bool, Strict()]
Int = Annotated[int, Strict()]


def _resolve_path(value: Path, info: ValidationInfo) -> Path:
    base = (info.context or {}).get("base_dir")
    value = value.expanduser()
    if not value.is_absolute() and base is not None:
        value = Path(base) / value
    return Path(os.path.normpath(value))


ConfigPath = Annotated[
    Path,
    AfterValidator(_resolve_path),
    WithJsonSchema({"type": "string", "description": "a path; relative to the config file"}),
]

_DURATION = re.compile(r"\s*(\d+)\s*(s|m|h|d|w)\s*\Z")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> timedelta:
    """``"15m"`` -> 15 minutes. Accepts s, m, h, d, w."""
    if isinstance(value, timedelta):
        return value
    match = _DURATION.match(str(value)) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"expected a duration such as 30s, 15m, 1h or 2d, got {value!r}")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def _format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit in ("w", "d", "h", "m"):
        if seconds and seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(_format_duration, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\s*\d+\s*[smhdw]\s*$"}),
]


def _zone(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected an IANA time zone name such as Europe/London, got {value!r}")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r}: use an IANA name such as Europe/London or UTC"
        ) from None
    return value


TimeZoneName = Annotated[str, BeforeValidator(_zone)]


def _email(value: str) -> str:
    """pydantic's ``EmailStr`` check and normalization, made only when there is an address
    (``EmailStr`` loads email-validator when the models are built, for every command)."""
    from pydantic.networks import validate_email

    return validate_email(value)[1]


EmailAddress = Annotated[
    str, AfterValidator(_email), WithJsonSchema({"type": "string", "format": "email"})
]


class _Model(BaseModel):
    # Schemas are built when a config is first validated or dumped, not when the classes
    # are made: a config loaded from the cache (``configcache``) needs none.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Author(_Model):
    name: str = Field(description="Name shown as the feeds' and digest's author.")
    email: EmailAddress | None = Field(
        None, description="Contact address shown in the feeds (optional)."
    )


class SiteConfig(_Model):
    title: str = Field(min_length=1, description="The site's name, used as feed and digest title.")
    url: HttpUrl = Field(description="The site's home page; relative links resolve against it.")
    description: str = Field(
        min_length=1, description="One sentence about the site, for feed readers."
    )
    language: str = Field(
        "en",
        pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
        description="BCP 47 language tag of the content, e.g. en or en-GB.",
    )
    timezone: TimeZoneName = Field(
        description="IANA time zone of the site (e.g. Europe/London): dates without a zone "
        "take it, and digest weeks are counted in it. Never the machine's local zone.",
    )
    author: Author = Field(description="Who publishes the site.")
    logo: HttpUrl | None = Field(
        None,
        description="Absolute URL of the site logo (feeds, digest, pages): best a PNG with a "
        "transparent background.",
    )
    logo_dark: HttpUrl | None = Field(
        None,
        description="Absolute URL of the logo in light colours, shown instead of `logo` where "
        "the reader's system is in dark mode (default: `logo` on a light plate).",
    )
    icon: HttpUrl | None = Field(None, description="Absolute URL of a square icon (JSON Feed).")
    platform: Literal["self-hosted", "wix"] = Field(
        "self-hosted",
        description="What serves the site: self-hosted (a web server of yours, which can "
        "serve swfeed's files too) or wix (a hosted platform that serves none of them: give "
        "output.base_url a host of its own; `swfeed check` warns when it is the site's host).",
    )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def base_url(self) -> str:
        """The site URL as a string, always ending in a slash."""
        text = str(self.url)
        return text if text.endswith("/") else text + "/"


_LINK_FIELDS = re.compile(r"\{([^{}]*)\}")


def _link_pattern(value: str) -> str:
    """A URL (absolute, or relative to site.url) with one ``{slug}`` and no other field."""
    fields = _LINK_FIELDS.findall(value)
    if fields != ["slug"] or value.count("{") != 1 or value.count("}") != 1:
        raise PydanticCustomError(
            "link_pattern",
            "the pattern must contain {slug} once and no other {...} field",
            {
                "hint": "Write the article address with {slug} where the slug goes, e.g. "
                "https://www.example.org/post/{slug} or /post/{slug}."
            },
        )
    scheme = re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", value)
    web = value.lower().startswith(("http://", "https://"))
    if value.startswith("//") or (scheme and not web):
        raise PydanticCustomError(
            "link_pattern",
            "the pattern must be an http(s) URL or a path on the site",
            {"hint": "Start it with https:// or with / (a path on site.url)."},
        )
    return value


class ContentSourceConfig(_Model):
    kind: Literal["content"] = Field(description="A folder of Markdown files with front matter.")
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="Unique name of this source.")
    path: ConfigPath = Field(description="The folder, read recursively for *.md files.")
    link_pattern: Annotated[str, AfterValidator(_link_pattern)] = Field(
        "news/{slug}",
        description="Where an article without url: lives on the site: an http(s) URL or a "
        "path relative to site.url, with {slug} for its slug (e.g. "
        "https://www.securitywomen.org/post/{slug}). Changing it moves the links; article "
        "ids stay as they were first stored.",
    )

    @field_validator("path")
    @classmethod
    def _folder_exists(cls, value: Path) -> Path:
        if not value.is_dir():
            raise PydanticCustomError(
                "folder_missing",
                "folder '{folder}' does not exist",
                {
                    "folder": str(value),
                    "hint": "Create it, or correct the path (relative paths start at the "
                    "config file's folder).",
                },
            )
        return value


class HttpOptions(_Model):
    connect_timeout: float = Field(10.0, gt=0, description="Seconds to wait for a connection.")
    total_timeout: float = Field(
        30.0, gt=0, description="Seconds a whole request may take (slow drips are cut off)."
    )
    max_bytes: Int = Field(
        5_000_000, gt=0, description="Largest (decompressed) body accepted, in bytes."
    )
    min_interval: float = Field(
        1.0, ge=0, description="Seconds between two requests to the same host."
    )
    retries: Int = Field(2, ge=0, le=10, description="Retries for timeouts, 5xx and 429.")
    retry_backoff: float = Field(
        1.0, ge=0, description="Seconds before the first retry; doubled for each further one."
    )
    allow_private_addresses: Bool = Field(
        False,
        description="Allow loopback/private addresses (for testing; unsafe for the open web).",
    )


def _css_selector(value: str) -> str:
    from cssselect import HTMLTranslator, SelectorError

    try:
        HTMLTranslator().css_to_xpath(value)
    except SelectorError as exc:
        raise ValueError(f"not a valid CSS selector ({exc}): {value!r}") from None
    return value


CssSelector = Annotated[str, AfterValidator(_css_selector)]


class HtmlSelectors(_Model):
    item: CssSelector = Field(description="CSS selector of one item on the listing page.")
    title: CssSelector = Field(description="Selector (inside the item) of the title.")
    link: CssSelector = Field(
        description="Selector (inside the item) of the link to the article: an <a href>, or "
        "an element containing one."
    )
    date: CssSelector = Field(
        description="Selector (inside the item) of the date: its text, or a <time datetime>."
    )
    summary: CssSelector | None = Field(
        None, description="Selector (inside the item) of the summary."
    )
    image: CssSelector | None = Field(
        None, description="Selector (inside the item) of the <img> (its src and alt)."
    )
    category: CssSelector | None = Field(
        None, description="Selector (inside the item) of category labels; each match is one."
    )
    body: CssSelector | None = Field(
        None, description="Selector of the body on the article page (needs follow_links)."
    )
    credit: CssSelector | None = Field(
        None,
        description="Selector of the photo caption/credit on the article page (needs "
        "follow_links).",
    )
    full_story: CssSelector | None = Field(
        None,
        description="Selector of the external 'read the full story' link on the article page "
        "(needs follow_links).",
    )
    full_story_text: str | None = Field(
        None,
        min_length=1,
        description="Instead of full_story: words of the full-story link's text, or of the "
        "paragraph it is in, e.g. 'full story' (any case; needs follow_links). The link's "
        "paragraph is dropped from the body.",
    )
    remove: list[CssSelector] = Field(
        default_factory=list,
        description="Selectors of parts of the body to drop (share buttons, ads, ...).",
    )
    next_page: CssSelector | None = Field(
        None, description="Selector of the listing's 'next page' link (see max_pages)."
    )


class HtmlSourceConfig(_Model):
    kind: Literal["html"] = Field(description="Listing pages scraped with CSS selectors.")
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="Unique name of this source.")
    url: HttpUrl = Field(description="The listing page.")
    selectors: HtmlSelectors = Field(description="Where each piece of an item is on the page.")
    date_format: str | None = Field(
        None, description="strptime format of the dates (e.g. '%B %d, %Y'); auto-detected if unset."
    )
    follow_links: Bool = Field(False, description="Fetch each article page for its body.")
    max_pages: Int = Field(1, ge=1, le=50, description="How many listing pages to follow.")
    max_items: Int = Field(
        50, ge=1, le=1000, description="Most items taken from the listing pages per fetch."
    )
    categories: list[str] = Field(
        default_factory=list, description="Categories given to every item of this source."
    )
    change_feed: HttpUrl | None = Field(
        None,
        description="A feed that changes when the listing does (on Wix: <site>/blog-feed.xml, "
        "the newest posts): asked first, with conditional GET; the listing is scraped only "
        "when the feed's posts changed.",
    )
    http: HttpOptions = Field(default_factory=HttpOptions, description="Fetching limits.")

    @model_validator(mode="after")
    def _article_selectors_need_follow_links(self) -> HtmlSourceConfig:
        wanted = [
            name
            for name in ("body", "credit", "full_story", "full_story_text")
            if getattr(self.selectors, name) is not None
        ]
        if wanted and not self.follow_links:
            names = ", ".join(f"selectors.{name}" for name in wanted)
            raise ValueError(
                f"{names} read the article pages: set follow_links: true (or remove them)"
            )
        if self.selectors.full_story and self.selectors.full_story_text:
            raise ValueError(
                "give either selectors.full_story (a CSS selector) or selectors.full_story_text "
                "(words of the link), not both"
            )
        return self


class FeedFilter(_Model):
    include: list[str] = Field(
        default_factory=list,
        description="Keep only items whose title, text or categories "
        "contain one of these words (case-insensitive). Empty: keep all.",
    )
    exclude: list[str] = Field(
        default_factory=list, description="Drop items containing any of these words."
    )


class FeedSourceConfig(_Model):
    kind: Literal["feed"] = Field(description="An upstream RSS 2.0, Atom 1.0 or JSON Feed 1.1.")
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="Unique name of this source.")
    url: HttpUrl = Field(description="The feed's URL.")
    source_name: str | None = Field(
        None, description="Shown as the story's origin (default: the feed's own title)."
    )
    category_map: dict[str, str] = Field(
        default_factory=dict,
        description="Upstream category -> our category (case-insensitive; map to an empty "
        "string to drop one).",
    )
    keep_unmapped_categories: Bool = Field(
        False,
        description="Keep upstream categories that category_map does not mention (default: "
        "drop them, so partners' tags do not become categories of this site).",
    )
    categories: list[str] = Field(
        default_factory=list, description="Categories given to every item of this source."
    )
    filter: FeedFilter = Field(default_factory=FeedFilter, description="Which items to keep.")
    http: HttpOptions = Field(default_factory=HttpOptions, description="Fetching limits.")


SourceConfig = Annotated[
    ContentSourceConfig | HtmlSourceConfig | FeedSourceConfig, Field(discriminator="kind")
]


class StoreConfig(_Model):
    path: ConfigPath = Field(
        Path("var/swfeed.sqlite3"),
        validate_default=True,
        description="The SQLite database file (created if missing).",
    )


class OutputConfig(_Model):
    path: ConfigPath = Field(
        Path("public"),
        validate_default=True,
        description="Folder the feeds and digest archive are written to.",
    )
    base_url: HttpUrl | None = Field(
        None,
        description="Public URL of the output folder on swfeed's own host, e.g. "
        "https://news.example.org/: feed self links, images, the digest's web copies and the "
        "unsubscribe link point there. Default: the site URL (only right when the site's "
        "own web server serves the output folder).",
    )


class HubHttpOptions(HttpOptions):
    min_interval: float = Field(
        0.0,
        ge=0,
        description="Seconds between two requests to the same hub (hubs take a burst of "
        "pings; 0 by default).",
    )


class WebSubConfig(_Model):
    hubs: list[HttpUrl] = Field(
        default_factory=list,
        description="WebSub hubs (W3C WebSub) the feeds name, and that swfeed notifies after "
        "each build that changed a feed, e.g. https://pubsubhubbub.appspot.com/.",
    )
    http: HubHttpOptions = Field(
        default_factory=HubHttpOptions,
        description="How the hubs are reached: the options of a source's `http`.",
    )


class FeedsConfig(_Model):
    max_items: Int = Field(50, ge=1, le=1000, description="Newest N articles in each feed.")
    per_category: Bool = Field(True, description="Also write one set of feeds per category.")
    full_content: Bool = Field(True, description="Include each article's full HTML body.")
    websub: WebSubConfig = Field(
        default_factory=WebSubConfig,
        description="Push new stories to subscribed readers at once through WebSub hubs.",
    )


#: The variables of digest.subject, with sample values to try a template on.
SUBJECT_SAMPLE: dict[str, Any] = {
    "site": {"title": "Sample", "url": "https://www.example.org/", "language": "en"},
    "count": 3,
    "period": "2026-W48",
    "label": "Week 48, 2026",
    "date": "23 November 2026",
    "featured": "A sample story",
}


_SUBJECT_NAME = "|".join(
    [
        *(f"site\\.{key}" for key in SUBJECT_SAMPLE["site"]),
        *(k for k in SUBJECT_SAMPLE if k != "site"),
    ]
)
_SUBJECT_STRING = r"""(?:'[^'\\{}]*'|"[^"\\{}]*")"""
_SUBJECT_PLAIN = re.compile(
    rf"\s*(?:{_SUBJECT_NAME}|{_SUBJECT_STRING}\s+if\s+count\s*(?:==|!=|<=|>=|<|>)\s*"
    rf"(?:0|[1-9][0-9]*)\s+else\s+{_SUBJECT_STRING})\s*"
)


def _subject_is_plain(value: str) -> bool:
    """True for a subject that surely renders: text without braces and ``{{ }}`` holding
    only a known variable or ``'a' if count == 1 else 'b'``. Anything else is rendered (and
    Jinja2 imported only then, so loading a config does not cost Jinja2's import)."""
    parts = re.split(r"\{\{(.*?)\}\}", value, flags=re.DOTALL)
    texts, expressions = parts[0::2], parts[1::2]
    return not any("{" in text or "}" in text for text in texts) and all(
        _SUBJECT_PLAIN.fullmatch(expression) for expression in expressions
    )


def template_problem(exc: Exception) -> str:
    """What went wrong in a template, in one line: Jinja2's message, or the Python error."""
    message = getattr(exc, "message", None)
    if message:
        return str(message)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _subject_renders(value: str) -> str:
    """The subject template, rendered with sample values: an unknown variable is an error."""
    if _subject_is_plain(value):
        return value
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)
    try:
        env.from_string(value).render(**SUBJECT_SAMPLE)
    except Exception as exc:  # a template may fail in any way (``'a' if period < 1``)
        raise PydanticCustomError(
            "subject_template",
            "the subject template fails with sample values: {problem}",
            {
                "problem": template_problem(exc),
                "hint": "Use only site.title, count, period, label, date and featured, "
                "e.g. '{{ site.title }} weekly: {{ count }} stories'.",
            },
        ) from None
    return value


class DigestConfig(_Model):
    enabled: Bool = Field(
        True,
        description="Build and send the weekly digest (false: nothing is built or sent; "
        "`swfeed digest preview` still works).",
    )
    subject: Annotated[str, AfterValidator(_subject_renders)] = Field(
        "{{ site.title }} weekly: {{ count }} {{ 'story' if count == 1 else 'stories' }}",
        description="Jinja2 template of the subject line (one line). Variables: site.title, "
        "count, period (2026-W48), label (Week 48, 2026), date, featured (top story title).",
    )
    max_articles: Int = Field(12, ge=1, le=100, description="Most articles in one issue.")
    max_age: Duration = Field(
        timedelta(days=14),
        description="An issue takes only articles published at most this long before its "
        "cutoff; older ones stay in the feeds and are left out for good (too_old), so a "
        "first issue or a new source never mails the back catalogue.",
    )
    group_by_category: Bool = Field(False, description="Group the articles by category.")
    skip_when_empty: Bool = Field(True, description="Send no issue when nothing is new.")
    trim_to_fit: Bool = Field(
        False,
        description="Drop the oldest articles until the HTML fits under max_html_bytes, "
        "instead of failing.",
    )
    max_html_bytes: Int = Field(
        100_000, ge=10_000, description="HTML size budget (Gmail clips above ~102 KB)."
    )
    templates: ConfigPath | None = Field(
        None,
        description="Folder with your own digest.html.j2, digest.txt.j2, digest.css or "
        "archive_index.html.j2 (any missing one falls back to the bundled file).",
    )
    postal_address: str = Field(
        description="The organisation's postal address, shown in the footer (anti-spam laws)."
    )
    intro: str = Field("", description="A short paragraph at the top of every issue.")

    @model_validator(mode="after")
    def _templates_folder_exists(self) -> DigestConfig:
        if self.templates is not None and not self.templates.is_dir():
            raise ValueError(f"templates folder '{self.templates}' does not exist")
        return self


class SmtpConfig(_Model):
    host: str = Field(description="SMTP relay host name.")
    port: Int = Field(587, ge=1, le=65535, description="SMTP port (587 STARTTLS, 465 TLS).")
    starttls: Bool = Field(True, description="Upgrade the connection with STARTTLS.")
    tls: Bool = Field(False, description="Connect with TLS from the start (port 465).")
    username: str | None = Field(None, description="Login name, if the relay needs one.")
    password: SecretStr | None = Field(
        None,
        description="Login password; reference an environment variable: ${SWFEED_SMTP_PASSWORD}.",
    )
    allow_plaintext_login: Bool = Field(
        False,
        description="Log in even though neither tls nor starttls encrypts the connection "
        "(the password crosses the network in clear): only for a relay on this machine.",
    )
    timeout: float = Field(30.0, gt=0, description="Seconds to wait for each SMTP reply.")
    data_timeout: float = Field(
        600.0, gt=0, description="Seconds to wait for the reply after DATA (RFC 5321: 10 min)."
    )
    messages_per_connection: Int = Field(
        100, ge=1, description="Messages sent over one connection before reconnecting."
    )
    rate_per_minute: Int = Field(0, ge=0, description="Most messages per minute (0: no limit).")
    ca_file: ConfigPath | None = Field(
        None, description="Extra CA certificates (PEM) to trust for the relay's TLS certificate."
    )
    slow_down_delay: float = Field(
        5.0,
        gt=0,
        description="Seconds to wait after the relay says 421 (e.g. '421 4.4.2 rate exceeded') "
        "before the next message; doubled for each 421 in a row, up to 10 minutes.",
    )

    @model_validator(mode="after")
    def _one_tls_mode(self) -> SmtpConfig:
        if self.tls and self.starttls:
            raise ValueError("choose either tls: true (port 465) or starttls: true, not both")
        return self

    @model_validator(mode="after")
    def _no_login_in_clear(self) -> SmtpConfig:
        if self.username and not (self.tls or self.starttls) and not self.allow_plaintext_login:
            raise ValueError(
                "username is set but the connection is not encrypted (tls and starttls are "
                "both false), so the password would cross the network in clear: set "
                "starttls: true (or tls: true), or allow_plaintext_login: true for a relay "
                "on this machine"
            )
        return self


class DkimConfig(_Model):
    domain: str = Field(
        max_length=253,
        pattern=r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$",
        description="The signing domain (d=): the From address's domain or its parent, so "
        "DMARC sees the signature aligned.",
    )
    selector: str = Field(
        pattern=r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,62})$",
        description="Selector of the RSA key: its public key is published at "
        "SELECTOR._domainkey.DOMAIN (`swfeed doctor` prints the record).",
    )
    private_key_file: ConfigPath = Field(
        description="The RSA private key (PEM, 2048 bits or more), e.g. made with "
        "`openssl genrsa -out dkim.pem 2048`. Keep it readable by swfeed only."
    )
    ed25519_selector: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,62})$",
        description="Selector of an optional second, Ed25519 key (RFC 8463): each message "
        "then carries both signatures.",
    )
    ed25519_key_file: ConfigPath | None = Field(
        None,
        description="The Ed25519 private key: PEM (`openssl genpkey -algorithm ed25519`) or "
        "the 32-byte seed in base64.",
    )

    @model_validator(mode="after")
    def _ed25519_pair(self) -> DkimConfig:
        if (self.ed25519_selector is None) != (self.ed25519_key_file is None):
            raise ValueError("set both ed25519_selector and ed25519_key_file, or neither")
        return self


MIN_SECRET_LENGTH = 32


def _long_secret(value: SecretStr) -> SecretStr:
    length = len(value.get_secret_value())
    if length < MIN_SECRET_LENGTH:
        what = "empty" if length == 0 else f"{length} characters long"
        raise PydanticCustomError(
            "secret_too_short",
            "the secret is {what}; it must have at least 32 characters",
            {
                "what": what,
                "hint": "Set the variable to a long random value, e.g. `export "
                "SWFEED_UNSUBSCRIBE_SECRET=$(python3 -c 'import secrets; "
                "print(secrets.token_urlsafe(32))')`.",
            },
        )
    return value


class DeliveryConfig(_Model):
    method: Literal["outbox", "smtp"] = Field(
        "outbox", description="outbox: write .eml files to a Maildir; smtp: send via a relay."
    )
    outbox: ConfigPath | None = Field(
        None,
        description="The Maildir folder used by the outbox method (default: outbox/ in the "
        "store file's folder).",
    )
    smtp: SmtpConfig | None = Field(None, description="The relay, when method is smtp.")
    from_address: EmailAddress = Field(description="The From address, e.g. news@securitywomen.org.")
    from_name: str = Field("", description="The From display name.")
    reply_to: EmailAddress | None = Field(None, description="Reply-To address (optional).")
    unsubscribe_mailto: EmailAddress | None = Field(
        None, description="Address that takes unsubscribe mails (List-Unsubscribe mailto:)."
    )
    unsubscribe_url: HttpUrl | None = Field(
        None, description="Public URL of `swfeed serve`'s /unsubscribe endpoint."
    )
    unsubscribe_secret: Annotated[SecretStr, AfterValidator(_long_secret)] | None = Field(
        None,
        description="HMAC key of unsubscribe, preference, confirmation and sign-up-form "
        "links, at least 32 characters: ${SWFEED_UNSUBSCRIBE_SECRET}.",
    )
    previous_secrets: list[SecretStr] = Field(
        default_factory=list,
        description="Earlier values of unsubscribe_secret, after a rotation: unsubscribe and "
        "preference links of issues already sent keep working (confirmation links expire), "
        "and erased addresses stay suppressed. Remove one only when no old issue matters.",
    )
    max_consecutive_errors: Int = Field(
        10, ge=1, description="Pause the run after this many errors in a row."
    )
    retry_delay: Duration = Field(
        timedelta(minutes=5),
        description="Wait before retrying a deferred (4xx) message; doubled for each retry.",
    )
    retry_window: Duration = Field(
        timedelta(minutes=10),
        description="How long one run waits for deferred messages to come due; later runs "
        "retry the rest.",
    )
    max_attempts: Int = Field(
        8, ge=1, description="Attempts per message before a deferred one is marked failed."
    )
    dkim: DkimConfig | None = Field(
        None, description="Sign every message with DKIM (RSA, optionally Ed25519 as well)."
    )
    bounce_address: EmailAddress | None = Field(
        None,
        description="Where bounces go, e.g. bounces@news.example.org: each message's envelope "
        "sender becomes bounces+TOKEN@... (VERP), a signed token naming issue and recipient. "
        "Needs unsubscribe_secret (it signs the tokens).",
    )
    max_bounce_rate: float = Field(
        0.05,
        gt=0,
        le=1,
        description="Pause a send (status paused) when the issue's hard-bounce rate passes "
        "this share of the messages handed over (0.05: 5%).",
    )
    bounce_rate_after: Int = Field(
        100, ge=1, description="Judge the hard-bounce rate only after this many messages."
    )

    @model_validator(mode="after")
    def _smtp_needs_host(self) -> DeliveryConfig:
        if self.method == "smtp" and self.smtp is None:
            raise ValueError("method is smtp but there is no smtp: section with a host")
        return self


class ImapConfig(_Model):
    host: str = Field(description="The IMAP server; reached over TLS (IMAPS).")
    port: Int = Field(993, ge=1, le=65535, description="IMAPS port.")
    username: str = Field(description="Login name of the bounce mailbox.")
    password: SecretStr = Field(
        description="Login password; reference an environment variable: ${SWFEED_IMAP_PASSWORD}."
    )
    folder: str = Field("INBOX", description="The folder bounces arrive in.")
    done_folder: str = Field(
        "swfeed-done",
        description="Handled mails are flagged \\Seen and moved here (created if missing); "
        "nothing is deleted.",
    )
    ca_file: ConfigPath | None = Field(
        None, description="Extra CA certificates (PEM) to trust for the server's certificate."
    )
    timeout: float = Field(30.0, gt=0, description="Seconds to wait for the server.")


class BouncesConfig(_Model):
    maildir: ConfigPath | None = Field(
        None,
        description="A Maildir folder the bounce address delivers to: mails are read from "
        "new/ and moved to cur/ once handled.",
    )
    imap: ImapConfig | None = Field(None, description="Or an IMAP mailbox (over TLS).")
    soft_limit: Int = Field(
        3,
        ge=1,
        description="Mark an address bounced after soft bounces (4.x.x, 5.2.2 mailbox full) "
        "on this many issues in a row.",
    )
    check_every: Duration = Field(
        timedelta(minutes=15), description="How often `swfeed run` reads the bounce mailbox."
    )

    @model_validator(mode="after")
    def _one_mailbox(self) -> BouncesConfig:
        if (self.maildir is None) == (self.imap is None):
            raise ValueError("set exactly one of maildir and imap")
        return self


def _network(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected an IP address or network such as 10.0.0.1, got {value!r}")
    try:
        ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        raise ValueError(
            f"{value!r} is not an IP address or network (e.g. 127.0.0.1 or 10.0.0.0/8)"
        ) from None
    return value.strip()


IpNetwork = Annotated[str, BeforeValidator(_network)]


class SubscribeConfig(_Model):
    enabled: Bool = Field(
        True,
        description="Answer /subscribe, /confirm and /preferences in `swfeed serve` (needs "
        "digest: and delivery: with unsubscribe_secret).",
    )
    privacy_url: HttpUrl | None = Field(
        None, description="The privacy notice the sign-up form links to."
    )
    topics: list[str] = Field(
        default_factory=list,
        description="Category slugs offered as topics on the forms (default: every category "
        "the site's articles have).",
    )
    confirm_within: Duration = Field(
        timedelta(days=7),
        description="A sign-up not confirmed within this long is deleted (and its link expires).",
    )
    resend_after: Duration = Field(
        timedelta(hours=1),
        description="A second sign-up of a pending address sends a second confirmation only "
        "this long after the first.",
    )
    min_fill_seconds: Int = Field(
        3,
        ge=0,
        le=600,
        description="A form posted sooner than this after it was shown is taken for a bot: "
        "same page, no email.",
    )
    max_confirmations_per_hour: Int = Field(
        100, ge=1, description="Most confirmation emails sent in any hour (all clients together)."
    )
    per_client_per_hour: Int = Field(
        5, ge=1, description="Most sign-ups one client address may post in an hour."
    )
    per_hour: Int = Field(
        300, ge=1, description="Most sign-ups all clients together may post in an hour."
    )
    trusted_proxies: list[IpNetwork] = Field(
        default_factory=list,
        description="Reverse proxies (addresses or networks) whose X-Forwarded-For names the "
        "client; from anyone else the header is ignored.",
    )
    store_ip: Bool = Field(
        False,
        description="Keep the client's IP address with the consent record (off: subscribers "
        "may be at risk; keep as little as possible).",
    )


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _any_case(text: str) -> str:
    return "".join(f"[{char}{char.upper()}]" for char in text)


#: For the JSON Schema (editors): ECMA-262 has no inline (?i), so each letter is a class.
_DIGEST_PATTERN = (
    "^("
    + "|".join(f"{_any_case(day[:3])}({_any_case(day[3:])})?" for day in _WEEKDAYS)
    + r")\s+([01]?[0-9]|2[0-3]):[0-5][0-9]$"
)
_DIGEST_HINT = "Write a weekday and a 24-hour time, e.g. 'monday 09:00' or 'fri 17:30'."


def parse_digest(text: str) -> tuple[int, time]:
    """``"monday 09:00"`` -> (0, 09:00): a weekday (full or 3-letter name, any case), 0 for
    Monday, and an HH:MM time from 00:00 to 23:59."""
    day, clock = [*text.split(maxsplit=1), "", ""][:2]
    names = [name for name in _WEEKDAYS if day.lower() in (name, name[:3])]
    if not names:
        raise _digest_error(f"unknown weekday {day!r}: use a day name such as monday or mon")
    match = re.fullmatch(r"([0-9]{1,2}):([0-9]{2})", clock.strip())
    if match is None:
        raise _digest_error(f"expected a time such as 09:00 after the weekday, got {clock!r}")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        bad = f"hour {hour}" if hour > 23 else f"minute {minute}"
        raise _digest_error(f"{bad} is out of range: times run from 00:00 to 23:59")
    return _WEEKDAYS.index(names[0]), time(hour, minute)


def _digest_error(message: str) -> PydanticCustomError:
    return PydanticCustomError("digest_time", message, {"hint": _DIGEST_HINT})


MIN_FETCH_EVERY = timedelta(seconds=10)


def _not_too_often(value: timedelta) -> timedelta:
    if value < MIN_FETCH_EVERY:
        raise PydanticCustomError(
            "fetch_every",
            "fetching every {seconds}s is too often: the least is 10s",
            {
                "seconds": int(value.total_seconds()),
                "hint": "Write 10s or more; 15m is plenty for a news site (remote sites "
                "also ask you to wait between requests).",
            },
        )
    return value


class ScheduleConfig(_Model):
    fetch_every: Annotated[Duration, AfterValidator(_not_too_often)] = Field(
        timedelta(minutes=15),
        description="How often to load new articles (e.g. 10s, 15m, 1h; at least 10s).",
    )
    digest: str = Field(
        "monday 09:00",
        description="Weekday and time of the weekly digest, in the site's time zone.",
        json_schema_extra={"pattern": _DIGEST_PATTERN},
    )
    max_lateness: Duration = Field(
        timedelta(hours=12), description="Send a missed digest up to this long after its time."
    )

    @field_validator("digest")
    @classmethod
    def _valid_digest(cls, value: str) -> str:
        parse_digest(value)
        return value

    @property
    def digest_weekday(self) -> int:
        """0 for Monday ... 6 for Sunday."""
        return parse_digest(self.digest)[0]

    @property
    def digest_time(self) -> time:
        return parse_digest(self.digest)[1]


class Config(_Model):
    site: SiteConfig = Field(description="The site being published.")
    sources: list[SourceConfig] = Field(min_length=1, description="Where articles come from.")
    store: StoreConfig = Field(default_factory=StoreConfig, description="The SQLite store.")
    output: OutputConfig = Field(default_factory=OutputConfig, description="Where files go.")
    feeds: FeedsConfig = Field(default_factory=FeedsConfig, description="Feed options.")
    digest: DigestConfig | None = Field(None, description="The weekly digest email.")
    delivery: DeliveryConfig | None = Field(None, description="How the digest is sent.")
    bounces: BouncesConfig | None = Field(
        None, description="The mailbox bounces and complaints arrive in (`swfeed bounces`)."
    )
    subscribe: SubscribeConfig = Field(
        default_factory=SubscribeConfig,
        description="Sign-up, confirmation and preferences in `swfeed serve`.",
    )
    schedule: ScheduleConfig = Field(
        default_factory=ScheduleConfig, description="When `swfeed run` does what."
    )
    source_file: Path | None = Field(None, exclude=True, description="(set by the loader)")

    @model_validator(mode="before")
    @classmethod
    def _validate_default_sections(cls, data: Any) -> Any:
        """Missing sections are validated as empty ones, so their paths resolve too."""
        if isinstance(data, dict):
            data = dict(data)
            for section in ("store", "output", "feeds", "schedule", "subscribe"):
                data.setdefault(section, {})
        return data

    @model_validator(mode="after")
    def _unique_source_names(self) -> Config:
        seen: set[str] = set()
        for source in self.sources:
            if source.name in seen:
                raise ValueError(f"two sources are named {source.name!r}; names must be unique")
            seen.add(source.name)
        return self

    def check_source_names(self, names: Sequence[str]) -> None:
        """Raise a ``ConfigError`` (exit 2) naming an unknown source and the known ones."""
        known = [source.name for source in self.sources]
        for name in names:
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                guess = f"Did you mean {close[0]!r}? " if close else ""
                raise ConfigError(
                    f"no source is named {name!r}",
                    location=Location(self.source_file) if self.source_file else None,
                    key="--source",
                    hint=f"{guess}The sources are: {', '.join(known)}.",
                )

    @property
    def output_base_url(self) -> str:
        """Public URL of the output folder, ending in a slash."""
        text = str(self.output.base_url or self.site.url)
        return text if text.endswith("/") else text + "/"


MAX_CONFIG_BYTES = 1_000_000
"""The largest config file read (a real one is a few KB; parsing is slow on huge ones)."""


def _read_config_text(path: Path) -> str:
    with path.open("rb") as handle:
        data = handle.read(MAX_CONFIG_BYTES + 1)
        if len(data) > MAX_CONFIG_BYTES:
            size = os.fstat(handle.fileno()).st_size
            raise ConfigError(
                f"the config file is {size:,} bytes; the limit is {MAX_CONFIG_BYTES:,} bytes",
                location=Location(path),
                hint="Pass --config the swfeed YAML file; a real config is a few kilobytes.",
            )
    return data.decode("utf-8")


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read, parse and validate the config; raise ``ConfigErrors`` listing every fault."""
    return validate_config(read_config_text(path), path, environ)[0]


def read_config_text(path: Path) -> str:
    """The config file's text; a ``ConfigError`` says why it cannot be read."""
    try:
        return _read_config_text(path)
    except FileNotFoundError:
        raise ConfigError(
            "config file not found",
            location=Location(path),
            hint="Pass --config PATH, set SWFEED_CONFIG, or copy config/swfeed.yaml.",
        ) from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"not UTF-8 text (byte {exc.start})",
            location=Location(path, line),
            hint="Save the file as UTF-8 in your editor.",
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"cannot read the config file: {exc.strerror or exc}",
            location=Location(path),
            hint="Pass --config the path of a readable YAML file (not a folder).",
        ) from None


def validate_config(
    text: str, path: Path, environ: Mapping[str, str] | None = None
) -> tuple[Config, YamlDocument]:
    """The config in ``text`` (read from ``path``), validated, and its YAML document."""
    from swfeed.yamlfile import load_yaml, validation_errors

    doc = load_yaml(text, path, environ=environ)
    if not isinstance(doc.data, dict):
        raise ConfigError("the config must be a mapping of sections", location=Location(path, 1, 1))
    context = {"base_dir": path.resolve().parent}
    try:
        config = Config.model_validate(doc.data, context=context)
    except ValidationError as exc:
        raise ConfigErrors(validation_errors(exc, doc, model=Config)) from None
    return config.model_copy(update={"source_file": path}), doc


def store_path_of(path: Path) -> Path:
    """Where the store of the config file ``path`` is, read as best it can be when the
    config does not load: its ``store.path`` if the YAML gives one, else the default."""
    from swfeed.yamlfile import load_yaml

    found: Any = StoreConfig.model_fields["path"].default
    try:
        data = load_yaml(path.read_text(encoding="utf-8"), path, expand_env=False).data
        found = data["store"]["path"]
    except (OSError, UnicodeDecodeError, ConfigError, KeyError, TypeError):
        pass  # no readable store.path: the default
    store = Path(str(found)).expanduser()
    return Path(os.path.normpath(path.resolve().parent / store))


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the config file, for editors (yaml-language-server)."""
    schema = Config.model_json_schema()
    schema["properties"].pop("source_file", None)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "swfeed configuration"
    return schema
