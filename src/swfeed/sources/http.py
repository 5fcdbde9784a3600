"""Polite, defensive fetching shared by the ``html`` and ``feed`` sources.

Every request: robots.txt allows it (RFC 9309, cached per origin for the session); the host
was not asked anything in the last ``min_interval`` seconds; each hop's resolved address is
public (see ``netguard``); at most ``MAX_REDIRECTS`` redirects, followed by hand; connect and
total deadlines; the body is read as a stream and cut off at ``max_bytes`` decompressed.
Timeouts, connection failures, 5xx and 429 are retried with exponential backoff (honouring
Retry-After up to ``MAX_RETRY_WAIT``); everything else fails at once with a ``FetchError``.
A server's Retry-After is believed up to ``MAX_RETRY_AFTER`` (one day) and ignored when it is
garbage, so a hostile header can neither crash the backoff arithmetic nor park a source for
centuries.

``post_form`` sends a form (a WebSub hub's ping) through the same guards and deadlines, but
asks no robots.txt (it is no crawl) and follows no redirect.

A ``FetchSession`` holds what is shared across the sources of one run (robots.txt answers,
the last request time per host, the TLS context); an ``HttpClient`` is one source's client.
"""

from __future__ import annotations

import email.utils
import hashlib
import re
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, Literal, Protocol, TypeVar
from urllib.parse import urlencode, urljoin, urlsplit

import httpx

from swfeed import __version__
from swfeed.config import Config, FeedSourceConfig, HtmlSourceConfig, HttpOptions
from swfeed.errors import SourceError
from swfeed.sources import UNLIMITED, WorkBudget
from swfeed.sources.inflate import ACCEPT_ENCODING, BadEncoding, BodyTooLarge, Inflater
from swfeed.sources.netguard import AddressPolicy, AddressRefused, Deadline, GuardedTransport
from swfeed.sources.pages import Page, Validators, page_validators
from swfeed.sources.robots import MAX_ROBOTS_BYTES, RobotsRules, parse_robots

ROBOTS_AGENT = "swfeed"
MAX_REDIRECTS = 5
MAX_RETRY_WAIT = 60.0
MAX_RETRY_AFTER = 86400.0
MAX_CRAWL_DELAY = 30.0
REDIRECTS = frozenset({301, 302, 303, 307, 308})
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
_DELTA_SECONDS = re.compile(r"[0-9]+", re.ASCII)

Reason = Literal[
    "refused", "robots", "timeout", "network", "status", "too_large", "redirects", "encoding"
]


def user_agent(config: Config) -> str:
    """``swfeed/<version> (+<site url>)``: who we are and where to complain."""
    return f"{ROBOTS_AGENT}/{__version__} (+{config.site.base_url})"


def backoff_delay(failures: int) -> timedelta:
    """How long to leave a source alone after ``failures`` failed fetches in a row.

    0 after the first failure (the next scheduled fetch simply tries again), then 15 minutes,
    doubling up to a day: 15m, 30m, 1h, 2h, ... 24h.
    """
    if failures <= 1:
        return timedelta(0)
    return min(timedelta(minutes=15) * (1 << min(failures - 2, 16)), timedelta(days=1))


