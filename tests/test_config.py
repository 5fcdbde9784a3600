"""The config file: validation errors with file:line:key and the fix; paths; secrets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from swfeed.config import Config, config_path, json_schema, load_config
from swfeed.errors import ConfigError, ConfigErrors
from tests.conftest import MINIMAL_CONFIG, ROOT, SAMPLE_SECRET, WriteConfig


def errors_of(path: Path, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises((ConfigError, ConfigErrors)) as caught:
        load_config(path, environ=environ or {})
    error = caught.value
    items = error.errors if isinstance(error, ConfigErrors) else [error]
    return [str(item) for item in items]


def test_minimal_config_loads(write_config: WriteConfig) -> None:
    """A minimal config validates and fills in defaults."""
    config = load_config(write_config(), environ={})
    assert config.site.title == "Test Site"
    assert config.feeds.max_items == 50


def test_sample_config_loads() -> None:
    """The bundled, commented sample config validates once its secret is set."""
    environ = {"SWFEED_UNSUBSCRIBE_SECRET": SAMPLE_SECRET}
    config = load_config(ROOT / "config" / "swfeed.yaml", environ=environ)
    assert config.sources[0].name == "site"
    assert config.delivery is not None
    assert config.delivery.method == "outbox"


def test_sample_config_names_the_missing_secret() -> None:
    """Without its environment variable the sample says which one to set, and where."""
    [error] = errors_of(ROOT / "config" / "swfeed.yaml")
    assert "delivery.unsubscribe_secret: environment variable SWFEED_UNSUBSCRIBE_SECRET" in error
    assert "export SWFEED_UNSUBSCRIBE_SECRET=" in error


def test_relative_paths_resolve_against_config_folder(write_config: WriteConfig) -> None:
    """store.path and sources[].path are relative to the config file, not the cwd."""
    config = load_config(write_config(), environ={})
    folder = config.source_file.parent if config.source_file else Path()
    assert config.sources[0].path == folder / "content"  # type: ignore[union-attr]
    assert config.store.path == folder / "var" / "swfeed.sqlite3"


def test_missing_folder_names_line_and_key(write_config: WriteConfig) -> None:
    """A source folder that does not exist is reported at its line."""
    path = write_config(MINIMAL_CONFIG.replace("path: content", "path: contnt"))
    [error] = errors_of(path)
    assert error.startswith(f"{path}:11:11: sources[0].path: folder '")
    assert "contnt' does not exist" in error


def test_unknown_key_is_rejected_with_hint(write_config: WriteConfig) -> None:
    """A misspelt key is an error naming the key and how to fix it."""
    path = write_config(MINIMAL_CONFIG.replace("  title: Test Site", "  titel: Test Site"))
    problems = errors_of(path)
    assert any(p.startswith(f"{path}:2:3: site.titel: Extra inputs") for p in problems)
    assert any("Did you mean `title`?" in p for p in problems)
    assert any(p.startswith(f"{path}:1:1: site.title: Field required") for p in problems)


def test_yaml11_boolean_word_is_rejected(write_config: WriteConfig) -> None:
    """`per_category: NO` is an error, not a silent False."""
    path = write_config(MINIMAL_CONFIG + "feeds:\n  per_category: NO\n")
    [error] = errors_of(path)
    assert error.startswith(f"{path}:13:17: feeds.per_category: Input should be a valid boolean")
    assert "true or false" in error


def test_sexagesimal_number_is_rejected(write_config: WriteConfig) -> None:
    """`max_items: 12:30` is not silently 750."""
    path = write_config(MINIMAL_CONFIG + "feeds:\n  max_items: 12:30\n")
    [error] = errors_of(path)
    assert error.startswith(f"{path}:13:14: feeds.max_items:")


def test_bad_timezone_is_explained(write_config: WriteConfig) -> None:
    """An unknown time zone names the key and an example of a valid one."""
    path = write_config(MINIMAL_CONFIG.replace("Europe/London", "Europe/Londn"))
    [error] = errors_of(path)
    assert error.startswith(f"{path}:5:13: site.timezone: unknown time zone 'Europe/Londn'")


def test_secret_is_not_printed_in_errors(write_config: WriteConfig) -> None:
    """A secret that fails validation never appears in the error text."""
    text = MINIMAL_CONFIG + (
        "delivery:\n  from_address: news@example.org\n  method: smtp\n"
        "  smtp:\n    host: mail.example.org\n    password: ${PW}\n    port: ${PW}\n"
    )
    problems = errors_of(write_config(text), environ={"PW": "hunter2-secret"})
    assert problems
    assert all("hunter2-secret" not in problem for problem in problems)


def test_secret_is_masked_in_repr(write_config: WriteConfig) -> None:
    """SecretStr values stay masked when the config is printed."""
    text = MINIMAL_CONFIG + (
        "delivery:\n  from_address: news@example.org\n  method: smtp\n"
        "  smtp:\n    host: mail.example.org\n    password: ${PW}\n"
    )
    config = load_config(write_config(text), environ={"PW": "hunter2-secret"})
    assert "hunter2-secret" not in repr(config)
    assert config.delivery is not None
    assert config.delivery.smtp is not None
    assert config.delivery.smtp.password is not None
    assert config.delivery.smtp.password.get_secret_value() == "hunter2-secret"


def test_duplicate_source_names_rejected(write_config: WriteConfig) -> None:
    """Two sources with one name are an error."""
    text = MINIMAL_CONFIG + "  - kind: content\n    name: site\n    path: content\n"
    [error] = errors_of(write_config(text))
    assert "two sources are named 'site'" in error


def test_unknown_source_kind_is_explained(write_config: WriteConfig) -> None:
    """A wrong `kind:` lists the kinds there are."""
    path = write_config(MINIMAL_CONFIG.replace("kind: content", "kind: folder"))
    [error] = errors_of(path)
    assert error.startswith(f"{path}:9:5: sources[0]:")
    assert "'content', 'html', 'feed'" in error


def test_yaml_syntax_error_is_a_config_error(write_config: WriteConfig) -> None:
    """Broken YAML gives file:line, not a traceback."""
    path = write_config(MINIMAL_CONFIG + "feeds: [\n")
    [error] = errors_of(path)
    assert error.startswith(f"{path}:")
    assert "YAML syntax error" in error


def test_missing_file_says_how_to_point_at_one(tmp_path: Path) -> None:
    """A missing config file says how to name another."""
    [error] = errors_of(tmp_path / "nope.yaml")
    assert "config file not found" in error
    assert "--config" in error


def test_config_path_precedence() -> None:
    """--config beats $SWFEED_CONFIG beats the default."""
    assert config_path("a.yaml", {"SWFEED_CONFIG": "b.yaml"}) == Path("a.yaml")
    assert config_path(None, {"SWFEED_CONFIG": "b.yaml"}) == Path("b.yaml")
    assert config_path(None, {}) == Path("config/swfeed.yaml")


def test_duration_parses(write_config: WriteConfig) -> None:
    """schedule.fetch_every takes 10s / 15m / 1h."""
    config = load_config(write_config(MINIMAL_CONFIG + "schedule:\n  fetch_every: 10s\n"), {})
    assert config.schedule.fetch_every.total_seconds() == 10


def _fields(model: type[BaseModel], prefix: str = "") -> list[tuple[str, Any]]:
    found = []
    for name, info in model.model_fields.items():
        found.append((prefix + name, info))
        for arg in getattr(info.annotation, "__args__", (info.annotation,)):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                found += _fields(arg, f"{prefix}{name}.")
    return found


def test_every_setting_is_documented() -> None:
    """Every config key has help text (it is the documentation)."""
    undocumented = [name for name, info in _fields(Config) if not info.description]
    assert undocumented == []


def test_schema_file_is_current() -> None:
    """config/swfeed.schema.json matches the models (run `swfeed config schema`)."""
    saved = json.loads((ROOT / "config" / "swfeed.schema.json").read_text(encoding="utf-8"))
    assert saved == json_schema()


def test_misspelt_key_suggests_the_right_one(write_config: WriteConfig) -> None:
    """A misspelt key's hint names the closest valid key and lists the valid ones."""
    path = write_config(MINIMAL_CONFIG + "feeds:\n  max_itmes: 20\n")
    [error] = errors_of(path)
    assert "feeds.max_itmes: Extra inputs are not permitted" in error
    assert "Did you mean `max_items`?" in error


