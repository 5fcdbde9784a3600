"""Per-recipient MIME messages: parsed back with the email package, hostile input included."""

from __future__ import annotations

import base64
import email.policy
import quopri
from dataclasses import replace
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from swfeed.delivery.message import (
    MessageSettings,
    MessageTemplate,
    Recipient,
    build_template,
    dot_stuff,
    encoded_words,
    qp_value,
)
from swfeed.errors import DeliveryError
from swfeed.mailinglist.tokens import Purpose, read_link_token
from swfeed.models import RECIPIENT_ADDRESS_TOKEN, UNSUBSCRIBE_URL_TOKEN, DigestIssue
from swfeed.plaintext import one_line
from tests.smtpfixture import NOW, make_issue

ANN_ID = "a1b2c3d4e5f6a7b8c9d0e1f2"
SETTINGS = MessageSettings(
    from_address="news@example.org",
    from_name="Test Desk",
    list_name="Test Site weekly digest",
    list_id="digest.news.example.org",
    reply_to="desk@example.org",
    unsubscribe_url="https://news.example.org/unsubscribe",
    unsubscribe_mailto="leave@example.org",
    secret=b"s" * 32,
)

HOSTILE = [
    "Weekly\r\nBcc: victim@example.net",
    "Weekly\nX-Injected: yes",
    "Weekly\rX-Injected: yes",
    "=?UTF-8?Q?Weekly=0AX-Injected:_yes?=",
    "=?utf-8?b?V2Vla2x5ClgtSW5qZWN0ZWQ6IHllcw==?=",
    "Weekly\u2028X-Injected: yes",
    "Weekly\u2029X-Injected: yes",
    "Weekly\x85X-Injected: yes",
    "Weekly\x0bX-Injected:\x0c yes\x1c\x1d\x1e",
    'Quote " and \\ backslash, <angle> @ (comment) ; colon: comma,',
    "Ünïcödé 女性と平和 🕊️ مرحبا",
    "x" * 1200,
    "",
]


def parse(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=email.policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def template(
    issue: DigestIssue | None = None, settings: MessageSettings = SETTINGS
) -> MessageTemplate:
    return build_template(issue or make_issue(), settings, NOW)


def body(message: EmailMessage, kind: str) -> str:
    part = message.get_body((kind,))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")


EXPECTED_HEADERS = {
    "Date",
    "From",
    "To",
    "Subject",
    "Message-ID",
    "Reply-To",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "Feedback-ID",
    "MIME-Version",
    "Content-Type",
}


def test_message_has_every_header() -> None:
    """From, To, Subject, Date, Message-ID, List-Id, Feedback-ID and List-Unsubscribe are there."""
    message = parse(template().render(Recipient("ann@example.com", "Ann Smith")))
    assert set(message.keys()) == EXPECTED_HEADERS
    assert message["To"] == "Ann Smith <ann@example.com>"
    assert message["From"] == "Test Desk <news@example.org>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"] == '"Test Site weekly digest" <digest.news.example.org>'


def test_message_is_multipart_alternative_text_then_html() -> None:
    """multipart/alternative with a text/plain part before the text/html part."""
    message = parse(template().render(Recipient("ann@example.com", ident=ANN_ID)))
    assert message.get_content_type() == "multipart/alternative"
    kinds = [part.get_content_type() for part in message.iter_parts()]
    assert kinds == ["text/plain", "text/html"]


def test_list_unsubscribe_carries_the_signed_link_and_mailto() -> None:
    """List-Unsubscribe has the https link with a token for this recipient, then the mailto."""
    message = parse(template().render(Recipient("ann@example.com", ident=ANN_ID)))
    https, mailto = (item.strip(" <>") for item in message["List-Unsubscribe"].split(","))
    assert https.startswith("https://news.example.org/unsubscribe?t=")
    token = https.split("t=", 1)[1]
    assert read_link_token([b"s" * 32], Purpose.UNSUBSCRIBE, token) == ANN_ID
    assert mailto == "mailto:leave@example.org?subject=unsubscribe"


def test_links_never_carry_the_address() -> None:
    """Neither the unsubscribe link nor the preference link shows the address, in any form."""
    message = parse(template().render(Recipient("ann@example.com", ident=ANN_ID)))
    links = [message["List-Unsubscribe"], *body(message, "plain").split()]
    urls = [word for word in links if "https://" in word]
    assert urls
    assert not any("ann" in url or "YW5u" in url for url in urls)


