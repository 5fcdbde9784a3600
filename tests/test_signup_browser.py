"""End to end in headless Chromium against ``swfeed serve`` run as a subprocess on the sample
site: fill the sign-up form, find the confirmation in the outbox, open its link, confirm,
receive the welcome; change topics, and the next issue follows them. Every page and email
is checked for labels, lang/dir and text contrast, and saved as a PNG in tests/artifacts/."""

from __future__ import annotations

import email
import email.policy
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
import time_machine

from swfeed.cli import main
from swfeed.config import Config, load_config
from swfeed.delivery.outbox import outbox_folder
from tests.browser import Browser, Page, chromium_executable
from tests.conftest import ROOT, SAMPLE_SECRET
from tests.smtpfixture import free_port

pytestmark = pytest.mark.chromium

ARTIFACTS = ROOT / "tests" / "artifacts" / "signup"
ADDRESS = "amani@example.org"
DIGEST_TIME = datetime(2026, 11, 30, 10, 30, tzinfo=UTC)

#: WCAG 2 contrast of every visible text element against its effective background; the
#: lowest ratios found, and inputs without a label.
AUDIT = """(() => {
  const lum = c => { const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(Number).map(v => {
      v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const bg = e => { for (; e; e = e.parentElement) { const c = getComputedStyle(e).backgroundColor;
      if (c && !c.startsWith('rgba(0, 0, 0, 0)') && c !== 'transparent') return c; }
    return 'rgb(255, 255, 255)'; };
  const worst = [];
  for (const e of document.querySelectorAll('body *')) {
    const own = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const box = e.getBoundingClientRect();
    const hidden = getComputedStyle(e).visibility === 'hidden';
    if (!own || box.width === 0 || box.height === 0 || hidden) continue;
    if (e.closest('[aria-hidden="true"], .preheader')) continue;
    const a = lum(getComputedStyle(e).color), b = lum(bg(e));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    worst.push([Math.round(ratio * 100) / 100, e.tagName, e.textContent.trim().slice(0, 40)]);
  }
  worst.sort((x, y) => x[0] - y[0]);
  const unlabelled = [...document.querySelectorAll('input, select, textarea')]
    .filter(i => i.type !== 'hidden' && !i.closest('[aria-hidden="true"]') && i.labels.length === 0)
    .map(i => i.name);
  return {worst: worst.slice(0, 3), unlabelled, lang: document.documentElement.lang,
          dir: document.documentElement.dir};
})()"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Config, str]]:
    """The sample site from the README, published, its CSV imported, served by `swfeed serve`."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SWFEED_UNSUBSCRIBE_SECRET", SAMPLE_SECRET)
        yield from _served_sample(tmp_path_factory.mktemp("sample"))


def _served_sample(root: Path) -> Iterator[tuple[Config, str]]:
    shutil.copytree(ROOT / "content", root / "content")
    (root / "config").mkdir()
    sample = (ROOT / "config" / "swfeed.yaml").read_text(encoding="utf-8")
    path = root / "config" / "swfeed.yaml"
    sample = sample.replace("min_fill_seconds: 3", "min_fill_seconds: 1")
    # the sample's stories are months old in November: let every one count as fresh
    sample = sample.replace("  max_articles: 12\n", "  max_articles: 12\n  max_age: 1000w\n")
    path.write_text(sample, encoding="utf-8")
    with time_machine.travel(datetime(2026, 11, 20, 12, tzinfo=UTC), tick=False):
        assert main(["--config", str(path), "publish"]) == 0
    csv = str(ROOT / "config" / "subscribers.csv")
    assert main(["--config", str(path), "subscribers", "import", csv]) == 0
    port = free_port()
    env = {**os.environ, "SWFEED_UNSUBSCRIBE_SECRET": SAMPLE_SECRET}
    command = [sys.executable, "-m", "swfeed", "--config", str(path), "serve", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(base), "swfeed serve did not start")
        yield load_config(path), base
    finally:
        server.terminate()
        server.wait(timeout=30)


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/subscribe", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def wait_for(condition: object, message: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, message
        time.sleep(0.2)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with Browser(chromium_executable()) as running:
        yield running


def mails(config: Config, to: str) -> list[EmailMessage]:
    """The outbox's messages to ``to``, oldest first."""
    found = []
    for path in sorted((outbox_folder(config) / "new").glob("*.eml"), key=os.path.getmtime):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        if message["To"].addresses[0].addr_spec == to:
            found.append(message)
    return found


def wait_for_mail(config: Config, to: str, subject: str) -> EmailMessage:
    """The message to ``to`` whose subject has ``subject``, once the worker sent it."""
    wait_for(
        lambda: any(subject in str(m["Subject"]) for m in mails(config, to)),
        f"no {subject!r} mail to {to}",
    )
    return next(m for m in mails(config, to) if subject in str(m["Subject"]))


