"""The delivery config: the sample's commented section, and the checks made before sending."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from swfeed.config import load_config
from swfeed.delivery.settings import message_settings
from swfeed.errors import ConfigErrors, DeliveryError
from tests.conftest import MINIMAL_CONFIG
from tests.smtpfixture import SECRET, write_config

SAMPLE = Path(__file__).resolve().parent.parent / "config" / "swfeed.yaml"


def uncomment_delivery(text: str) -> str:
    """The sample with its commented ``smtp:`` block switched on and ``method: smtp``."""
    start = text.index("  # smtp:")
    head, block = text[:start], text[start:]
    lines = [re.sub(r"^  # ?", "  ", line) for line in block.splitlines()]
    head = head.replace("  method: outbox\n", "  method: smtp\n")
    return head + "\n".join(lines) + "\n"


def test_sample_config_still_validates() -> None:
    """config/swfeed.yaml, as shipped, loads."""
    load_config(SAMPLE)


def test_sample_delivery_section_validates_when_switched_on(tmp_path: Path) -> None:
    """Switching the sample to its commented smtp: example gives a valid config."""
    path = tmp_path / "config" / "swfeed.yaml"
    path.parent.mkdir()
    (tmp_path / "content").mkdir()
    path.write_text(uncomment_delivery(SAMPLE.read_text(encoding="utf-8")), encoding="utf-8")
    environ = {"SWFEED_UNSUBSCRIBE_SECRET": "s" * 32, "SWFEED_SMTP_PASSWORD": "pw"}
    config = load_config(path, environ=environ)
    assert config.delivery is not None
    assert config.delivery.method == "smtp"
    assert config.delivery.smtp is not None
    assert config.delivery.smtp.password is not None
    assert config.delivery.smtp.password.get_secret_value() == "pw"
    assert config.delivery.unsubscribe_secret is not None
    assert config.delivery.unsubscribe_secret.get_secret_value() == "s" * 32
    assert message_settings(config).unsubscribe_url == "https://news.securitywomen.org/unsubscribe"


def test_short_secret_is_refused(tmp_path: Path) -> None:
    """An unsubscribe secret under 32 characters is a config error naming the key."""
    path = write_config(tmp_path)
    path.write_text(path.read_text().replace(SECRET, "Zq8!kd"))
    with pytest.raises(ConfigErrors) as caught:
        load_config(path)
    (error,) = caught.value.errors
    assert error.key == "delivery.unsubscribe_secret"
    assert "6 characters long; it must have at least 32" in error.message
    assert "Zq8!kd" not in str(error)  # secrets are never printed


def test_no_way_to_unsubscribe_is_refused(tmp_path: Path) -> None:
    """Without a secret or an unsubscribe mailto nothing is sent."""
    path = write_config(tmp_path)
    text = path.read_text()
    text = re.sub(r"  unsubscribe_(secret|mailto): .*\n", "", text)
    path.write_text(text)
    with pytest.raises(DeliveryError, match="no way to unsubscribe"):
        message_settings(load_config(path))


def test_missing_delivery_section_is_explained(tmp_path: Path) -> None:
    """A config without delivery: gets a DeliveryError with an example."""
    (tmp_path / "content").mkdir()
    (tmp_path / "swfeed.yaml").write_text(MINIMAL_CONFIG, encoding="utf-8")
    config = load_config(tmp_path / "swfeed.yaml")
    with pytest.raises(DeliveryError, match="no delivery: section") as caught:
        message_settings(config)
    assert "from_address" in caught.value.hint


def test_bad_from_address_names_the_key(tmp_path: Path) -> None:
    """An invalid from_address is a config error naming its line and key."""
    path = write_config(tmp_path)
    path.write_text(path.read_text().replace("news@example.org", "news-at-example"))
    with pytest.raises(ConfigErrors, match=r"swfeed\.yaml:\d+:\d+: delivery\.from_address"):
        load_config(path)


def test_default_unsubscribe_url_is_under_the_output_url(tmp_path: Path) -> None:
    """Without unsubscribe_url the link points at <output.base_url>unsubscribe."""
    settings = message_settings(load_config(write_config(tmp_path)))
    assert settings.unsubscribe_url == "https://news.example.org/unsubscribe"


def test_login_over_an_unencrypted_connection_is_refused(tmp_path: Path) -> None:
    """A username with tls and starttls both false is a config error naming the fix."""
    path = write_config(tmp_path, extra="    username: sender\n    password: pw\n")
    with pytest.raises(ConfigErrors, match=r"delivery\.smtp: .*allow_plaintext_login: true"):
        load_config(path)


def test_plaintext_login_can_be_allowed_for_a_local_relay(tmp_path: Path) -> None:
    """allow_plaintext_login: true accepts a login over an unencrypted connection."""
    extra = "    username: sender\n    password: pw\n    allow_plaintext_login: true\n"
    config = load_config(write_config(tmp_path, extra=extra))
    assert config.delivery is not None
    assert config.delivery.smtp is not None
    assert config.delivery.smtp.allow_plaintext_login
