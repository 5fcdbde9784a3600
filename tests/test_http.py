"""The shared HTTP client against a real server on 127.0.0.1: limits, redirects, addresses,
conditional GET, robots.txt, retries and politeness."""

from __future__ import annotations

import socket
import ssl
from datetime import timedelta
from ipaddress import ip_address, ip_network
from typing import Any

import pytest
import trustme

from swfeed.config import HttpOptions
from swfeed.sources.http import (
    MAX_RETRY_AFTER,
    MAX_RETRY_WAIT,
    FetchError,
    FetchSession,
    HttpClient,
    backoff_delay,
    fetch_if_changed,
    retry_after_seconds,
)
from swfeed.sources.netguard import AddressPolicy, AddressRefused
from swfeed.sources.pages import Validators
from tests.httpfixture import (
    FAST_HTTP,
    FakeClock,
    FixtureServer,
    body,
    bounded,
    conditional,
    deflated,
    drip,
    gzip_bomb,
    gzipped,
    huge,
    redirect,
    running,
    sequence,
    status,
)

UA = "swfeed/0.1.0 (+https://www.securitywomen.org/)"
LOCAL_ONLY = AddressPolicy(allowed=(ip_network("127.0.0.1/32"),))
MB = 1 << 20


def client(
    clock: FakeClock | None = None, policy: AddressPolicy | None = LOCAL_ONLY, **options: Any
) -> HttpClient:
    session = FetchSession(UA, clock=clock or FakeClock())
    return HttpClient("test", HttpOptions(**{**FAST_HTTP, **options}), session, policy=policy)


def failure(work: Any, seconds: float = 10) -> FetchError:
    with pytest.raises(FetchError) as caught:
        bounded(seconds, work)
    return caught.value


@pytest.fixture
def server() -> Any:
    with running() as started:
        yield started


def test_get_names_swfeed_and_the_site(server: FixtureServer) -> None:
    """Requests carry User-Agent swfeed/<version> (+site url) and ask for gzip."""
    url = server.serve("/page", body("<p>hi</p>"))
    with client() as http:
        page = http.get(url)
    assert page.status == 200
    assert page.text("html") == "<p>hi</p>"
    seen = server.requests[-1].headers
    assert seen["user-agent"] == UA
    assert seen["accept-encoding"] == "gzip, deflate"


def test_slow_drip_body_is_cut_off(server: FixtureServer) -> None:
    """A body sent one byte at a time is cut off at the total deadline."""
    url = server.serve("/drip", drip(total=200, interval=0.05))
    with client(total_timeout=0.5) as http:
        error = failure(lambda: http.get(url))
    assert error.reason == "timeout"
    assert error.transient


def test_slow_drip_headers_are_cut_off(server: FixtureServer) -> None:
    """Headers sent one byte at a time are cut off at the total deadline too."""
    url = server.serve("/drip", drip(total=200, interval=0.05, in_headers=True))
    with client(total_timeout=0.5) as http:
        error = failure(lambda: http.get(url))
    assert error.reason == "timeout"


def test_declared_oversize_body_is_refused(server: FixtureServer) -> None:
    """A 10 MB body with its Content-Length is refused before it is read."""
    url = server.serve("/big", huge(10 * MB))
    with client(max_bytes=MB) as http:
        error = failure(lambda: http.get(url))
    assert error.reason == "too_large"
    assert "Content-Length" in error.message


def test_undeclared_oversize_body_is_cut_at_the_cap(server: FixtureServer) -> None:
    """A 10 MB body without Content-Length is cut off once it passes max_bytes."""
    url = server.serve("/big", huge(10 * MB, declare_length=False))
    with client(max_bytes=MB) as http:
        error = failure(lambda: http.get(url))
    assert error.reason == "too_large"


def test_gzip_bomb_is_refused(server: FixtureServer) -> None:
    """10 MB of zeros in a ~10 KB gzip body stops at max_bytes decompressed."""
    url = server.serve("/bomb", gzip_bomb(10 * MB))
    with client(max_bytes=MB) as http:
        error = failure(lambda: http.get(url))
    assert error.reason == "too_large"
    assert "decompressed" in error.message


def test_gzip_body_is_decompressed(server: FixtureServer) -> None:
    """A gzip-encoded page arrives as its plain bytes."""
    url = server.serve("/gz", gzipped("<p>Zürich</p>".encode()))
    with client() as http:
        assert http.get(url).text("html") == "<p>Zürich</p>"


def test_raw_deflate_body_is_decompressed(server: FixtureServer) -> None:
    """Deflate without the zlib header (a common server bug) still decodes."""
    url = server.serve("/deflate", deflated(b"<p>raw</p>", raw=True))
    with client() as http:
        assert http.get(url).body == b"<p>raw</p>"


