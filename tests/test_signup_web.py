"""The subscriber side of ``swfeed serve`` on a real server (127.0.0.1) with a real client:
sign-up, double opt-in, welcome, preferences, abuse guards. Mail goes to the outbox."""

from __future__ import annotations

import email
import email.policy
import re
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from lxml import html as lxml_html

from swfeed.config import Config, load_config
from swfeed.delivery.outbox import outbox_folder
from swfeed.mailinglist.tokens import make_token
from swfeed.store import Database
from swfeed.store.subscribers import NewEntry, Status, SubscriberStore
from tests.smtpfixture import NOW, SECRET, write_config
from tests.test_web import Site, running

SUBSCRIBE = """\
digest:
  postal_address: 1 Example Street, London
subscribe:
  privacy_url: https://news.example.org/privacy
  topics: [policy, rwanda]
  min_fill_seconds: {min_fill}
  per_client_per_hour: {per_client}
  trusted_proxies: [127.0.0.1]
"""


def start(tmp_path: Path, min_fill: int = 0, per_client: int = 20) -> Iterator[Site]:
    extra = SUBSCRIBE.format(min_fill=min_fill, per_client=per_client)
    config = load_config(write_config(tmp_path, method="outbox", extra=extra))
    config.output.path.mkdir(parents=True, exist_ok=True)
    with running(config) as site:
        yield site


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """The server with sign-up on, no minimum fill time."""
    yield from start(tmp_path)


def nodes(root: lxml_html.HtmlElement, path: str) -> list[lxml_html.HtmlElement]:
    """The elements an XPath finds."""
    found = root.xpath(path)
    assert isinstance(found, list)
    return [node for node in found if isinstance(node, lxml_html.HtmlElement)]


def form_fields(page: str) -> dict[str, str]:
    """The hidden fields of the sign-up form on ``page``."""
    root = lxml_html.fromstring(page)
    hidden = nodes(root, "//input[@type='hidden']")
    return {str(i.get("name")): i.get("value") or "" for i in hidden}


def sign_up(site: Site, address: str, **more: str | list[str]) -> httpx.Response:
    """GET the form, then POST it like a browser would."""
    fields: dict[str, str | list[str]] = {**form_fields(site.client.get("/subscribe").text)}
    fields.update({"email": address, "name": "Ann", **more})
    return site.client.post("/subscribe", data=fields)


def outbox_messages(config: Config, count: int, timeout: float = 30.0) -> list[EmailMessage]:
    """The outbox's messages, once there are ``count`` of them (the worker sends them)."""
    folder = outbox_folder(config) / "new"
    deadline = time.monotonic() + timeout
    while True:
        files = sorted(folder.glob("*.eml")) if folder.is_dir() else []
        if len(files) >= count or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    messages = []
    for path in files:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        messages.append(message)
    return messages


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def link(message: EmailMessage, path: str) -> str:
    """The path and query of the first link to ``path`` in the text part."""
    found = re.search(rf"https://news\.example\.org(/{path}\?t=\S+)", text_of(message))
    assert found is not None, text_of(message)
    return found.group(1)


def confirmed_subscriber(site: Site, address: str = "ann@example.org") -> EmailMessage:
    """Sign up, confirm through the mailed link; the welcome message."""
    sign_up(site, address, topic="policy")
    (confirmation,) = outbox_messages(site.config, 1)
    token = link(confirmation, "confirm").split("t=", 1)[1]
    assert site.client.post("/confirm", data={"t": token}).status_code == 200
    welcome = [m for m in outbox_messages(site.config, 2) if "Welcome" in str(m["Subject"])]
    assert len(welcome) == 1
    return welcome[0]


