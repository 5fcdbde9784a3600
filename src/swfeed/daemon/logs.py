"""Logging for the daemon: one line per event, ``key=value`` fields, to stderr.

``configure_logging("text")`` writes logfmt lines (``ts=... level=info event=fetch new=2``);
``configure_logging("json")`` writes one JSON object per line for log collectors. Our own
events go through structlog (``get_logger(__name__).info("fetch", new=2)``); records of
other libraries (APScheduler, the standard ``logging`` module) get the same format, and a
traceback becomes one escaped field, so every event stays on one line.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog
from structlog.typing import Processor

from swfeed.daemon import LogFormat

_SHARED: list[Processor] = [
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
]


def configure_logging(
    fmt: LogFormat = "text", stream: TextIO | None = None, level: int = logging.INFO
) -> None:
    """Send every log record, ours and other libraries', to ``stream`` in one format."""
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                _renderer(fmt),
            ],
            foreign_pre_chain=[*_SHARED, structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _renderer(fmt: LogFormat) -> Processor:
    if fmt == "json":
        return structlog.processors.JSONRenderer(sort_keys=False)
    return structlog.processors.LogfmtRenderer(
        key_order=["ts", "level", "event"], drop_missing=True, bool_as_flag=False
    )


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A logger whose ``info("event", key=value, ...)`` writes one line."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger
