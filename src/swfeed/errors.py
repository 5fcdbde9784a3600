"""Every error swfeed raises on purpose, each with a hint for the person who can fix it.

The CLI prints ``str(error)`` (location, what went wrong, and the hint) and exits with
``error.exit_code``; tracebacks are shown only with ``--debug``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from swfeed.exitcodes import EXIT_CONFIG, EXIT_RUNTIME


class SwfeedError(Exception):
    """Base class: a message, a hint saying how to fix it, and the exit code."""

    exit_code = EXIT_RUNTIME
    default_hint = ""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = self.default_hint if hint is None else hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a text file: 1-based line and column."""

    file: Path | str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [str(self.file)]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


class ConfigError(SwfeedError):
    """The YAML config is wrong: names file, line, column, key path and the fix."""

    exit_code = EXIT_CONFIG
    default_hint = "Edit the config file, then run `swfeed check` to validate it."

    def __init__(
        self,
        message: str,
        *,
        location: Location | None = None,
        key: str = "",
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.location = location
        self.key = key

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        key = f"{self.key}: " if self.key else ""
        text = f"{where}{key}{self.message}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class ConfigErrors(SwfeedError):
    """Several config errors at once, so the admin can fix them in one go."""

    exit_code = EXIT_CONFIG

    def __init__(self, errors: list[ConfigError]) -> None:
        super().__init__(f"{len(errors)} error(s) in the configuration", hint="")
        self.errors = errors

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)


class ContentError(SwfeedError):
    """One article file (or scraped item) is broken; the others still publish."""

    default_hint = "Fix the file; every other article keeps publishing meanwhile."

    def __init__(self, message: str, *, location: Location, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.location = location

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class SourceError(SwfeedError):
    """A whole source failed (unreachable, refused, garbage); the others still publish."""

    default_hint = "Check the source's url or path in the config; it is retried on the next fetch."

    def __init__(self, source: str, message: str, hint: str | None = None) -> None:
        super().__init__(f"source {source!r}: {message}", hint)
        self.source = source


class StoreError(SwfeedError):
    """The SQLite store cannot be opened, is locked or is from a newer swfeed."""

    default_hint = "Check `store.path` in the config and that the folder is writable."


class StoreBusy(StoreError):
    """Another process held the store's write lock for longer than the busy timeout."""

    default_hint = "Another swfeed command is writing to the store; try again in a moment."


class StoreFull(StoreError):
    """The disk holding the store is full: the change was rolled back, nothing was lost."""

    default_hint = (
        "Free space on that disk (or point store.path at a bigger one). Nothing was lost: "
        "the store is as it was before this step, and the next run carries on."
    )


class OutputError(SwfeedError):
    """Feeds or archive pages cannot be written."""

    default_hint = "Check `output.path` in the config and that the folder is writable."


class DigestError(SwfeedError):
    """The digest cannot be built (too large, bad template, nothing to send)."""


class TemplateError(SwfeedError):
    """A template of an email or page cannot be rendered (syntax, unknown variable)."""

    default_hint = (
        "Fix the template named (your own ones are in digest.templates in the config), "
        "then run `swfeed digest preview`."
    )


class DeliveryError(SwfeedError):
    """Sending mail failed in a way the admin must act on (auth, config, relay down)."""

    default_hint = "Check the `delivery` section of the config and the SMTP server's reply."


class BusyError(SwfeedError):
    """Another swfeed process holds the lock this command needs."""

    default_hint = "Wait for the other process to finish, or stop it, then run this again."