def test_form_has_labels_topics_and_the_privacy_link(site: Site) -> None:
    """The form: labelled fields, a checkbox per topic, a hidden honeypot, the privacy link."""
    page = lxml_html.fromstring(site.client.get("/subscribe").text)
    for name in ("email", "name"):
        (field,) = nodes(page, f"//input[@name='{name}']")
        assert nodes(page, f"//label[@for='{field.get('id')}']")
    assert page.xpath("//input[@name='topic']/@value") == ["policy", "rwanda"]
    assert page.xpath("//a[@href='https://news.example.org/privacy']")
    assert page.xpath("//div[@aria-hidden='true']//input[@name='website']")
    assert page.xpath("/html/@lang") == ["en"]
    assert page.xpath("/html/@dir") == ["ltr"]


def test_embed_form_may_be_framed_by_the_site_only(site: Site) -> None:
    """?embed=1 allows the site's host as a frame ancestor; the plain page allows none."""
    embedded = site.client.get("/subscribe?embed=1").headers["content-security-policy"]
    assert "frame-ancestors 'self' https://news.example.org" in embedded
    plain = site.client.get("/subscribe").headers["content-security-policy"]
    assert "frame-ancestors 'none'" in plain


def test_every_sign_up_gets_the_same_answer(site: Site) -> None:
    """New, pending, subscribed and unsubscribed addresses get the same status and page."""
    with Database(site.config.store.path) as db:
        SubscriberStore(db).add(NewEntry("member@example.org"), NOW, [])
        SubscriberStore(db).set_status("left@example.org", Status.UNSUBSCRIBED, NOW)
    sign_up(site, "pending@example.org")
    answers = [
        sign_up(site, address)
        for address in (
            "new@example.org",
            "pending@example.org",
            "member@example.org",
            "left@example.org",
        )
    ]
    assert {a.status_code for a in answers} == {200}
    assert len({a.text for a in answers}) == 1
    assert "Check your inbox" in answers[0].text


def test_confirmation_mail_links_confirm_without_the_address(site: Site) -> None:
    """The confirmation (HTML and text) links /confirm with an opaque token."""
    sign_up(site, "ann@example.org")
    (message,) = outbox_messages(site.config, 1)
    assert message["To"].addresses[0].addr_spec == "ann@example.org"
    assert message["Auto-Submitted"] == "auto-generated"
    path = link(message, "confirm")
    assert "ann" not in path
    assert "YW5u" not in path  # base64 of "ann"
    html_part = message.get_body(("html",))
    assert html_part is not None
    assert path.replace("&", "&amp;") in str(html_part.get_content())


def test_get_confirm_changes_nothing(site: Site) -> None:
    """Opening the link (a mail scanner) shows a button; the address stays pending."""
    sign_up(site, "ann@example.org")
    (message,) = outbox_messages(site.config, 1)
    page = site.client.get(link(message, "confirm"))
    assert page.status_code == 200
    assert "<button" in page.text
    assert site.status("ann@example.org") is Status.PENDING


def test_post_confirm_subscribes_and_sends_the_welcome(site: Site) -> None:
    """Confirming activates the address; the welcome says how to change preferences."""
    welcome = confirmed_subscriber(site)
    assert site.status("ann@example.org") is Status.ACTIVE
    assert "/preferences?t=" in text_of(welcome)
    assert "Policy" in text_of(welcome)


def test_forged_confirm_link_is_refused(site: Site) -> None:
    """A made-up confirmation token gets 400 and changes nothing."""
    assert (
        site.client.post("/confirm", data={"t": "c.0123456789abcdef01234567.AAAA"}).status_code
        == 400
    )


def test_honeypot_gets_the_same_page_and_no_mail(site: Site) -> None:
    """A filled honeypot field is answered like anyone else, and nothing is stored or sent."""
    answer = sign_up(site, "bot@example.org", website="http://spam.example")
    assert answer.status_code == 200
    assert "Check your inbox" in answer.text
    assert site.status("bot@example.org") is None


def test_form_without_a_token_sends_nothing(site: Site) -> None:
    """A form posted without the signed form token (a static copy, a script) changes nothing."""
    answer = site.client.post("/subscribe", data={"email": "bot@example.org"})
    assert answer.status_code == 200
    assert site.status("bot@example.org") is None


