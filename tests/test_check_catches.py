"""`swfeed check` catches what would fail later, naming file, line, key and fix (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from swfeed.cli import main
from tests.samplesite import copy_sample


def check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["--config", str(path), "check"])
    return code, capsys.readouterr().err


def edited(tmp_path: Path, old: str, new: str) -> tuple[Path, int]:
    """The sample config with one edit; the path and the edited line's number."""
    path = copy_sample(tmp_path)
    text = path.read_text(encoding="utf-8")
    assert old in text
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path, line


@pytest.mark.parametrize(("secret", "what"), [("", "empty"), ("x" * 31, "31 characters long")])
def test_an_empty_or_short_secret_is_a_config_error(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    secret: str,
    what: str,
) -> None:
    """An unsubscribe secret under 32 characters (or empty) stops `check` with the fix."""
    monkeypatch.setenv("SWFEED_UNSUBSCRIBE_SECRET", secret)
    path = copy_sample(tmp_path)
    code, err = check(path, capsys)
    assert code == 2
    assert f"delivery.unsubscribe_secret: the secret is {what}; it must have at least 32" in err
    assert "secrets.token_urlsafe(32)" in err


def test_a_variable_without_braces_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """$SWFEED_UNSUBSCRIBE_SECRET would be taken as the secret's text: write ${...}."""
    path, line = edited(tmp_path, "${SWFEED_UNSUBSCRIBE_SECRET}", "$SWFEED_UNSUBSCRIBE_SECRET")
    code, err = check(path, capsys)
    assert code == 2
    assert f"{path}:{line}:" in err
    assert "delivery.unsubscribe_secret: $SWFEED_UNSUBSCRIBE_SECRET reads no environment" in err
    assert "${SWFEED_UNSUBSCRIBE_SECRET}" in err


def test_an_unknown_variable_in_the_subject_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The subject is rendered with sample values: {{ site.name }} fails at `check`."""
    default = "{{ site.title }} weekly: {{ count }}"
    path, line = edited(tmp_path, default, "{{ site.name }} weekly: {{ count }}")
    code, err = check(path, capsys)
    assert code == 2
    assert f"{path}:{line}:" in err
    assert "digest.subject: the subject template fails with sample values" in err
    assert "has no attribute 'name'" in err
    assert "Use only site.title, count, period, label, date and featured" in err


def test_a_subject_that_fails_in_python_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A subject comparing a week to a number fails as a config error, not a traceback."""
    default = "{{ site.title }} weekly: {{ count }}"
    subject = "{{ site.title }} {{ 'a' if period < 1 else 'b' }}: {{ count }}"
    path, line = edited(tmp_path, default, subject)
    code, err = check(path, capsys)
    assert code == 2
    assert f"{path}:{line}:" in err
    assert "digest.subject: the subject template fails with sample values: TypeError:" in err
    assert "Traceback" not in err


def test_fetching_more_often_than_every_10s_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """fetch_every: 5s is refused with the least value."""
    path, line = edited(tmp_path, "fetch_every: 15m", "fetch_every: 5s")
    code, err = check(path, capsys)
    assert code == 2
    assert f"{path}:{line}:" in err
    assert "schedule.fetch_every: fetching every 5s is too often: the least is 10s" in err


def test_a_url_without_its_scheme_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """site.url: www.securitywomen.org names the missing https://."""
    path, line = edited(
        tmp_path, "url: https://www.securitywomen.org/", "url: www.securitywomen.org"
    )
    code, err = check(path, capsys)
    assert code == 2
    assert f"{path}:{line}:" in err
    assert "site.url: not a full address: the scheme (https://) is missing" in err
    assert "e.g. https://www.example.org/" in err


def test_tab_indentation_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A line indented with a tab is named as such, with the fix."""
    path, line = edited(tmp_path, "  title: SecurityWomen\n", "\ttitle: SecurityWomen\n")
    code, err = check(path, capsys)
    assert code == 2
    assert f"{path}:{line}:1: this line is indented with a tab" in err
    assert "Replace the tab(s) with spaces" in err
