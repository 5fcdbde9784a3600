"""`swfeed digest preview | build` on a copy of the sample site, the clock set by time-machine."""

from __future__ import annotations

import email
import email.policy
import html
import re
import shutil
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine

from swfeed.cli import main
from swfeed.config import load_config
from swfeed.delivery.outbox import outbox_folder
from swfeed.digest.preview import SAMPLE_IDENT, SAMPLE_RECIPIENT
from swfeed.mailinglist.tokens import Purpose, read_link_token
from swfeed.models import RECIPIENT_ADDRESS_TOKEN, UNSUBSCRIBE_URL_TOKEN
from swfeed.store import Database
from swfeed.store.issues import IssueStore
from tests.conftest import ROOT, SAMPLE_SECRET

MONDAY = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)  # the sample's 5 and 8 January stories are fresh


def uncomment_digest(text: str) -> str:
    """The sample config with its commented ``digest:`` example switched on."""
    lines, inside = [], False
    for line in text.splitlines():
        if line == "# digest:":
            inside = True
        elif inside and not line.strip():
            inside = False
        lines.append(line[2:] if inside and line.startswith("# ") else line)
    return "\n".join(lines) + "\n"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A copy of the sample site with the sample's digest section uncommented, fetched."""
    shutil.copytree(ROOT / "content", tmp_path / "content")
    (tmp_path / "config").mkdir()
    sample = (ROOT / "config" / "swfeed.yaml").read_text(encoding="utf-8")
    path = tmp_path / "config" / "swfeed.yaml"
    path.write_text(uncomment_digest(sample), encoding="utf-8")
    with time_machine.travel(MONDAY - timedelta(days=1), tick=False):
        assert main(["--config", str(path), "fetch"]) == 0
    return path


def test_sample_digest_section_validates(site: Path) -> None:
    """The commented digest example in config/swfeed.yaml is valid once uncommented."""
    config = load_config(site)
    assert config.digest is not None
    assert config.digest.max_articles == 12
    assert "Example Street" in config.digest.postal_address


