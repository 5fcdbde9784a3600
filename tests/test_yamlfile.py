"""Strict YAML loading: line numbers, duplicates, aliases, YAML 1.1 surprises, ${VAR}."""

from __future__ import annotations

import pytest

from swfeed.errors import ConfigError
from swfeed.yamlfile import format_key_path, load_yaml


def test_no_stays_a_string() -> None:
    """YAML 1.1's NO/off/yes are plain strings under the 1.2 core schema."""
    doc = load_yaml("a: NO\nb: off\nc: yes\n", "f.yaml")
    assert doc.data == {"a": "NO", "b": "off", "c": "yes"}


def test_sexagesimal_stays_a_string() -> None:
    """12:30 is the text "12:30", not the number 750."""
    assert load_yaml("t: 12:30\n", "f.yaml").data == {"t": "12:30"}


def test_core_scalars_resolve() -> None:
    """true/false, integers, floats and null resolve as in YAML 1.2."""
    doc = load_yaml("a: true\nb: 42\nc: 1.5\nd: null\ne: 0x1F\nf: '42'\n", "f.yaml")
    assert doc.data == {"a": True, "b": 42, "c": 1.5, "d": None, "e": 31, "f": "42"}


def test_duplicate_key_is_an_error_with_both_lines() -> None:
    """A duplicate key names its line and the first one's."""
    with pytest.raises(ConfigError) as caught:
        load_yaml("site:\n  title: A\n  title: B\n", "c.yaml")
    assert str(caught.value).startswith("c.yaml:3:3: site.title: duplicate key 'title'")
    assert "line 2" in str(caught.value)


def test_alias_is_refused() -> None:
    """Anchors and aliases are refused before they can expand."""
    with pytest.raises(ConfigError, match=r"f\.yaml:1:4: .*anchors and aliases"):
        load_yaml("a: &x [1, 2]\nb: *x\n", "f.yaml")


def test_alias_bomb_is_refused_quickly() -> None:
    """A billion-laughs document fails on its first anchor, without expanding."""
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
    for i in range(ord("b"), ord("j")):
        prev = chr(i - 1)
        bomb += f"{chr(i)}: &{chr(i)} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
    with pytest.raises(ConfigError, match="anchors"):
        load_yaml(bomb, "bomb.yaml")


def test_merge_key_is_refused() -> None:
    """A << merge key is refused (it is an alias in disguise)."""
    with pytest.raises(ConfigError, match="merge"):
        load_yaml("a:\n  <<: {b: 1}\n", "f.yaml")


def test_syntax_error_names_line() -> None:
    """A YAML syntax error names file:line:column."""
    with pytest.raises(ConfigError, match=r"^f\.yaml:2:\d+: YAML syntax error"):
        load_yaml("a: [1, 2\nb: 3\n", "f.yaml")


def test_env_var_is_expanded() -> None:
    """${VAR} reads the given environment."""
    doc = load_yaml("p: ${SECRET}\nq: 'a-${SECRET}'\n", "f.yaml", environ={"SECRET": "s3"})
    assert doc.data == {"p": "s3", "q": "a-s3"}


def test_missing_env_var_names_key_and_line() -> None:
    """An unset ${VAR} is an error naming the line, the key and the variable."""
    with pytest.raises(ConfigError) as caught:
        load_yaml("smtp:\n  password: ${NOPE}\n", "f.yaml", environ={})
    text = str(caught.value)
    assert text.startswith("f.yaml:2:13: smtp.password: environment variable NOPE is not set")
    assert "export NOPE=" in text


def test_locations_of_nested_keys() -> None:
    """Every key path has its line and column."""
    doc = load_yaml("a:\n  - x: 1\n    y: 2\n", "f.yaml")
    assert str(doc.locate(("a", 0, "y"))) == "f.yaml:3:5"
    assert str(doc.locate(("a", 0, "missing"))) == "f.yaml:2:5"


def test_line_offset_shifts_lines() -> None:
    """Front matter parsed from line 2 of a file reports that file's lines."""
    doc = load_yaml("a: 1\nb: 2\n", "post.md", line_offset=1)
    assert str(doc.locate(("b",))) == "post.md:3:1"


def test_format_key_path() -> None:
    """Key paths print like sources[0].path."""
    assert format_key_path(("sources", 0, "path")) == "sources[0].path"


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    """Thousands of nested brackets give a ConfigError, not a RecursionError."""
    deep = "a: " + "[" * 5000 + "]" * 5000 + "\n"
    with pytest.raises(ConfigError, match="nested more than 64 levels"):
        load_yaml(deep, "deep.yaml")
