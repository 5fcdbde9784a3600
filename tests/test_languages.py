"""Language tags: cleaning what sources give, and which scripts run right to left."""

from __future__ import annotations

import json

import pytest

from swfeed.languages import clean_tag, is_rtl, other_language
from swfeed.models import Article
from tests.feedcheck import sample_article


@pytest.mark.parametrize(
    ("given", "tag"),
    [
        ("fr", "fr"),
        (" en-GB ", "en-GB"),
        ("pt_BR", "pt-BR"),
        ("zh-Hant-TW", "zh-Hant-TW"),
        ("French", None),
        ("f", None),
        ("en--GB", None),
        ("", None),
        (None, None),
        (7, None),
        ("en-" + "x" * 40, None),
    ],
)
def test_clean_tag_keeps_only_language_tags(given: object, tag: str | None) -> None:
    """Tags are kept (underscores become hyphens); anything else is dropped."""
    assert clean_tag(given) == tag


@pytest.mark.parametrize(
    ("tag", "rtl"),
    [
        ("ar", True),
        ("he", True),
        ("fa-IR", True),
        ("ur", True),
        ("ckb", True),
        ("ku-Arab", True),
        ("pa-Arab-PK", True),
        ("az-Latn", False),
        ("ar-Latn", False),
        ("en", False),
        ("fr-CA", False),
        ("zh-Hans", False),
    ],
)
def test_is_rtl_goes_by_script_then_language(tag: str, rtl: bool) -> None:
    """A script subtag decides (Arabic script is right to left), else the language."""
    assert is_rtl(tag) is rtl


def test_other_language_ignores_the_sites_own() -> None:
    """The site's language, in any case, needs no marking."""
    assert other_language("EN", "en") is None
    assert other_language(None, "en") is None
    assert other_language("fr", "en") == "fr"


def test_stored_article_without_language_still_loads() -> None:
    """A row written before articles had a language reads back with none."""
    old = sample_article(1).to_json_dict()
    assert "language" not in old
    restored = Article.from_json_dict(json.loads(json.dumps(old)))
    assert restored == sample_article(1)
    assert restored.language is None


def test_language_round_trips_and_counts_as_content() -> None:
    """A language is stored, read back, and changes the content hash (it is an edit)."""
    french = sample_article(1, language="fr")
    assert Article.from_json_dict(french.to_json_dict()) == french
    assert french.content_hash() != sample_article(1).content_hash()
