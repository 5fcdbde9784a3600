"""``swfeed serve`` in a thread on 127.0.0.1, exercised by a real HTTP client (httpx)."""

from __future__ import annotations

import gzip
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from swfeed.config import Config, load_config
from swfeed.digest.archive import unsubscribe_page
from swfeed.mailinglist.tokens import make_token
from swfeed.mailinglist.unsubqueue import queue_path
from swfeed.store import Database
from swfeed.store.subscribers import NewEntry, Status, SubscriberStore
from swfeed.templating import SiteView
from swfeed.web import accepts_gzip, page_policy, prefers_html, served_site, server
from tests.feedcheck import sample_config
from tests.smtpfixture import NOW, SECRET, write_config
from tests.test_digest_support import document

RSS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
    + "x" * 600
    + "</channel></rss>"
)
ATOM = '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"></feed>'
JSON_FEED = '{"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": []}'


@dataclass
class Site:
    """A running server, its client, and its config."""

    client: httpx.Client
    config: Config

    def status(self, address: str) -> Status | None:
        db = Database(self.config.store.path)
        try:
            found = SubscriberStore(db).get(address)
            return found.status if found else None
        finally:
            db.close()

    def file(self, relative: str) -> Path:
        return self.config.output.path / relative


def populate(public: Path) -> None:
    (public / "feeds").mkdir(parents=True)
    (public / "digest").mkdir()
    (public / "feeds" / "rss.xml").write_text(RSS, encoding="utf-8")
    (public / "feeds" / "atom.xml").write_text(ATOM, encoding="utf-8")
    (public / "feeds" / "feed.json").write_text(JSON_FEED, encoding="utf-8")
    (public / "digest" / "index.html").write_text("<!doctype html><title>Issues</title>")
    (public / "index.html").write_text("<!doctype html><title>Home</title>")
    (public / ".secret").write_text("hidden")


def listening_socket() -> socket.socket:
    """A socket bound to a free port on 127.0.0.1 (know the port before the server runs)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    return listener


@contextmanager
def running(config: Config, listener: socket.socket | None = None) -> Iterator[Site]:
    """The app for ``config`` on a real server in a thread, and a client for it."""
    listener = listener or listening_socket()
    port = listener.getsockname()[1]
    app_server = server(config, "127.0.0.1", port)
    thread = threading.Thread(target=app_server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not app_server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.01)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            yield Site(client, config)
    finally:
        app_server.should_exit = True
        thread.join(timeout=10)
        listener.close()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """The app on a real server in a thread, with a subscriber ann@example.org."""
    config = load_config(write_config(tmp_path, method="outbox"))
    populate(config.output.path)
    db = Database(config.store.path)
    SubscriberStore(db).add(NewEntry("ann@example.org", "Ann"), NOW, [])
    db.close()
    with running(config) as started:
        yield started


def token(address: str = "ann@example.org") -> str:
    return make_token(SECRET.encode(), address)


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/feeds/rss.xml", "application/rss+xml; charset=utf-8"),
        ("/feeds/atom.xml", "application/atom+xml; charset=utf-8"),
        ("/feeds/feed.json", "application/feed+json"),
        ("/index.html", "text/html; charset=utf-8"),
    ],
)
def test_feeds_get_their_media_types(site: Site, path: str, media_type: str) -> None:
    """RSS, Atom and JSON Feed are served with their own media types."""
    response = site.client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type


CHROMIUM_ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
FIREFOX_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
FEEDPARSER_ACCEPT = (
    "application/atom+xml,application/rdf+xml,application/rss+xml,application/x-netcdf,"
    "application/xml;q=0.9,text/xml;q=0.2,*/*;q=0.1"
)


@pytest.mark.parametrize(
    ("accept", "browser"),
    [
        (CHROMIUM_ACCEPT, True),
        (FIREFOX_ACCEPT, True),
        ("text/html", True),
        (FEEDPARSER_ACCEPT, False),
        ("application/rss+xml, application/atom+xml, application/xml, */*", False),
        ("*/*", False),
        ("", False),
        ("text/html;q=0.5, application/rss+xml", False),
        ("text/html;q=0, */*", False),
    ],
)
def test_prefers_html_tells_browsers_from_feed_readers(accept: str, browser: bool) -> None:
    """Browsers rank text/html above the feed type; readers, curl and no header do not."""
    assert prefers_html(accept, "application/rss+xml") is browser


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/feeds/rss.xml", "application/xml; charset=utf-8"),
        ("/feeds/atom.xml", "application/xml; charset=utf-8"),
        ("/feeds/feed.json", "application/json"),
    ],
)
def test_browser_gets_the_same_feed_as_a_type_it_shows(
    site: Site, path: str, media_type: str
) -> None:
    """A browser gets the feed's very bytes as plain XML (JSON), with Vary: Accept and an
    ETag of its own; a feed reader still gets the feed type."""
    shown = site.client.get(path, headers={"Accept": FIREFOX_ACCEPT})
    read = site.client.get(path, headers={"Accept": FEEDPARSER_ACCEPT})
    assert shown.headers["content-type"] == media_type
    assert read.headers["content-type"].split(";")[0].endswith(("rss+xml", "atom+xml", "+json"))
    assert shown.content == read.content
    assert shown.headers["etag"] != read.headers["etag"]
    assert "Accept" in shown.headers["vary"]
    assert "Accept" in read.headers["vary"]


def test_browser_representation_revalidates(site: Site) -> None:
    """The browser's representation answers its own If-None-Match with 304."""
    first = site.client.get("/feeds/rss.xml", headers={"Accept": CHROMIUM_ACCEPT})
    again = site.client.get(
        "/feeds/rss.xml",
        headers={"Accept": CHROMIUM_ACCEPT, "If-None-Match": first.headers["etag"]},
    )
    assert again.status_code == 304