class FetchError(SourceError):
    """One URL could not be fetched; ``reason`` says why, ``transient`` if a retry may help."""

    def __init__(
        self,
        source: str,
        url: str,
        message: str,
        *,
        reason: Reason,
        hint: str | None = None,
        transient: bool = False,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(source, f"{url}: {message}", hint)
        self.url = url
        self.reason = reason
        self.transient = transient
        self.retry_after = retry_after
        self.status = status


class Clock(Protocol):
    """Monotonic time and sleeping, for the waits between requests (tests pass a fake)."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass
class FetchSession:
    """What the sources of one run share: robots.txt answers, per-host timing, TLS setup."""

    user_agent: str
    clock: Clock = field(default_factory=SystemClock)
    robots: dict[str, RobotsRules] = field(default_factory=dict)
    last_request: dict[str, float] = field(default_factory=dict)
    ssl_context: ssl.SSLContext | None = None

    @classmethod
    def for_config(cls, config: Config) -> FetchSession:
        return cls(user_agent(config))

    def tls_context(self) -> ssl.SSLContext:
        """The TLS setup (certifi's CAs), made on the first https request of the session."""
        if self.ssl_context is None:
            self.ssl_context = httpx.create_ssl_context()
        return self.ssl_context

    def wait_turn(self, host: str, interval: float) -> None:
        """Sleep until ``interval`` seconds have passed since the last request to ``host``."""
        last = self.last_request.get(host)
        if last is not None:
            remaining = last + interval - self.clock.monotonic()
            if remaining > 0:
                self.clock.sleep(remaining)
        self.last_request[host] = self.clock.monotonic()


def _http_date(value: str | None) -> datetime | None:
    try:
        when = email.utils.parsedate_to_datetime(value or "")
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def retry_after_seconds(value: str | None, date: str | None) -> float | None:
    """Retry-After as seconds: delta-seconds, or an HTTP date counted from the Date header.

    At most ``MAX_RETRY_AFTER``; a date already past is 0; anything else (negative numbers,
    non-ASCII digits, garbage, a date without a Date header) is None: no advice.
    """
    value = (value or "").strip()
    if _DELTA_SECONDS.fullmatch(value):
        return min(float(value), MAX_RETRY_AFTER)
    when, sent = _http_date(value), _http_date(date)
    if when is None or sent is None:
        return None
    return min(max(0.0, (when - sent).total_seconds()), MAX_RETRY_AFTER)


class HttpClient:
    """One source's HTTP client. Use from one thread; close it (or use ``with``)."""

    def __init__(
        self,
        source: str,
        options: HttpOptions,
        session: FetchSession,
        *,
        policy: AddressPolicy | None = None,
    ) -> None:
        self.source = source
        self.options = options
        self.session = session
        self._deadline = Deadline()
        policy = policy or AddressPolicy(allow_private=options.allow_private_addresses)
        self._client = httpx.Client(
            transport=GuardedTransport(policy, self._deadline, session.tls_context),
            timeout=httpx.Timeout(options.total_timeout, connect=options.connect_timeout),
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": session.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
        )

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def get(self, url: str, validators: Validators | None = None, accept: str = "*/*") -> Page:
        """GET ``url`` (conditionally, with ``validators``); retried when transient."""
        headers = {"Accept": accept, **(validators.headers() if validators else {})}
        return self._retried(
            lambda: self._follow(url, headers, self.options.max_bytes, check_robots=True)
        )

    def post_form(self, url: str, fields: Sequence[tuple[str, str]]) -> Page:
        """POST ``fields`` url-encoded to ``url`` (a WebSub hub); retried when transient.

        An API call, not a crawl: robots.txt is not asked and a redirect is an error.
        """
        body = urlencode(list(fields)).encode("ascii")
        headers = {"Accept": "*/*", "Content-Type": "application/x-www-form-urlencoded"}
        return self._retried(lambda: self._post(url, headers, body))

    def _retried(self, attempt: Callable[[], Page]) -> Page:
        for number in range(self.options.retries + 1):
            try:
                return attempt()
            except FetchError as error:
                delay = self._retry_delay(error, number)
                if delay is None:
                    raise
                self.session.clock.sleep(delay)
        raise AssertionError("unreachable: the last attempt raises or returns")

    def _post(self, url: str, headers: dict[str, str], body: bytes) -> Page:
        with self._deadline.running(self.options.total_timeout):
            self._check_url(url, check_robots=False)
            page = self._send(url, headers, self.options.max_bytes, body)
        return self._checked_status(page)

    def _retry_delay(self, error: FetchError, attempt: int) -> float | None:
        if not error.transient or attempt >= self.options.retries:
            return None
        delay = self.options.retry_backoff * (1 << attempt)
        if error.retry_after is not None:
            delay = max(delay, error.retry_after)
        return delay if delay <= MAX_RETRY_WAIT else None

    def _follow(self, url: str, headers: dict[str, str], limit: int, *, check_robots: bool) -> Page:
        """One attempt: follow up to MAX_REDIRECTS redirects, checking every hop."""
        with self._deadline.running(self.options.total_timeout):
            for _hop in range(MAX_REDIRECTS + 1):
                self._check_url(url, check_robots=check_robots)
                page = self._send(url, headers, limit)
                location = page.headers.get("location")
                if page.status not in REDIRECTS or not location:
                    return self._checked_status(page)
                url = urljoin(url, location.strip())
        raise FetchError(
            self.source,
            url,
            f"more than {MAX_REDIRECTS} redirects",
            reason="redirects",
            hint="The server redirects in a loop or too often; use the final URL in the config.",
        )

    def _check_url(self, url: str, *, check_robots: bool) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(
                self.source,
                url,
                "only http and https URLs are fetched",
                reason="refused",
                hint="A redirect or link led to a non-web URL; check the source's url.",
            )
        if check_robots and not self._robots_for(url).allowed(url):
            raise self._robots_refusal(url, self._robots_for(url))

    def _robots_refusal(self, url: str, rules: RobotsRules) -> FetchError:
        if rules.unreachable_because:
            return FetchError(
                self.source,
                url,
                f"{rules.unreachable_because}; RFC 9309 then forbids crawling the site",
                reason="robots",
                hint="The site's server fails; swfeed tries again on the next fetch.",
            )
        return FetchError(
            self.source,
            url,
            "robots.txt disallows swfeed from fetching this URL",
            reason="robots",
            hint="Ask the site's owner to allow the `swfeed` user agent, or drop the source.",
        )

    def _send(
        self, url: str, headers: dict[str, str], limit: int, form: bytes | None = None
    ) -> Page:
        """One request: a GET, or a POST of ``form``."""
        host = urlsplit(url).hostname or ""
        self.session.wait_turn(host, self._interval(url))
        method = "GET" if form is None else "POST"
        try:
            request = self._client.build_request(method, url, headers=headers, content=form)
            response = self._client.send(request, stream=True)
            try:
                body = self._read_body(url, response, limit)
            finally:
                response.close()
        except httpx.TimeoutException:
            raise self._timeout(url) from None
        except httpx.TransportError as exc:
            raise _network_error(self.source, url, exc) from None
        except AddressRefused as exc:
            raise FetchError(
                self.source, url, exc.message, reason="refused", hint=exc.hint
            ) from None
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise FetchError(
                self.source, url, f"not a usable URL: {exc}", reason="refused"
            ) from None
        return Page(str(response.url), response.status_code, response.headers, body)

    def _timeout(self, url: str) -> FetchError:
        return FetchError(
            self.source,
            url,
            f"no complete answer within {self.options.total_timeout:g}s "
            f"(connect limit {self.options.connect_timeout:g}s)",
            reason="timeout",
            transient=True,
            hint="The server is slow or down; raise `http: {total_timeout: ...}` if it is "
            "just slow.",
        )

    def _read_body(self, url: str, response: httpx.Response, limit: int) -> bytes:
        if response.status_code in REDIRECTS or response.status_code == 304:
            return b""
        try:
            inflater = Inflater(response.headers.get("content-encoding", ""), limit)
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise BodyTooLarge(f"Content-Length {declared} is over the {limit} byte limit")
            chunks = []
            for raw in response.iter_raw():
                chunks.append(inflater.feed(raw))
                if self._deadline.expired():
                    raise self._timeout(url)
            chunks.append(inflater.flush())
        except BodyTooLarge as exc:
            raise FetchError(
                self.source, url, exc.message, reason="too_large", hint=exc.hint
            ) from None
        except BadEncoding as exc:
            raise FetchError(
                self.source, url, exc.message, reason="encoding", hint=exc.hint
            ) from None
        return b"".join(chunks)

    def _checked_status(self, page: Page) -> Page:
        if 200 <= page.status < 300 or page.status == 304:
            return page
        wait = retry_after_seconds(page.headers.get("retry-after"), page.headers.get("date"))
        raise FetchError(
            self.source,
            page.url,
            f"the server answered HTTP {page.status}",
            reason="status",
            transient=page.status in TRANSIENT_STATUSES,
            retry_after=wait,
            hint=_status_hint(page.status),
            status=page.status,
        )

    def _interval(self, url: str) -> float:
        rules = self.session.robots.get(_origin(url))
        delay = rules.crawl_delay if rules is not None and rules.crawl_delay else 0.0
        return max(self.options.min_interval, min(delay, MAX_CRAWL_DELAY))

    def _robots_for(self, url: str) -> RobotsRules:
        origin = _origin(url)
        if origin not in self.session.robots:
            self.session.robots[origin] = self._fetch_robots(origin)
        return self.session.robots[origin]

    def _fetch_robots(self, origin: str) -> RobotsRules:
        """RFC 9309 2.3.1: 2xx parse; 4xx allow all; 5xx or unreachable disallow all."""
        limit = max(MAX_ROBOTS_BYTES, self.options.max_bytes)
        try:
            page = self._follow(
                f"{origin}/robots.txt", {"Accept": "text/plain"}, limit, check_robots=False
            )
        except FetchError as error:
            if error.reason in ("refused", "network", "timeout"):
                raise  # the site itself is unreachable: say so, not "robots.txt forbids"
            if error.reason == "redirects" or (error.status or 0) // 100 == 4:
                return RobotsRules()
            return RobotsRules.unreachable(f"robots.txt could not be read ({error.message})")
        return parse_robots(page.text("text"), ROBOTS_AGENT)


def _network_error(source: str, url: str, exc: httpx.TransportError) -> FetchError:
    """A failed connection: retried, unless the TLS certificate is wrong (that stays wrong)."""
    if "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return FetchError(
            source,
            url,
            f"the TLS certificate is not valid: {exc}",
            reason="network",
            hint="The site's certificate is expired, self-signed or for another name; tell "
            "the site's owner.",
        )
    return FetchError(source, url, f"connection failed: {exc}", reason="network", transient=True)


def _status_hint(status: int) -> str:
    if status in (404, 410):
        return "The page is gone: check the source's url in the config."
    if status in (401, 403):
        return "The server refuses swfeed: the page may need a login or block robots."
    if status == 429:
        return "The server asks swfeed to slow down: raise `http: {min_interval: ...}`."
    return "The server failed; swfeed retries on the next fetch."


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1].lower()}"