def test_unrequested_content_encoding_is_refused(server: FixtureServer) -> None:
    """A body in an encoding swfeed did not ask for is an error, not garbage."""
    url = server.serve("/br", body(b"\x8b\x00", "text/html", Content_Encoding="br"))
    with client() as http:
        assert failure(lambda: http.get(url)).reason == "encoding"


def test_redirect_loop_stops_after_five_redirects(server: FixtureServer) -> None:
    """A redirect loop fails after five redirects (six requests) and is not retried."""
    server.serve("/a", redirect("/b"))
    url = server.serve("/b", redirect("/a"))
    with client(retries=2) as http:
        error = failure(lambda: http.get(url))
    assert error.reason == "redirects"
    assert server.hits("/a") + server.hits("/b") == 6


def test_redirects_are_followed_to_the_final_url(server: FixtureServer) -> None:
    """A 301 then a 302 lead to the page; the page knows its final URL."""
    server.serve("/old", redirect("/older", 301))
    server.serve("/older", redirect(server.url("/new")))
    server.serve("/new", body("<p>new</p>"))
    with client() as http:
        page = http.get(server.url("/old"))
    assert page.url == server.url("/new")
    assert page.body == b"<p>new</p>"


def _loopback_two_reachable() -> bool:
    try:
        with socket.socket() as probe:
            probe.bind(("127.0.0.2", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _loopback_two_reachable(), reason="127.0.0.2 cannot be bound here")
def test_redirect_to_another_loopback_address_is_refused(server: FixtureServer) -> None:
    """A redirect to 127.0.0.2 is refused at connect time: that server sees no request."""
    with running("127.0.0.2") as other:
        target = other.serve("/secret", body("secret"))
        url = server.serve("/hop", redirect(target))
        with client(retries=2) as http:
            error = failure(lambda: http.get(url))
        assert other.requests == []
    assert error.reason == "refused"
    assert "127.0.0.2" in error.message


def test_loopback_is_refused_by_default(server: FixtureServer) -> None:
    """Without allow_private_addresses, 127.0.0.1 is never connected to."""
    url = server.serve("/page", body("x"))
    with client(policy=None, allow_private_addresses=False) as http:
        error = failure(lambda: http.get(url))
    assert error.reason == "refused"
    assert "allow_private_addresses" in error.hint
    assert server.requests == []


def test_localhost_name_is_resolved_and_refused(server: FixtureServer) -> None:
    """A host name is judged by the address it resolves to."""
    server.serve("/page", body("x"))
    with client(policy=None, allow_private_addresses=False) as http:
        error = failure(lambda: http.get(f"http://localhost:{server.port}/page"))
    assert error.reason == "refused"
    assert server.requests == []


def test_allow_private_addresses_opts_in(server: FixtureServer) -> None:
    """allow_private_addresses: true lets a source fetch from its own network."""
    url = server.serve("/page", body("ok"))
    with client(policy=None, allow_private_addresses=True) as http:
        assert http.get(url).body == b"ok"


def test_redirect_to_a_file_url_is_refused(server: FixtureServer) -> None:
    """A redirect to file:///etc/passwd is refused, not followed."""
    url = server.serve("/hop", redirect("file:///etc/passwd"))
    with client() as http:
        assert failure(lambda: http.get(url)).reason == "refused"


def test_conditional_get_sends_both_validators(server: FixtureServer) -> None:
    """The second request carries If-None-Match and If-Modified-Since and gets a 304."""
    stamp = "Thu, 08 Jan 2026 10:00:00 GMT"
    url = server.serve("/feed", conditional(b"<rss/>", "application/rss+xml", '"v1"', stamp))
    with client() as http:
        first = http.get(url)
        second = http.get(url, first.validators)
    assert first.validators.etag == '"v1"'
    assert first.validators.last_modified == stamp
    assert second.not_modified
    headers = server.requests[-1].headers
    assert headers["if-none-match"] == '"v1"'
    assert headers["if-modified-since"] == stamp


def test_unchanged_body_counts_as_not_modified(server: FixtureServer) -> None:
    """A 200 with the very body processed last time is treated like a 304."""
    url = server.serve("/page", body("<p>same</p>"))
    with client() as http:
        first = fetch_if_changed(http, url, {}, "*/*")
        assert first is not None
        state = {"pages": {url: first.validators.to_state()}}
        assert fetch_if_changed(http, url, state, "*/*") is None


def test_robots_disallow_blocks_the_page(server: FixtureServer) -> None:
    """A path robots.txt disallows for swfeed is never requested."""
    robots = "User-agent: *\nAllow: /\n\nUser-agent: swfeed\nDisallow: /private/\n"
    server.serve("/robots.txt", body(robots, "text/plain"))
    url = server.serve("/private/page", body("x"))
    with client() as http:
        error = failure(lambda: http.get(url))
    assert error.reason == "robots"
    assert server.hits("/private/page") == 0


def test_robots_404_allows_everything(server: FixtureServer) -> None:
    """A missing robots.txt (4xx) means everything is allowed (RFC 9309)."""
    url = server.serve("/page", body("ok"))
    with client() as http:
        assert http.get(url).body == b"ok"
    assert server.hits("/robots.txt") == 1


def test_robots_500_disallows_everything(server: FixtureServer) -> None:
    """A failing robots.txt (5xx) means nothing may be crawled (RFC 9309)."""
    server.serve("/robots.txt", status(500))
    url = server.serve("/page", body("ok"))
    with client() as http:
        assert failure(lambda: http.get(url)).reason == "robots"
    assert server.hits("/page") == 0


def test_robots_is_fetched_once_per_session(server: FixtureServer) -> None:
    """Two clients of one session ask for robots.txt once."""
    url = server.serve("/page", body("ok"))
    session = FetchSession(UA, clock=FakeClock())
    for _ in range(2):
        with HttpClient("t", HttpOptions(**FAST_HTTP), session, policy=LOCAL_ONLY) as http:
            http.get(url)
    assert server.hits("/robots.txt") == 1
    assert server.hits("/page") == 2


def test_server_error_is_retried_with_backoff(server: FixtureServer) -> None:
    """Two 503s then a 200: retried after 1 s and 2 s (exponential backoff)."""
    url = server.serve("/flaky", sequence(status(503), status(503), body("ok")))
    clock = FakeClock()
    with client(clock, retries=2, retry_backoff=1.0) as http:
        assert http.get(url).body == b"ok"
    assert clock.sleeps == [1.0, 2.0]


def test_too_many_requests_honours_retry_after(server: FixtureServer) -> None:
    """A 429 with Retry-After: 7 waits 7 s before the retry."""
    url = server.serve("/busy", sequence(status(429, Retry_After="7"), body("ok")))
    clock = FakeClock()
    with client(clock, retries=1, retry_backoff=0.5) as http:
        assert http.get(url).body == b"ok"
    assert clock.sleeps == [7.0]


def test_retries_give_up_with_the_last_error(server: FixtureServer) -> None:
    """A server that keeps failing fails the fetch after the configured retries."""
    url = server.serve("/down", status(502))
    with client(retries=2) as http:
        error = failure(lambda: http.get(url))
    assert error.status == 502
    assert server.hits("/down") == 3


def test_not_found_is_not_retried(server: FixtureServer) -> None:
    """A 404 fails at once with a hint about the url."""
    url = server.url("/missing")
    with client(retries=3) as http:
        error = failure(lambda: http.get(url))
    assert error.status == 404
    assert "url" in error.hint
    assert server.hits("/missing") == 1


def test_connection_refused_is_a_transient_network_error() -> None:
    """Nothing listening: a transient network error."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with client() as http:
        error = failure(lambda: http.get(f"http://127.0.0.1:{port}/"))
    assert error.reason == "network"
    assert error.transient


def test_min_interval_spaces_requests_to_one_host(server: FixtureServer) -> None:
    """With min_interval 5, the next request to the host waits out the 5 s."""
    url = server.serve("/page", body("ok"))
    clock = FakeClock()
    with client(clock, min_interval=5) as http:
        http.get(url)
        http.get(url)
    assert clock.sleeps == [5.0, 5.0]  # robots.txt -> page, page -> page


def test_validators_round_trip_through_state() -> None:
    """Validators survive the JSON state and make the request conditional."""
    known = Validators(etag='"x"', last_modified="Thu, 08 Jan 2026 10:00:00 GMT", sha256="ab")
    assert Validators.from_state(known.to_state()) == known
    assert set(known.headers()) == {"If-None-Match", "If-Modified-Since"}


def test_retry_after_date_counts_from_the_date_header() -> None:
    """Retry-After as an HTTP date is measured from the response's Date header."""
    seconds = retry_after_seconds("Thu, 08 Jan 2026 10:02:00 GMT", "Thu, 08 Jan 2026 10:00:00 GMT")
    assert seconds == 120.0


def test_huge_retry_after_is_capped_at_a_day() -> None:
    """Retry-After: 99999999999999 counts as one day, which a timedelta can hold."""
    seconds = retry_after_seconds("99999999999999", None)
    assert seconds == MAX_RETRY_AFTER == 86400.0
    assert timedelta(seconds=seconds) == timedelta(days=1)


def test_far_future_retry_after_date_is_capped_at_a_day() -> None:
    """A Retry-After date in the year 9999 counts as one day."""
    seconds = retry_after_seconds("Fri, 31 Dec 9999 23:59:59 GMT", "Thu, 08 Jan 2026 10:00:00 GMT")
    assert seconds == MAX_RETRY_AFTER


def test_past_retry_after_date_means_now() -> None:
    """A Retry-After date before the response's Date header means retry at once."""
    seconds = retry_after_seconds("Thu, 08 Jan 2026 09:00:00 GMT", "Thu, 08 Jan 2026 10:00:00 GMT")
    assert seconds == 0.0


@pytest.mark.parametrize(
    "value", ["-5", "-99999999999999", "1e9", "3.5", "soon", "\u00b2", "\u0663", "", "Thu, 99"]
)
def test_garbage_retry_after_is_ignored(value: str) -> None:
    """Negative, fractional, non-ASCII-digit or unparsable Retry-After values give no advice."""
    assert retry_after_seconds(value, "Thu, 08 Jan 2026 10:00:00 GMT") is None


def test_hostile_retry_after_from_a_server_is_capped(server: FixtureServer) -> None:
    """A 503 asking for 10^14 s is not waited for in-run and reports a one-day retry_after."""
    url = server.serve("/hostile", status(503, Retry_After="99999999999999"))
    clock = FakeClock()
    with client(clock, retries=2, retry_backoff=1.0) as http:
        error = failure(lambda: http.get(url))
    assert error.retry_after == MAX_RETRY_AFTER
    assert clock.sleeps == []  # a day is over MAX_RETRY_WAIT: give up instead of sleeping
    assert MAX_RETRY_WAIT < MAX_RETRY_AFTER
    assert server.hits("/hostile") == 1


def test_backoff_delay_grows_and_is_capped() -> None:
    """Cross-run backoff: none after one failure, then 15 min doubling, at most a day."""
    assert backoff_delay(1) == timedelta(0)
    assert backoff_delay(2) == timedelta(minutes=15)
    assert backoff_delay(3) == timedelta(minutes=30)
    assert backoff_delay(40) == timedelta(days=1)


@pytest.mark.parametrize(
    "address", ["169.254.169.254", "fd00:ec2::254", "100.100.100.200", "::ffff:169.254.169.254"]
)
def test_metadata_addresses_are_refused_even_when_private_is_allowed(address: str) -> None:
    """Cloud metadata endpoints stay closed with allow_private_addresses."""
    with pytest.raises(AddressRefused):
        AddressPolicy(allow_private=True).check("meta", ip_address(address))


@pytest.mark.parametrize(
    "address", ["::ffff:127.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::1", "10.1.2.3", "::1"]
)
def test_private_addresses_hidden_in_ipv6_are_refused(address: str) -> None:
    """IPv4-mapped, NAT64 and 6to4 forms of private addresses are refused."""
    with pytest.raises(AddressRefused):
        AddressPolicy().check("host", ip_address(address))


def test_public_address_is_allowed() -> None:
    """A global unicast address passes the policy."""
    AddressPolicy().check("example", ip_address("93.184.216.34"))


def _tls_server_context(ca: trustme.CA, host: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(host).configure_cert(context)
    return context


def _tls_client(ca: trustme.CA) -> HttpClient:
    trusted = ssl.create_default_context()
    ca.configure_trust(trusted)
    session = FetchSession(UA, clock=FakeClock(), ssl_context=trusted)
    loopback = AddressPolicy(allowed=(ip_network("127.0.0.1/32"), ip_network("::1/128")))
    return HttpClient("test", HttpOptions(**FAST_HTTP), session, policy=loopback)


def test_https_is_verified_against_the_host_name() -> None:
    """Connecting to the checked IP still verifies the certificate for the host name."""
    ca = trustme.CA()
    with running(tls=_tls_server_context(ca, "localhost")) as server:
        server.serve("/page", body("secure"))
        with _tls_client(ca) as http:
            assert http.get(server.url("/page", host="localhost")).body == b"secure"


def test_https_with_a_certificate_for_another_name_fails() -> None:
    """A certificate for another host name is refused: no body is read."""
    ca = trustme.CA()
    with running(tls=_tls_server_context(ca, "other.example")) as server:
        server.serve("/page", body("secure"))
        with _tls_client(ca) as http:
            error = failure(lambda: http.get(server.url("/page", host="localhost")))
    assert error.reason == "network"
    assert not error.transient
    assert "certificate" in error.message.lower()