def test_pages_do_not_vary_by_accept(site: Site) -> None:
    """Only feeds change type with Accept; an HTML page is the same for everyone."""
    response = site.client.get("/index.html", headers={"Accept": CHROMIUM_ACCEPT})
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "Accept" not in response.headers.get("vary", "").replace("Accept-Encoding", "")


def test_page_policy_lets_only_the_logos_load() -> None:
    """The pages' CSP allows images from the logos' origins and nothing else."""
    site = SiteView("T", "https://www.example.org/", "https://cdn.example.org/l.png", "en")
    dark = replace(site, logo_dark="https://img.example.net/d.png")
    assert page_policy(site).endswith("; img-src https://cdn.example.org")
    assert page_policy(dark).endswith("; img-src https://cdn.example.org https://img.example.net")
    assert "img-src" not in page_policy(replace(site, logo=None))


def test_page_policy_lets_a_logo_linked_by_its_path_load() -> None:
    """A logo the pages link by its path is allowed as 'self'."""
    site = SiteView("T", "https://www.example.org/", "/media/site/logo.png", "en")
    assert page_policy(site).endswith("; img-src 'self'")


def test_served_pages_link_our_own_logo_by_its_path(tmp_path: Path) -> None:
    """A logo under output.base_url is linked by its path (it shows at any address the
    server is reached); one elsewhere keeps its URL."""
    config = sample_config(tmp_path)
    assert served_site(config).logo == "/media/logo.png"
    elsewhere = config.site.model_copy(update={"logo": "https://cdn.example.net/l.png"})
    assert served_site(config.model_copy(update={"site": elsewhere})).logo == (
        "https://cdn.example.net/l.png"
    )


def test_opml_is_served_as_opml(site: Site) -> None:
    """The list of feeds is text/x-opml, which feed readers import."""
    site.file("feeds/feeds.opml").write_text('<?xml version="1.0"?><opml version="2.0"/>')
    response = site.client.get("/feeds/feeds.opml")
    assert response.headers["content-type"] == "text/x-opml; charset=utf-8"


def test_response_carries_validators(site: Site) -> None:
    """Files come with a strong ETag and Last-Modified."""
    response = site.client.get("/feeds/atom.xml")
    assert response.headers["etag"].startswith('"')
    assert response.headers["last-modified"].endswith("GMT")
    assert response.text == ATOM