@dataclass(frozen=True, slots=True)
class Fetcher:
    """What a remote source needs to open its clients: its name, limits, session, policy."""

    source: str
    options: HttpOptions
    session: FetchSession
    policy: AddressPolicy | None = None

    def client(self) -> HttpClient:
        return HttpClient(self.source, self.options, self.session, policy=self.policy)


SourceConfigT = TypeVar("SourceConfigT", HtmlSourceConfig, FeedSourceConfig)


class RemoteSource(Generic[SourceConfigT]):
    """What every remote source holds: its config, name, the site's zone and language, its
    fetcher.

    ``session`` shares robots.txt answers and per-host timing across the sources of a run
    (default: a session of its own); ``policy`` overrides the address policy (tests).
    ``fingerprint`` names the source's settings (all but ``http``): validators saved under
    another fingerprint were made for other selectors, filters or categories, so the next
    fetch asks unconditionally and the edit takes effect at once.
    """

    def __init__(
        self,
        source_config: SourceConfigT,
        config: Config,
        *,
        session: FetchSession | None = None,
        policy: AddressPolicy | None = None,
        budget: WorkBudget = UNLIMITED,
    ) -> None:
        self.name = source_config.name
        self.budget = budget
        self.source_config: SourceConfigT = source_config
        self.zone = config.site.zone
        self.site_language = config.site.language
        session = session or FetchSession.for_config(config)
        self.fetcher = Fetcher(self.name, source_config.http, session, policy)
        settings = source_config.model_dump_json(exclude={"http"})
        self.fingerprint = hashlib.sha256(settings.encode("utf-8")).hexdigest()[:16]

    def trusts(self, state: dict[str, Any], force: bool) -> bool:
        """May ``state``'s validators be used: made with these settings, and no ``--force``?"""
        return not force and state.get("config") == self.fingerprint


def fetch_if_changed(
    client: HttpClient, url: str, state: dict[str, Any], accept: str, *, trusted: bool = True
) -> Page | None:
    """GET ``url`` conditionally with the validators ``state`` holds for it.

    None when it did not change: a 304, or a 200 with the very body processed last time.
    Without ``trusted`` (``--force``, or the validators were made with another config) it
    asks unconditionally and takes whatever comes.
    """
    known = page_validators(state, url) if trusted else None
    page = client.get(url, known, accept)
    if page.not_modified:
        return None
    if known is not None and known.sha256 == page.validators.sha256:
        return None
    return page
