"""Daemon logging: one line per event, key=value fields, or JSON for log collectors."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from swfeed.daemon.logs import configure_logging, get_logger


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Put the root logger and structlog back as they were."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


def test_text_lines_carry_key_value_fields() -> None:
    """An event is one logfmt line: ts, level, event, then its fields (quoted when needed)."""
    out = io.StringIO()
    configure_logging("text", out)
    get_logger("swfeed.test").info("source_changed", source="my site", new=2)
    line = out.getvalue()
    assert line.count("\n") == 1
    assert line.startswith("ts=")
    assert 'level=info event=source_changed source="my site" new=2' in line


def test_json_lines_parse_back() -> None:
    """With json, each line is an object holding the event and its fields."""
    out = io.StringIO()
    configure_logging("json", out)
    get_logger("swfeed.test").warning("digest_skipped", period="2026-W13")
    record = json.loads(out.getvalue())
    assert record["event"] == "digest_skipped"
    assert record["level"] == "warning"
    assert record["period"] == "2026-W13"


def test_a_traceback_stays_on_one_line() -> None:
    """An exception is logged as one escaped field, not a multi-line dump."""
    out = io.StringIO()
    configure_logging("text", out)
    try:
        raise ValueError("boom")
    except ValueError:
        get_logger("swfeed.test").exception("task_crashed", task="fetch")
    text = out.getvalue()
    assert text.count("\n") == 1
    assert "ValueError: boom" in text


def test_other_libraries_use_the_same_format() -> None:
    """A standard-library record (e.g. APScheduler's) is formatted like ours."""
    out = io.StringIO()
    configure_logging("json", out)
    logging.getLogger("apscheduler.scheduler").warning("job %s missed", "fetch")
    record = json.loads(out.getvalue())
    assert record["event"] == "job fetch missed"
    assert record["logger"] == "apscheduler.scheduler"


def test_apscheduler_chatter_is_hidden() -> None:
    """APScheduler's per-run info messages do not flood the log."""
    out = io.StringIO()
    configure_logging("text", out)
    logging.getLogger("apscheduler.executors.default").info("Running job")
    assert out.getvalue() == ""