def test_invalid_address_is_shown_again_with_an_error(site: Site) -> None:
    """A malformed address gets the form back (400) with the error tied to the field."""
    answer = sign_up(site, "not-an-address")
    assert answer.status_code == 400
    page = lxml_html.fromstring(answer.text)
    assert page.xpath("//input[@name='email']/@aria-invalid") == ["true"]
    assert page.xpath("//*[@role='alert']")


def test_oversized_body_is_refused(site: Site) -> None:
    """A body over the cap gets 413, and nothing is stored."""
    fields = {"email": "big@example.org", "name": "x" * 20_000}
    assert site.client.post("/subscribe", data=fields).status_code == 413
    assert site.status("big@example.org") is None


def test_unsubscribe_link_of_a_0_1_issue_still_unsubscribes(site: Site) -> None:
    """The one-click link format of issues already sent (address + HMAC) still works."""
    with Database(site.config.store.path) as db:
        SubscriberStore(db).add(NewEntry("old@example.org"), NOW, [])
    token = make_token(SECRET.encode(), "old@example.org")
    response = site.client.post(f"/unsubscribe?t={token}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert site.status("old@example.org") is Status.UNSUBSCRIBED


def test_preferences_save_topics_and_pause(site: Site) -> None:
    """POST /preferences stores the ticked topics and the pause date."""
    path = link(confirmed_subscriber(site), "preferences")
    token = path.split("t=", 1)[1]
    form = {"t": token, "topic": ["rwanda"], "pause_until": "2099-01-01", "action": "save"}
    answer = site.client.post("/preferences", data=form)
    assert answer.status_code == 200
    assert "Saved" in answer.text
    with Database(site.config.store.path) as db:
        found = SubscriberStore(db).get("ann@example.org")
    assert found is not None
    assert found.topics == ("rwanda",)
    assert found.paused_until is not None


def test_preferences_erase_deletes_everything(site: Site) -> None:
    """ "Delete my data" removes the person; the same link then opens nothing."""
    path = link(confirmed_subscriber(site), "preferences")
    token = path.split("t=", 1)[1]
    answer = site.client.post("/preferences", data={"t": token, "action": "erase"})
    assert answer.status_code == 200
    assert site.status("ann@example.org") is None
    assert site.client.get(path).status_code == 400


def test_preferences_leave_unsubscribes(site: Site) -> None:
    """The preference page's Unsubscribe button unsubscribes."""
    path = link(confirmed_subscriber(site), "preferences")
    token = path.split("t=", 1)[1]
    site.client.post("/preferences", data={"t": token, "action": "leave"})
    assert site.status("ann@example.org") is Status.UNSUBSCRIBED


def test_bad_pause_date_is_an_error_on_the_page(site: Site) -> None:
    """A pause that is not a date is refused with a message; nothing changes."""
    path = link(confirmed_subscriber(site), "preferences")
    token = path.split("t=", 1)[1]
    answer = site.client.post("/preferences", data={"t": token, "pause_until": "soon"})
    assert answer.status_code == 400
    assert "YYYY-MM-DD" in answer.text


def test_form_posted_too_fast_sends_nothing(tmp_path: Path) -> None:
    """A form posted sooner than min_fill_seconds gets the same page and no mail."""
    for site in start(tmp_path, min_fill=60):
        answer = sign_up(site, "quick@example.org")
        assert answer.status_code == 200
        assert "Check your inbox" in answer.text
        assert site.status("quick@example.org") is None


def test_per_client_rate_limit(tmp_path: Path) -> None:
    """Past per_client_per_hour, one client's sign-ups change nothing; another client's do."""
    for site in start(tmp_path, per_client=2):
        for n in range(3):
            sign_up(site, f"c{n}@example.org", **{})
        assert site.status("c1@example.org") is Status.PENDING
        assert site.status("c2@example.org") is None
        fields = {**form_fields(site.client.get("/subscribe").text), "email": "d@example.org"}
        headers = {"X-Forwarded-For": "198.51.100.20"}
        site.client.post("/subscribe", data=fields, headers=headers)
        assert site.status("d@example.org") is Status.PENDING