def test_misspelt_key_in_a_source_suggests_by_kind(write_config: WriteConfig) -> None:
    """Inside a source entry, suggestions come from that kind's keys."""
    text = MINIMAL_CONFIG + (
        "  - kind: feed\n    name: partner\n    url: https://p.example.org/feed\n"
        "    http:\n      retriez: 2\n"
    )
    [error] = errors_of(write_config(text))
    assert "sources[1].http.retriez" in error
    assert "Did you mean `retries`?" in error


def test_folder_as_config_is_a_config_error(tmp_path: Path) -> None:
    """--config naming a folder is a config error that says what to pass."""
    [error] = errors_of(tmp_path)
    assert "cannot read the config file" in error
    assert "not a folder" in error


def test_non_utf8_config_names_the_line(write_config: WriteConfig) -> None:
    """A config with a stray Latin-1 byte names the line it is on."""
    path = write_config()
    path.write_bytes(path.read_bytes().replace(b"A site for tests.", b"Caf\xe9 news."))
    [error] = errors_of(path)
    assert error.startswith(f"{path}:4: not UTF-8 text")


def test_missing_folder_says_how_to_fix(write_config: WriteConfig) -> None:
    """A missing source folder's error says where relative paths start."""
    path = write_config(MINIMAL_CONFIG.replace("path: content", "path: contnt"))
    [error] = errors_of(path)
    assert "relative paths start at the config file's folder" in error