def local(link_path: str, base: str) -> str:
    """A mailed link (on the news host) as served here: same path and query."""
    found = re.search(r"https://[^/]+(/\S+)", link_path)
    assert found is not None
    return base + found.group(1)


def link_to(message: EmailMessage, page: str) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    found = re.search(rf"https://\S+/{page}\?t=\S+", str(part.get_content()))
    assert found is not None, page
    return found.group(0)


def navigate(browser: Browser, page: Page, url: str) -> None:
    page.send("Page.navigate", {"url": url})
    browser.wait_for_event("Page.loadEventFired", page.session)


def click(browser: Browser, page: Page, selector: str) -> None:
    """Click an element and wait for the page it leads to."""
    page.evaluate(f"document.querySelector({selector!r}).click()")
    browser.wait_for_event("Page.loadEventFired", page.session)


def type_into(page: Page, selector: str, text: str) -> None:
    """Focus a field and type into it (DevTools' text input, like a keyboard)."""
    page.evaluate(f"document.querySelector({selector!r}).focus()")
    page.send("Input.insertText", {"text": text})


def look(page: Page, name: str) -> dict[str, object]:
    """Save a PNG of the page; its accessibility audit (labels, lang, dir, contrast)."""
    page.screenshot(ARTIFACTS / f"{name}.png")
    audit = page.evaluate(AUDIT)
    assert isinstance(audit, dict)
    assert audit["unlabelled"] == [], name
    assert audit["lang"] == "en", name
    assert audit["dir"] == "ltr", name
    worst = audit["worst"]
    assert isinstance(worst, list)
    assert not worst or worst[0][0] >= 4.5, (name, worst)
    return audit


def show_mail(browser: Browser, message: EmailMessage, name: str, folder: Path) -> Page:
    """Open a message's HTML part in the browser (as a mail client would show it)."""
    part = message.get_body(("html",))
    assert part is not None
    path = folder / f"{name}.html"
    path.write_text(str(part.get_content()), encoding="utf-8")
    page = browser.open(path.as_uri(), 600, 900)
    look(page, name)
    return page


def test_join_confirm_welcome_and_choose_topics(
    site: tuple[Config, str], browser: Browser, tmp_path: Path
) -> None:
    """The whole journey in Chromium, then the next issue follows the chosen topics."""
    config, base = site
    form = browser.open(f"{base}/subscribe", 800, 900)
    look(form, "1-subscribe")
    type_into(form, "#email", ADDRESS)
    type_into(form, "#name", "Amani")
    form.evaluate("document.querySelector('input[name=topic][value=rwanda]').click()")
    time.sleep(1.2)  # a person takes longer than min_fill_seconds
    click(browser, form, "button[type=submit]")
    assert "Check your inbox" in form.evaluate("document.body.innerText")
    look(form, "2-check-your-inbox")

    confirmation = wait_for_mail(config, ADDRESS, "confirm")
    show_mail(browser, confirmation, "3-confirmation-email", tmp_path)
    navigate(browser, form, local(link_to(confirmation, "confirm"), base))
    look(form, "4-confirm")
    click(browser, form, "button[type=submit]")
    assert "You are subscribed" in form.evaluate("document.body.innerText")
    look(form, "5-confirmed")

    welcome = wait_for_mail(config, ADDRESS, "Welcome")
    show_mail(browser, welcome, "6-welcome-email", tmp_path)
    navigate(browser, form, local(link_to(welcome, "preferences"), base))
    ticked = "[...document.querySelectorAll('input[name=topic]:checked')].map(i => i.value)"
    assert form.evaluate(ticked) == ["rwanda"]
    look(form, "7-preferences")
    form.evaluate("document.querySelector('input[name=topic][value=rwanda]').click()")
    form.evaluate("document.querySelector('input[name=topic][value=careers]').click()")
    click(browser, form, "button[value=save]")
    assert form.evaluate(ticked) == ["careers"]
    look(form, "8-preferences-saved")

    with time_machine.travel(DIGEST_TIME, tick=False):
        assert main(["--config", str(config.source_file), "digest", "send"]) == 0
    (issue,) = [m for m in mails(config, ADDRESS) if "weekly" in str(m["Subject"])]
    (whole,) = [m for m in mails(config, "editor@example.org") if "weekly" in str(m["Subject"])]
    show_mail(browser, issue, "9-digest-careers-only", tmp_path)
    assert "1 story" in str(issue["Subject"])
    assert "Careers" in str(issue.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert str(whole["Subject"]) != str(issue["Subject"])

    navigate(browser, form, local(link_to(issue, "unsubscribe"), base))
    look(form, "10-unsubscribe")


def test_embedded_form_fits_an_iframe(site: tuple[Config, str], browser: Browser) -> None:
    """The form for the site's Embed element (?embed=1): no logo, no sideways scrolling."""
    _config, base = site
    page = browser.open(f"{base}/subscribe?embed=1", 360, 760, mobile=True)
    look(page, "11-embedded-form-360px")
    assert page.evaluate("document.querySelector('header')") is None
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= 360
