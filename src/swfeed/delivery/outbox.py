"""The outbox: each message becomes one ``.eml`` file in a Maildir, for machines without SMTP.

Files are written to ``tmp/``, flushed to disk, then renamed into ``new/`` (the Maildir
protocol), so a reader never sees half a message. A write killed half-way leaves its file in
``tmp/`` and its ledger row at the ``data`` step: the next run writes the same file name
again, replacing it, and renames it into place. The file name comes from the Message-ID,
which is the same for the same (issue, recipient): writing a message twice replaces the
file instead of adding a copy. A test send (``digest send --to``) has a Message-ID of its
own, so it never replaces a recipient's file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from swfeed.config import Config
from swfeed.delivery.transport import Attempt, Envelope, nothing
from swfeed.errors import DeliveryError
from swfeed.store.deliveries import State

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def outbox_folder(config: Config) -> Path:
    """The configured Maildir, else ``outbox/`` beside the store file."""
    if config.delivery is not None and config.delivery.outbox is not None:
        return config.delivery.outbox
    return config.store.path.parent / "outbox"


def file_name(message_id: str) -> str:
    """``<swfeed.2026-W10.ab12@example.org>`` -> ``swfeed.2026-W10.ab12_example.org.eml``."""
    return _UNSAFE.sub("_", message_id.strip("<>")) + ".eml"


def make_maildir(folder: Path) -> None:
    """Create a Maildir's ``tmp/``, ``new/`` and ``cur/`` (and the folder) if missing."""
    for sub in ("tmp", "new", "cur"):
        (folder / sub).mkdir(parents=True, exist_ok=True)


class OutboxTransport:
    """Writes messages into a Maildir folder (created on first use)."""

    min_interval = 0.0
    dot_stuffed = False

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        try:
            make_maildir(folder)
        except OSError as exc:
            raise DeliveryError(
                f"cannot create the outbox {folder}: {exc}",
                hint="Check delivery.outbox in the config and that the folder is writable.",
            ) from None

    def send(
        self,
        envelope: Envelope,
        message: bytes,
        before_data: Callable[[], bool],
        before_end: Callable[[], None] = nothing,
    ) -> Attempt | None:
        name = file_name(envelope.message_id)
        if not before_data():
            return None
        try:
            path = self._write(name, message, before_end)
        except OSError as exc:
            raise DeliveryError(
                f"cannot write to the outbox {self.folder}: {exc}",
                hint="Free disk space or fix permissions; the next run carries on.",
            ) from None
        return Attempt(State.SENT, f"written to {path}")

    def _write(self, name: str, message: bytes, before_end: Callable[[], None]) -> Path:
        """Write ``tmp/name`` (replacing what a killed run left there), then rename it into
        ``new/``: the rename is the point of no return."""
        temporary = self.folder / "tmp" / name
        final = self.folder / "new" / name
        with temporary.open("wb") as handle:
            handle.write(message)
            handle.flush()
            os.fsync(handle.fileno())
        before_end()
        os.replace(temporary, final)
        return final

    def close(self) -> None:
        """Flush the folder's entries to disk."""
        try:
            descriptor = os.open(self.folder / "new", os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