def test_preview_writes_three_files_and_freezes_nothing(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """preview writes digest.html/.txt/.eml, prints subject, count and size, stores nothing."""
    out = tmp_path / "preview"
    with time_machine.travel(MONDAY, tick=False):
        assert main(["--config", str(site), "digest", "preview", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "issue:    2026-W03" in printed
    assert "subject:  SecurityWomen weekly: 4 stories" in printed
    assert "articles: 4" in printed
    assert "left out: 5 (never offered to a later issue):" in printed
    assert "2018-07-10  Rwanda to send all-woman peacekeeping force to South Sudan  [too_old:" in (
        printed
    )
    assert "`digest freeze --period 2026-W03` would freeze this now" in printed
    assert " bytes" in printed
    for name in ("digest.html", "digest.txt", "digest.eml"):
        assert f"wrote     {out / name}" in printed
        assert (out / name).is_file()
    config = load_config(site)
    assert IssueStore(Database(config.store.path)).list() == []


def preview(site: Path, out: Path) -> EmailMessage:
    """Run ``digest preview`` at MONDAY into ``out``; digest.eml parsed back."""
    with time_machine.travel(MONDAY, tick=False):
        assert main(["--config", str(site), "digest", "preview", "--out", str(out)]) == 0
    message = email.message_from_bytes(
        (out / "digest.eml").read_bytes(), policy=email.policy.default
    )
    assert isinstance(message, EmailMessage)
    return message


def test_preview_eml_is_a_complete_alternative_message(site: Path, tmp_path: Path) -> None:
    """digest.eml parses as multipart/alternative: text then HTML, placeholders filled in."""
    message = preview(site, tmp_path / "preview")
    raw = (tmp_path / "preview" / "digest.eml").read_bytes()
    assert b"\r\n" in raw
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == "SecurityWomen weekly: 4 stories"
    assert message["To"] == SAMPLE_RECIPIENT
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    for part in message.iter_parts():
        body = part.get_content()
        assert UNSUBSCRIBE_URL_TOKEN not in body
        assert RECIPIENT_ADDRESS_TOKEN not in body
        assert SAMPLE_RECIPIENT in body


def test_preview_eml_has_the_list_headers(site: Path, tmp_path: Path) -> None:
    """digest.eml carries List-Id, List-Unsubscribe-Post and a derived Message-ID."""
    message = preview(site, tmp_path / "preview")
    assert message["List-Id"] == '"SecurityWomen weekly digest" <digest.www.securitywomen.org>'
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"].startswith("<swfeed.2026-W03.")
    assert message["Message-ID"].endswith("@securitywomen.org>")


def test_preview_unsubscribe_link_carries_a_valid_token(site: Path, tmp_path: Path) -> None:
    """List-Unsubscribe and both parts link /unsubscribe with a token signed for the sample's id."""
    message = preview(site, tmp_path / "preview")
    (link,) = re.findall(r"<(https://[^>]+)>", message["List-Unsubscribe"])
    url = urlsplit(link)
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://news.securitywomen.org/unsubscribe"
    (token,) = parse_qs(url.query)["t"]
    assert read_link_token([SAMPLE_SECRET.encode()], Purpose.UNSUBSCRIBE, token) == SAMPLE_IDENT
    text, page = (part.get_content() for part in message.iter_parts())
    assert link in text
    assert html.escape(link) in page


def test_preview_eml_is_what_delivery_sends_that_address(site: Path, tmp_path: Path) -> None:
    """digest.eml is the outbox file a real send gives that address, but for the link
    tokens (the sample's id is no subscriber's)."""
    with time_machine.travel(MONDAY, tick=False):
        assert main(["--config", str(site), "digest", "freeze"]) == 0
    previewed = preview(site, tmp_path / "preview")
    with time_machine.travel(MONDAY, tick=False):
        assert main(["--config", str(site), "subscribers", "add", SAMPLE_RECIPIENT]) == 0
        assert main(["--config", str(site), "digest", "send"]) == 0
    (sent,) = (outbox_folder(load_config(site)) / "new").iterdir()
    delivered = email.message_from_bytes(sent.read_bytes(), policy=email.policy.default)
    assert isinstance(delivered, EmailMessage)
    assert without_tokens(previewed) == without_tokens(delivered)


def without_tokens(message: EmailMessage) -> list[str]:
    """The headers and decoded parts of a message, each link token made ``t=TOKEN``."""
    parts = [f"{key}: {value}" for key, value in message.items()]
    parts += [str(part.get_content()) for part in message.iter_parts()]
    return [re.sub(r"t=[a-z]\.[0-9a-f]+\.[A-Za-z0-9_-]+", "t=TOKEN", text) for text in parts]


def test_preview_files_are_the_parts_of_the_eml(site: Path, tmp_path: Path) -> None:
    """digest.txt and digest.html are the decoded parts of digest.eml (with LF line ends)."""
    message = preview(site, tmp_path / "preview")
    text, page = (part.get_content().replace("\r\n", "\n") for part in message.iter_parts())
    assert (tmp_path / "preview" / "digest.txt").read_text(encoding="utf-8") == text
    assert (tmp_path / "preview" / "digest.html").read_text(encoding="utf-8") == page


def test_preview_without_delivery_says_the_eml_is_approximate(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With no delivery section, preview still writes digest.eml and says what it lacks."""
    text = site.read_text(encoding="utf-8")
    site.write_text(text.split("# How the digest is sent")[0], encoding="utf-8")
    message = preview(site, tmp_path / "preview")
    assert "delivery is not configured" in capsys.readouterr().out
    assert message.get_content_type() == "multipart/alternative"
    assert message["List-Id"] is None
    assert message["To"] == SAMPLE_RECIPIENT


def test_build_freezes_the_week_and_writes_the_archive(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """build freezes the clock's week and writes its page; again, it changes nothing."""
    with time_machine.travel(MONDAY, tick=False):
        assert main(["--config", str(site), "digest", "freeze"]) == 0
    printed = capsys.readouterr().out
    page = site.parent.parent / "public" / "digest" / "2026-W03.html"
    assert f"archive:  {page}" in printed
    assert page.is_file()
    assert "online:   https://news.securitywomen.org/digest/2026-W03.html" in printed
    before = page.read_bytes()
    with time_machine.travel(datetime(2026, 1, 14, tzinfo=UTC), tick=False):
        assert main(["--config", str(site), "digest", "freeze"]) == 0
    assert "frozen:   2026-01-12 09:00 UTC" in capsys.readouterr().out
    assert page.read_bytes() == before


def test_build_of_an_empty_week_says_why(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The week after an issue, with nothing new, build makes no issue and says so."""
    with time_machine.travel(MONDAY, tick=False):
        main(["--config", str(site), "digest", "freeze"])
    capsys.readouterr()
    with time_machine.travel(datetime(2026, 1, 19, 9, tzinfo=UTC), tick=False):
        assert main(["--config", str(site), "digest", "freeze"]) == 0
    assert "no issue made (digest.skip_when_empty)" in capsys.readouterr().out


def test_bad_period_is_a_clear_error(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--period 2026-48 fails with exit code 1 and how to write a week."""
    assert main(["--config", str(site), "digest", "freeze", "--period", "2026-48"]) == 1
    err = capsys.readouterr().err
    assert "not an ISO week" in err
    assert "2026-W48" in err
    assert "Traceback" not in err


def test_without_digest_section_commands_say_how_to_enable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With no digest section in the config, the error names the fix: a config error."""
    shutil.copytree(ROOT / "content", tmp_path / "content")
    (tmp_path / "config").mkdir()
    config = tmp_path / "config" / "swfeed.yaml"
    sample = (ROOT / "config" / "swfeed.yaml").read_text(encoding="utf-8")
    config.write_text(sample.split("# The weekly digest email")[0], encoding="utf-8")
    assert main(["--config", str(config), "digest", "preview"]) == 2
    err = capsys.readouterr().err
    assert f"{config}: digest: the digest is not configured" in err
    assert "digest:" in err