def test_if_none_match_gets_304(site: Site) -> None:
    """A matching If-None-Match gets 304 with no body and the same ETag."""
    first = site.client.get("/feeds/rss.xml")
    again = site.client.get("/feeds/rss.xml", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]


def test_if_modified_since_gets_304(site: Site) -> None:
    """An If-Modified-Since at or after Last-Modified gets 304."""
    first = site.client.get("/feeds/atom.xml")
    since = first.headers["last-modified"]
    again = site.client.get("/feeds/atom.xml", headers={"If-Modified-Since": since})
    assert again.status_code == 304


def test_changed_file_gets_a_new_etag(site: Site) -> None:
    """After the file changes, the old ETag no longer matches and the new body comes."""
    first = site.client.get("/feeds/atom.xml")
    site.file("feeds/atom.xml").write_text(ATOM.replace("</feed>", "<title>n</title></feed>"))
    again = site.client.get("/feeds/atom.xml", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 200
    assert again.headers["etag"] != first.headers["etag"]
    assert "<title>n</title>" in again.text


def test_rewritten_identical_file_keeps_its_etag(site: Site) -> None:
    """Rewriting the same bytes keeps the ETag (it comes from the content)."""
    first = site.client.get("/feeds/atom.xml")
    time.sleep(0.01)
    site.file("feeds/atom.xml").write_text(ATOM)
    again = site.client.get("/feeds/atom.xml", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def test_gzip_when_accepted(site: Site) -> None:
    """Text is gzipped for clients that accept it, with Vary and its own ETag."""
    raw = site.client.get("/feeds/rss.xml", headers={"Accept-Encoding": "identity"})
    with site.client.stream("GET", "/feeds/rss.xml", headers={"Accept-Encoding": "gzip"}) as zipped:
        body = b"".join(zipped.iter_raw())
        headers = zipped.headers
    assert headers["content-encoding"] == "gzip"
    assert headers["vary"] == "Accept, Accept-Encoding"
    assert gzip.decompress(body).decode() == RSS
    assert "content-encoding" not in raw.headers
    assert headers["etag"] != raw.headers["etag"]


def test_gzip_etag_revalidates(site: Site) -> None:
    """The gzipped representation's ETag gets a 304 too."""
    first = site.client.get("/feeds/rss.xml", headers={"Accept-Encoding": "gzip"})
    again = site.client.get(
        "/feeds/rss.xml",
        headers={"Accept-Encoding": "gzip", "If-None-Match": first.headers["etag"]},
    )
    assert again.status_code == 304


def test_head_has_headers_and_no_body(site: Site) -> None:
    """HEAD answers with the headers (and length) of GET, without a body."""
    response = site.client.head("/feeds/atom.xml", headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(ATOM))


def test_folder_redirects_then_serves_index(site: Site) -> None:
    """/digest redirects to /digest/, which serves its index.html."""
    response = site.client.get("/digest")
    assert response.status_code == 301
    assert response.headers["location"] == "/digest/"
    assert site.client.get("/digest/").text.startswith("<!doctype html><title>Issues")


@pytest.mark.parametrize("path", ["//digest", "///digest", "/%2Fdigest", "//digest/../digest"])
def test_no_redirect_leaves_the_site(site: Site, path: str) -> None:
    """A folder asked for with leading slashes redirects to a path on this host."""
    url = site.client.base_url.join("/").copy_with(raw_path=path.encode())
    response = site.client.get(httpx.URL(url))
    location = response.headers.get("location", "/")
    assert location.startswith("/")
    assert not location.startswith(("//", "/\\"))
    assert urlsplit(location).netloc == ""


@pytest.mark.parametrize(
    "path", ["/missing.xml", "/.secret", "/%2e%2e/swfeed.yaml", "/feeds/%2e%2e/%2e%2e/swfeed.yaml"]
)
def test_missing_hidden_and_outside_paths_get_404(site: Site, path: str) -> None:
    """Missing files, dot files and paths leading outside the folder get 404."""
    response = site.client.get(
        httpx.URL(site.client.base_url.join("/").copy_with(raw_path=path.encode()))
    )
    assert response.status_code == 404


def test_unsubscribe_get_only_asks(site: Site) -> None:
    """GET shows a confirmation page with a POST form and changes nothing."""
    response = site.client.get("/unsubscribe", params={"t": token()})
    assert response.status_code == 200
    assert "ann@example.org" in response.text
    assert document(response.text).xpath("//form[@method='post']//button")
    assert response.headers["cache-control"] == "no-store"
    assert site.status("ann@example.org") is Status.ACTIVE


def test_unsubscribe_form_post(site: Site) -> None:
    """POSTing the confirmation form unsubscribes."""
    response = site.client.post(f"/unsubscribe?t={token()}", data={})
    assert response.status_code == 200
    assert "unsubscribed" in response.text
    assert site.status("ann@example.org") is Status.UNSUBSCRIBED


def test_unsubscribe_token_in_form_body(site: Site) -> None:
    """The token may also come as the form field ``t``."""
    response = site.client.post("/unsubscribe", data={"t": token()})
    assert response.status_code == 200
    assert site.status("ann@example.org") is Status.UNSUBSCRIBED


def test_one_click_post(site: Site) -> None:
    """The RFC 8058 one-click POST (multipart, List-Unsubscribe=One-Click) unsubscribes."""
    response = site.client.post(
        f"/unsubscribe?t={token()}", files={"List-Unsubscribe": (None, "One-Click")}
    )
    assert response.status_code == 200
    assert site.status("ann@example.org") is Status.UNSUBSCRIBED


def test_unsubscribe_twice_is_harmless(site: Site) -> None:
    """A repeated POST answers 200 again and keeps the address unsubscribed."""
    site.client.post(f"/unsubscribe?t={token()}", data={"List-Unsubscribe": "One-Click"})
    again = site.client.post(f"/unsubscribe?t={token()}", data={"List-Unsubscribe": "One-Click"})
    assert again.status_code == 200
    assert site.status("ann@example.org") is Status.UNSUBSCRIBED


@pytest.mark.parametrize("cut", [1, 10, 40])
def test_truncated_token_gets_400(site: Site, cut: int) -> None:
    """A token cut short gets 400 and changes nothing."""
    response = site.client.post(f"/unsubscribe?t={token()[:-cut]}")
    assert response.status_code == 400
    assert site.status("ann@example.org") is Status.ACTIVE


def test_forged_token_gets_400(site: Site) -> None:
    """A token signed with another secret gets 400 and changes nothing."""
    forged = make_token(b"not-the-secret-at-all", "ann@example.org")
    assert site.client.post(f"/unsubscribe?t={forged}").status_code == 400
    assert site.client.get(f"/unsubscribe?t={forged}").status_code == 400
    assert site.status("ann@example.org") is Status.ACTIVE


def test_missing_token_gets_400(site: Site) -> None:
    """A POST with no token at all gets 400 and changes nothing."""
    assert site.client.post("/unsubscribe").status_code == 400
    assert (
        site.client.post("/unsubscribe", data={"List-Unsubscribe": "One-Click"}).status_code == 400
    )
    assert site.status("ann@example.org") is Status.ACTIVE


def test_get_without_token_explains_how_to_unsubscribe(site: Site) -> None:
    """GET /unsubscribe with no token answers 200 with how to unsubscribe, and no form."""
    response = site.client.get("/unsubscribe")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    page = document(response.text)
    words = " ".join(page.text_content().split())
    assert "weekly digest email ends with an Unsubscribe link of its own" in words
    assert "You can also reply to any digest email" in words
    assert page.xpath("//form") == []
    assert page.xpath("//section//a/@href") == [
        "mailto:news@example.org",
        "mailto:leave@example.org",
    ]
    assert site.status("ann@example.org") is Status.ACTIVE


def test_help_page_names_the_reply_to_address(tmp_path: Path) -> None:
    """With delivery.reply_to set, the help page says to write there (where replies go)."""
    extra = "  reply_to: desk@example.org\n"
    config = load_config(write_config(tmp_path, method="outbox", extra=extra))
    with running(config) as started:
        response = started.client.get("/unsubscribe")
    assert response.status_code == 200
    links = document(response.text).xpath("//section//a/@href")
    assert links == ["mailto:desk@example.org", "mailto:leave@example.org"]


def test_empty_token_gets_400(site: Site) -> None:
    """A link whose token was cut off entirely (``?t=``) gets 400, not the help page."""
    assert site.client.get("/unsubscribe?t=").status_code == 400
    assert site.status("ann@example.org") is Status.ACTIVE


def test_archive_unsubscribe_link_leads_to_the_help_page(site: Site) -> None:
    """The web archive copy's "How to unsubscribe" URL is served as the help page."""
    path = urlsplit(unsubscribe_page(site.config)).path
    assert path == "/unsubscribe"
    response = site.client.get(path)
    assert response.status_code == 200
    assert "<h1>How to unsubscribe</h1>" in response.text


def test_link_of_an_erased_address_stores_nothing(site: Site) -> None:
    """A genuine 0.1 link of an address no longer held (erased) answers, and stores nothing."""
    response = site.client.post(f"/unsubscribe?t={token('gone@example.org')}")
    assert response.status_code == 200
    assert site.status("gone@example.org") is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip, deflate", True),
        ("br;q=1.0, gzip;q=0", False),
        ("identity", False),
        ("*", True),
        ("", False),
    ],
)
def test_accept_encoding_parsing(header: str, expected: bool) -> None:
    """gzip is used only when allowed and not q=0."""
    assert accepts_gzip(header) is expected