def test_preferences_link_is_signed_for_its_own_purpose() -> None:
    """The "Manage preferences" link carries a preferences token of this recipient's id."""
    settings = replace(SETTINGS, preferences_url="https://news.example.org/preferences")
    issue = make_issue()
    issue = replace(issue, text=issue.text + "\nswfeed-preferences-url-7f3a9c\n")
    message = parse(template(issue, settings).render(Recipient("ann@example.com", ident=ANN_ID)))
    line = next(w for w in body(message, "plain").split() if "/preferences?t=" in w)
    token = line.split("t=", 1)[1]
    assert read_link_token([b"s" * 32], Purpose.PREFERENCES, token) == ANN_ID
    assert read_link_token([b"s" * 32], Purpose.UNSUBSCRIBE, token) is None


def test_body_parts_carry_the_recipients_link_and_address() -> None:
    """Both parts have the recipient's own unsubscribe link and address; no placeholder left."""
    message = parse(template().render(Recipient("ann@example.com", ident=ANN_ID)))
    link = message["List-Unsubscribe"].split(",")[0].strip(" <>")
    for kind in ("plain", "html"):
        content = body(message, kind)
        assert link in content
        assert "ann@example.com" in content
        assert UNSUBSCRIBE_URL_TOKEN not in content
        assert RECIPIENT_ADDRESS_TOKEN not in content


def test_html_values_are_escaped() -> None:
    """An apostrophe in the address lands HTML-escaped in the HTML part, raw in the text."""
    message = parse(template().render(Recipient("o'hara&co@example.com")))
    assert "o&#x27;hara&amp;co@example.com" in body(message, "html")
    assert "o'hara&co@example.com" in body(message, "plain")


def test_unsubscribe_url_with_a_query_gets_an_ampersand() -> None:
    """A configured URL that already has a query string gets ``&t=`` (escaped in HTML)."""
    settings = replace(SETTINGS, unsubscribe_url="https://x.example/u?list=w")
    message = parse(template(settings=settings).render(Recipient("ann@example.com", ident=ANN_ID)))
    assert "https://x.example/u?list=w&t=" in body(message, "plain")
    assert 'href="https://x.example/u?list=w&amp;t=' in body(message, "html")