def test_bad_contact_address_is_rejected(write_config: WriteConfig) -> None:
    """site.author.email must be an address, or the feeds would carry an invalid contact."""
    text = MINIMAL_CONFIG.replace(
        "    name: Test Desk", "    name: Test Desk\n    email: not-an-email"
    )
    [error] = errors_of(write_config(text))
    assert "site.author.email:" in error


def test_empty_title_is_rejected(write_config: WriteConfig) -> None:
    """An empty site title is an error (feeds need a title)."""
    [error] = errors_of(write_config(MINIMAL_CONFIG.replace("title: Test Site", 'title: ""')))
    assert "site.title:" in error


@pytest.mark.parametrize(
    ("key", "section"),
    [
        ("timezone", None),
        ("fetch_every", "schedule:\n  fetch_every: ${VALUE}\n"),
        ("retry_delay", "delivery:\n  from_address: news@example.org\n  retry_delay: ${VALUE}\n"),
    ],
)
def test_value_from_the_environment_is_never_printed(
    write_config: WriteConfig, key: str, section: str | None
) -> None:
    """A ${VAR} whose value is invalid is named in the error; its value is not printed."""
    text = (
        MINIMAL_CONFIG.replace("Europe/London", "${VALUE}")
        if section is None
        else (MINIMAL_CONFIG + section)
    )
    [problem] = errors_of(write_config(text), environ={"VALUE": "leaked-s3cret-value"})
    assert key in problem
    assert "leaked-s3cret-value" not in problem
    assert "${VALUE}" in problem


def test_oversized_config_is_refused_quickly(write_config: WriteConfig) -> None:
    """A config file over the size limit gets a clear error before any parsing."""
    padding = "# " + "x" * 98 + "\n"
    path = write_config(MINIMAL_CONFIG + padding * 20_000)
    [error] = errors_of(path)
    assert error.startswith(f"{path}: the config file is 2,")
    assert "the limit is 1,000,000 bytes" in error


PLAIN_SUBJECTS = [
    "{{ site.title }} weekly: {{ count }} {{ 'story' if count == 1 else 'stories' }}",
    "{{site.title}} {{ label }}: {{ featured }}",
    'News {{ period }} ({{ date }}), {{ count }} {{ "item" if count != 1 else "items" }}',
    "{{ site.url }} {{ site.language }}",
    "Plain text, no variables",
]
RENDERED_SUBJECTS = [
    *PLAIN_SUBJECTS,
    "{{ site.name }}",
    "{{ sight.title }}",
    "{{ site }}",
    "{{ count }}}",
    "{{- count }}",
    "{{ count -}}",
    "{% if count %}x{% endif %}",
    "{# note #}{{ count }}",
    "{{ 'a' if count == 1 }}",
    "{{ 'a' if period < 1 else 'b' }}",
    "{{ 'a' if count == 01 else 'b' }}",
    "{{ 'a\\'' if count == 1 else 'b' }}",
    "{{ 'a}}' if count == 1 else 'b' }}",
    "{{ counts }}",
    "{{ count | upper }}",
    "{{ count\n}}",
    "{{",
    "}}",
]


@pytest.mark.parametrize("subject", RENDERED_SUBJECTS)
def test_a_subject_passed_without_rendering_renders(subject: str) -> None:
    """The subject check skips Jinja2 only for a template that renders with sample values."""
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    from swfeed.config import SUBJECT_SAMPLE, _subject_is_plain

    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)
    try:
        env.from_string(subject).render(**SUBJECT_SAMPLE)
        renders = True
    except Exception:  # a TemplateError, or a TypeError of a comparison
        renders = False
    assert not _subject_is_plain(subject) or renders
    assert _subject_is_plain(subject) == (subject in PLAIN_SUBJECTS or subject == "{{ count\n}}")
