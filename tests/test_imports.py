"""Each command imports only what it uses, so every command starts fast.

Each command runs in a fresh interpreter on a copy of the sample site; the test reads which
libraries were loaded by the time it finished.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_SECRET, copy_sample_site

HEAVY = frozenset(
    {
        "apscheduler",
        "cssselect",
        "cssutils",
        "dateutil",
        "email_validator",
        "feedparser",
        "httpx",
        "jinja2",
        "lxml",
        "markdown_it",
        "nh3",
        "premailer",
        "pydantic",
        "sqlite3",
        "starlette",
        "structlog",
        "uvicorn",
        "yaml",
    }
)
"""The libraries that take time to import; ``--help`` loads none of them."""
DIGEST = frozenset({"jinja2", "premailer", "cssutils", "cssselect"})
SERVER = frozenset({"uvicorn", "starlette"})
REMOTE = frozenset({"httpx", "feedparser", "dateutil"})
DAEMON = frozenset({"apscheduler", "structlog"})

SCRIPT = """\
import json, sys
from swfeed.cli import main
try:
    main(sys.argv[2:])
except SystemExit:
    pass
with open(sys.argv[1], "w") as out:
    json.dump(sorted(name for name in sys.modules if "." not in name), out)
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the sample site (content and config): the config's path."""
    return copy_sample_site(tmp_path_factory.mktemp("site"))


def loaded(config: Path, *command: str) -> set[str]:
    """The top-level modules imported by ``swfeed --config CONFIG COMMAND...``."""
    report = config.parent / "modules.json"
    subprocess.run(
        [sys.executable, "-c", SCRIPT, str(report), "--config", str(config), *command],
        check=True,
        capture_output=True,
        cwd=config.parent.parent,
        env={
            "SWFEED_UNSUBSCRIBE_SECRET": SAMPLE_SECRET,
            "PATH": "/usr/bin:/bin",
            "XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"],  # the session's (conftest)
        },
        timeout=120,
    )
    return set(json.loads(report.read_text(encoding="utf-8")))


@pytest.mark.parametrize("command", [["--help"], ["fetch", "--help"], ["digest", "--help"]])
def test_help_loads_no_heavy_library(site: Path, command: list[str]) -> None:
    """``--help`` of swfeed or of a command builds the CLI without any heavy library."""
    assert not loaded(site, *command) & HEAVY


HELP_UNNEEDED = frozenset({"dataclasses", "inspect", "pathlib", "html", "urllib"})
"""Standard modules a few ms each that building the CLI needs none of (a dataclass or a
``type=Path`` at module level brings them back)."""


def test_help_loads_only_what_argparse_needs(site: Path) -> None:
    """``swfeed --help`` loads neither dataclasses nor pathlib nor html: argparse alone."""
    assert not loaded(site, "--help") & HELP_UNNEEDED


def test_fetch_loads_neither_digest_nor_server_nor_http(site: Path) -> None:
    """Fetching a content folder loads no Jinja2, premailer, web server, HTTP or scheduler."""
    assert not loaded(site, "fetch") & (DIGEST | SERVER | REMOTE | DAEMON | {"lxml"})


def test_unchanged_fetch_parses_no_markdown(site: Path) -> None:
    """A fetch with nothing new does not even load the Markdown parser."""
    loaded(site, "fetch")
    assert "markdown_it" not in loaded(site, "fetch")


def test_build_loads_no_xml_library_nor_digest(site: Path) -> None:
    """Building writes XML without lxml and loads no digest, server or HTTP; a build with
    nothing new does not even load the templates (Jinja2)."""
    loaded(site, "fetch")
    forbidden = (DIGEST - {"jinja2"}) | SERVER | REMOTE | DAEMON | {"lxml", "markdown_it"}
    assert not loaded(site, "build") & forbidden
    assert not loaded(site, "build") & (forbidden | {"jinja2"})


def test_mailing_list_and_status_load_no_renderers(site: Path) -> None:
    """Listing subscribers and the status load no feed, digest, server or HTTP library."""
    forbidden = DIGEST | SERVER | REMOTE | {"lxml", "markdown_it", "nh3", "apscheduler"}
    assert not loaded(site, "subscribers", "list") & forbidden
    assert not loaded(site, "status") & forbidden


def test_digest_preview_loads_no_server_nor_http(site: Path) -> None:
    """Previewing the digest loads its renderers, but no web server, HTTP or scheduler."""
    modules = loaded(site, "digest", "preview", "--out", str(site.parent / "preview"))
    assert modules >= DIGEST
    assert not modules & (SERVER | REMOTE | DAEMON | {"markdown_it"})


VALIDATION = frozenset({"yaml", "email_validator", "jinja2", "lxml"})
"""What reading and validating a config loads; a config from the cache needs none of it."""


def test_cached_unchanged_fetch_loads_no_models(site: Path) -> None:
    """A fetch with nothing new and the config in the cache reads no YAML, loads no
    template or XML library and not even pydantic."""
    loaded(site, "fetch")
    assert not loaded(site, "fetch") & (VALIDATION | {"pydantic", "pydantic_core"})


def test_cached_unchanged_build_loads_no_models(site: Path) -> None:
    """A build with nothing to do and the config in the cache loads not even pydantic."""
    loaded(site, "fetch")
    loaded(site, "build")
    assert not loaded(site, "build") & (VALIDATION | {"pydantic", "pydantic_core"})