def test_lines_end_in_crlf_and_stay_short() -> None:
    """Every line ends in CRLF, is 7-bit and under 998 octets; bodies under 77."""
    long_html = "<p>" + "é" * 5000 + UNSUBSCRIBE_URL_TOKEN + "x" * 3000 + "</p>"
    issue = replace(make_issue(), html=long_html)
    raw = template(issue).render(Recipient("a" * 60 + "@" + "b" * 60 + ".example.com", "N" * 190))
    assert raw.endswith(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert b"\r" not in raw.replace(b"\r\n", b"")
    lines = raw.split(b"\r\n")
    assert max(len(line) for line in lines) < 998
    assert all(byte < 128 for byte in raw)
    body_start = lines.index(b"Content-Transfer-Encoding: quoted-printable")
    assert max(len(line) for line in lines[body_start:]) <= 76


def test_placeholder_is_never_split_by_line_wrapping() -> None:
    """A placeholder at any column is replaced whole: the decoded body has the full link."""
    for offset in range(0, 90, 7):
        issue = replace(make_issue(), text="y" * offset + UNSUBSCRIBE_URL_TOKEN + " end\n")
        message = parse(template(issue).render(Recipient("ann@example.com", ident=ANN_ID)))
        link = message["List-Unsubscribe"].split(",")[0].strip(" <>")
        assert body(message, "plain") == "y" * offset + link + " end\n"


def test_decoded_bodies_equal_the_issue_with_values_filled_in() -> None:
    """Quoted-printable round-trips the issue's text exactly, non-ASCII included."""
    text = f"Crème brûlée\t \n. dot line\nمرحبا {RECIPIENT_ADDRESS_TOKEN}\n=3D literal\n"
    issue = replace(make_issue(), text=text)
    message = parse(template(issue).render(Recipient("ann@example.com", ident=ANN_ID)))
    assert body(message, "plain") == text.replace(RECIPIENT_ADDRESS_TOKEN, "ann@example.com")


def test_qp_value_wraps_and_escapes() -> None:
    """Values are wrapped under 76 octets, ``=`` and a leading dot escaped, and decode back."""
    value = "." + "a=b" * 60
    encoded = qp_value(value)
    assert all(len(line) <= 76 for line in encoded.split(b"\r\n"))
    assert encoded.startswith(b"=2E")
    assert quopri.decodestring(encoded) == value.encode()


def test_message_id_is_stable_per_issue_and_recipient() -> None:
    """The same (issue, recipient) gives the same Message-ID; another recipient another."""
    first = parse(template().render(Recipient("ann@example.com", ident=ANN_ID)))["Message-ID"]
    again = parse(template().render(Recipient("ANN@example.com")))["Message-ID"]
    other = parse(template().render(Recipient("bob@example.com")))["Message-ID"]
    later = parse(
        template(make_issue("2026-W12")).render(Recipient("ann@example.com", ident=ANN_ID))
    )
    assert first == again
    assert first != other
    assert first != later["Message-ID"]
    assert first.endswith("@example.org>")


@pytest.mark.parametrize("subject", HOSTILE)
def test_hostile_subject_cannot_inject_headers(subject: str) -> None:
    """Line breaks and encoded line breaks in the subject stay inside one Subject header."""
    raw = template(make_issue(subject=subject)).render(Recipient("ann@example.com", ident=ANN_ID))
    message = parse(raw)
    assert set(message.keys()) == EXPECTED_HEADERS
    assert "\n" not in message["Subject"]
    assert "\r" not in message["Subject"]
    assert message["Subject"] == one_line(subject)


def test_line_break_in_subject_becomes_a_space() -> None:
    """A CRLF in a title turns into a space inside the Subject."""
    raw = template(make_issue(subject=HOSTILE[0])).render(
        Recipient("ann@example.com", ident=ANN_ID)
    )
    assert parse(raw)["Subject"] == "Weekly Bcc: victim@example.net"


def test_encoded_word_lookalike_subject_stays_literal() -> None:
    """A title that looks like an encoded word is shown literally, never decoded."""
    raw = template(make_issue(subject=HOSTILE[3])).render(
        Recipient("ann@example.com", ident=ANN_ID)
    )
    assert parse(raw)["Subject"] == HOSTILE[3]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_cannot_inject_headers(name: str) -> None:
    """Hostile display names in To and From stay inside their header."""
    settings = replace(SETTINGS, from_name=name)
    message = parse(template(settings=settings).render(Recipient("ann@example.com", name)))
    assert set(message.keys()) == EXPECTED_HEADERS
    assert message["To"].addresses[0].addr_spec == "ann@example.com"
    assert message["From"].addresses[0].addr_spec == "news@example.org"
    for key, value in message.items():
        assert "\n" not in value, key
        assert "\r" not in value, key


@pytest.mark.parametrize("subject", HOSTILE)
def test_reserialising_a_parsed_message_injects_nothing(subject: str) -> None:
    """Parsed and serialised again by this Python (3.11.7, CVE-2024-6923), nothing is added."""
    raw = template(make_issue(subject=subject)).render(Recipient("ann@example.com", subject))
    again = parse(parse(raw).as_bytes(policy=email.policy.SMTP))
    assert set(again.keys()) == EXPECTED_HEADERS
    assert again.get_all("Bcc") is None


def test_hostile_address_is_refused() -> None:
    """An address with a line break never reaches a header."""
    with pytest.raises(DeliveryError, match="refusing"):
        template().render(Recipient("ann@example.com\r\nBcc: x@example.net"))


def test_encoded_words_are_short_and_whole_characters() -> None:
    """Encoded words stay within 75 characters and never split a UTF-8 sequence."""
    words = encoded_words("女性と平和" * 40)
    assert all(len(word) <= 75 for word in words)
    decoded = b"".join(base64.b64decode(word[10:-2]) for word in words).decode("utf-8")
    assert decoded == "女性と平和" * 40


def test_without_secret_the_mailto_is_the_link() -> None:
    """With only a mailto configured, the body link and List-Unsubscribe are the mailto."""
    settings = replace(SETTINGS, unsubscribe_url=None, secret=None)
    message = parse(template(settings=settings).render(Recipient("ann@example.com", ident=ANN_ID)))
    assert message["List-Unsubscribe"] == "<mailto:leave@example.org?subject=unsubscribe>"
    assert message["List-Unsubscribe-Post"] is None
    assert "mailto:leave@example.org?subject=unsubscribe" in body(message, "plain")


@pytest.mark.parametrize("name", HOSTILE)
def test_pre_stuffed_rendering_equals_stuffing_the_message(name: str) -> None:
    """The SMTP-ready rendering is exactly the message with every line-start dot doubled."""
    text = f".dot\n..two\n{UNSUBSCRIBE_URL_TOKEN}\n.{RECIPIENT_ADDRESS_TOKEN}.\n" + "." * 200
    html = "." + "<p>.</p>\n." * 50 + UNSUBSCRIBE_URL_TOKEN + "\n." + RECIPIENT_ADDRESS_TOKEN
    built = template(replace(make_issue(subject=name), text=text, html=html))
    for address in ("ann@example.com", "a.b@example.com", "x" * 64 + "@" + "y" * 63 + ".example"):
        recipient = Recipient(address, name)
        assert built.render(recipient, dot_stuffed=True) == dot_stuff(built.render(recipient))
