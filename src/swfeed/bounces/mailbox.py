"""Where bounces arrive: a Maildir folder or an IMAP mailbox over TLS.

Each mailbox lists its unread mails (``mails``) and files one away once handled (``done``):
nothing is ever deleted.

- Maildir: ``new/NAME`` is read, then renamed to ``cur/NAME:2,S`` (seen), as a mail client
  would; ``cur/`` is never read again.
- IMAP: the folder's mails are fetched with ``BODY.PEEK[]`` (no flag changes while
  reading), then flagged ``\\Seen`` and moved (``UID MOVE``, RFC 6851; else copy, flag
  ``\\Deleted`` and expunge) to ``done_folder``, which is created when missing.
"""

from __future__ import annotations

import imaplib
import os
import re
import ssl
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from swfeed.config import ImapConfig
from swfeed.delivery.outbox import make_maildir
from swfeed.errors import SwfeedError

_INFO_SEEN = ":2,S"


class BounceMailboxError(SwfeedError):
    """The bounce mailbox cannot be read or written."""

    default_hint = "Check the bounces: section of the config and that the mailbox is reachable."


@dataclass(frozen=True, slots=True)
class Mail:
    """One mail in the mailbox: a name to show and its bytes."""

    name: str
    key: str
    raw: bytes


class Mailbox(Protocol):
    """A source of report mails."""

    def mails(self) -> Iterator[Mail]:
        """The mails not handled yet."""
        ...

    def done(self, mail: Mail) -> None:
        """File a handled mail away (seen, out of the inbox, kept)."""
        ...

    def close(self) -> None: ...


class MaildirMailbox:
    """A Maildir folder: reads ``new/``, moves handled mails to ``cur/``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        try:
            make_maildir(folder)
        except OSError as exc:
            raise BounceMailboxError(
                f"cannot use the bounce Maildir {folder}: {exc}",
                hint="Check bounces.maildir in the config and that swfeed may write there.",
            ) from None

    def mails(self) -> Iterator[Mail]:
        new = self.folder / "new"
        for path in sorted(new.iterdir()):
            if path.name.startswith(".") or not path.is_file():
                continue
            try:
                raw = path.read_bytes()
            except FileNotFoundError:  # another reader took it meanwhile
                continue
            yield Mail(path.name, path.name, raw)

    def done(self, mail: Mail) -> None:
        name = mail.key.split(":2,")[0] + _INFO_SEEN
        try:
            os.replace(self.folder / "new" / mail.key, self.folder / "cur" / name)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise BounceMailboxError(
                f"cannot move {mail.key} to {self.folder / 'cur'}: {exc}",
                hint="Fix the folder's permissions; the mail is handled once whatever happens.",
            ) from None

    def close(self) -> None:
        return None


class ImapMailbox:
    """An IMAP folder over TLS; handled mails are flagged seen and moved to ``done_folder``."""

    def __init__(self, config: ImapConfig) -> None:
        self.config = config
        self.conn = self._connect()

    def _connect(self) -> imaplib.IMAP4_SSL:
        config = self.config
        where = f"{config.host}:{config.port}"
        context = ssl.create_default_context()
        if config.ca_file is not None:
            context.load_verify_locations(cafile=str(config.ca_file))
        try:
            conn = imaplib.IMAP4_SSL(
                config.host, config.port, ssl_context=context, timeout=config.timeout
            )
        except (OSError, imaplib.IMAP4.error) as exc:
            raise BounceMailboxError(
                f"cannot reach the IMAP server {where}: {exc}",
                hint="Check bounces.imap.host and port (IMAPS, usually 993), and ca_file for "
                "a certificate of your own.",
            ) from None
        try:
            conn.login(config.username, config.password.get_secret_value())
            self.capabilities = _capabilities(conn)
            self._ensure_folder(conn, config.done_folder)
            _ok(conn.select(_quote(config.folder)), f"select {config.folder}")
        except (OSError, imaplib.IMAP4.error) as exc:
            _logout(conn)
            raise BounceMailboxError(
                f"the IMAP server {where} refused: {exc}",
                hint="Check bounces.imap.username, the password's environment variable and "
                "bounces.imap.folder.",
            ) from None
        return conn

    @staticmethod
    def _ensure_folder(conn: imaplib.IMAP4_SSL, folder: str) -> None:
        status, found = conn.list('""', _quote(folder))
        if status == "OK" and any(item for item in found if item):
            return
        _ok(conn.create(_quote(folder)), f"create {folder}")

    def mails(self) -> Iterator[Mail]:
        status, data = self.conn.uid("SEARCH", "ALL")
        _ok((status, data), "search")
        uids = (data[0] or b"").split() if data and isinstance(data[0], bytes) else []
        for uid in uids:
            raw = self._fetch(uid.decode("ascii"))
            if raw is not None:
                yield Mail(f"{self.config.folder}:{uid.decode('ascii')}", uid.decode("ascii"), raw)

    def _fetch(self, uid: str) -> bytes | None:
        status, data = self.conn.uid("FETCH", uid, "(BODY.PEEK[])")
        _ok((status, data), f"fetch {uid}")
        for item in data:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                return item[1]
        return None

    def done(self, mail: Mail) -> None:
        conn, uid, target = self.conn, mail.key, _quote(self.config.done_folder)
        _ok(conn.uid("STORE", uid, "+FLAGS", "(\\Seen)"), f"flag {uid}")
        if "MOVE" in self.capabilities:
            _ok(conn.uid("MOVE", uid, target), f"move {uid}")
            return
        _ok(conn.uid("COPY", uid, target), f"copy {uid}")
        _ok(conn.uid("STORE", uid, "+FLAGS", "(\\Deleted)"), f"flag {uid} deleted")
        if "UIDPLUS" in self.capabilities:
            _ok(conn.uid("EXPUNGE", uid), f"expunge {uid}")
        else:
            _ok(conn.expunge(), "expunge")

    def close(self) -> None:
        _logout(self.conn)


def _ok(result: tuple[str, Sequence[object]], what: str) -> None:
    status, data = result
    if status != "OK":
        detail = b" ".join(item for item in data if isinstance(item, bytes))
        detail_text = detail.decode("utf-8", "replace")
        raise imaplib.IMAP4.error(f"{what}: {status} {detail_text}")


def _capabilities(conn: imaplib.IMAP4_SSL) -> frozenset[str]:
    """The server's capabilities once logged in (they grow after login: MOVE, UIDPLUS)."""
    status, data = conn.capability()
    _ok((status, data), "capability")
    words = b" ".join(item for item in data if isinstance(item, bytes)).decode("ascii", "replace")
    return frozenset(word.upper() for word in words.split())


def _quote(folder: str) -> str:
    """A folder name as an IMAP quoted string."""
    return '"' + re.sub(r'(["\\])', r"\\\1", folder) + '"'


def _logout(conn: imaplib.IMAP4_SSL) -> None:
    try:
        conn.logout()
    except (OSError, imaplib.IMAP4.error):
        conn.shutdown()


def open_mailbox(maildir: Path | None, imap: ImapConfig | None) -> Mailbox:
    """The configured mailbox."""
    if imap is not None:
        return ImapMailbox(imap)
    if maildir is None:
        raise BounceMailboxError("no bounce mailbox is configured")
    return MaildirMailbox(maildir)