def test_unsubscribe_pages_come_from_overridable_templates(tmp_path: Path) -> None:
    """An admin's unsubscribe_done.html.j2 (extending the bundled one) is the page served."""
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "unsubscribe_done.html.j2").write_text(
        '{% extends "swfeed/unsubscribe_done.html.j2" %}\n'
        "{% block message %}<p>Sorry to see {{ address }} go.</p>{% endblock %}\n",
        encoding="utf-8",
    )
    extra = f"digest:\n  postal_address: 1 Example Street\n  templates: {folder}\n"
    config = load_config(write_config(tmp_path, method="outbox", extra=extra))
    with Database(config.store.path) as db:
        SubscriberStore(db).add(NewEntry("ann@example.org", "Ann"), NOW, [])
    with running(config) as started:
        response = started.client.post(f"/unsubscribe?t={token()}")
    assert response.status_code == 200
    page = document(response.text)
    assert " ".join(page.text_content().split()).count("Sorry to see ann@example.org go.") == 1
    assert page.xpath("//h1/text()") == ["You are unsubscribed"]


@contextmanager
def store_held(config: Config) -> Iterator[None]:
    """Another process's write transaction on the store, for the length of the block."""
    holder = sqlite3.connect(config.store.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_unsubscribe_while_the_store_is_busy_is_queued_then_applied(site: Site) -> None:
    """A busy store gets the one-click unsubscribe queued (2xx), applied once it is free."""
    with store_held(site.config):
        response = site.client.post(
            f"/unsubscribe?t={token()}",
            files={"List-Unsubscribe": (None, "One-Click")},
            timeout=20,
        )
        assert response.status_code == 202
        assert "You are unsubscribed" in response.text
    deadline = time.monotonic() + 15
    while site.status("ann@example.org") is not Status.UNSUBSCRIBED:
        assert time.monotonic() < deadline, "the queued unsubscribe was never applied"
        time.sleep(0.1)


def test_unsubscribe_that_cannot_even_be_queued_gets_503(site: Site) -> None:
    """A busy store and no room for the queue: 503 with Retry-After, nothing changed."""
    queue_path(site.config.store.path).mkdir()
    with store_held(site.config):
        response = site.client.post(f"/unsubscribe?t={token()}", data={}, timeout=20)
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0
    assert site.status("ann@example.org") is Status.ACTIVE
