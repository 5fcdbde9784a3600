"""A real SMTP server (aiosmtpd) on 127.0.0.1 with scriptable misbehaviour, for tests.

``ScriptedHandler`` answers 250 to everything unless told otherwise per recipient:

- ``rcpt_replies[address]``: replies to RCPT TO, one per attempt (e.g. ``["451 4.3.0 later"]``
  answers 451 once, then 250); a ``421`` reply also drops the connection;
- ``data_replies[address]``: replies after DATA, one per attempt, the same way;
- ``hang_after_data``: addresses whose DATA gets no reply at all (the server holds on);
- ``data_delay``: seconds to wait before every reply after DATA (a slow relay);
- ``on_data``: called with each recipient whose data arrived, before the reply;
- ``password``: with ``SmtpServer(..., auth=True)``, the only accepted login password.

It counts per recipient what it received (``received``: every message whose data arrived)
and what it accepted with a 2xx (``accepted``), and keeps the messages in ``messages`` and
their envelope senders (MAIL FROM) in ``senders``.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from swfeed.config import Config, load_config
from swfeed.models import RECIPIENT_ADDRESS_TOKEN, UNSUBSCRIBE_URL_TOKEN, DigestIssue
from swfeed.store import Database
from swfeed.store.issues import IssueStore
from swfeed.store.subscribers import NewEntry, SubscriberStore
from tests.conftest import MINIMAL_CONFIG

SECRET = "test-secret-0123456789abcdef-0123456789"
NOW = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ScriptedHandler:
    """An aiosmtpd handler whose replies tests script per recipient."""

    rcpt_replies: dict[str, list[str]] = field(default_factory=dict)
    data_replies: dict[str, list[str]] = field(default_factory=dict)
    hang_after_data: set[str] = field(default_factory=set)
    data_delay: float = 0.0
    hang_seconds: float = 30.0
    password: str = "right"
    keep_messages: bool = True
    on_data: Callable[[str], None] | None = None
    received: Counter[str] = field(default_factory=Counter)
    accepted: Counter[str] = field(default_factory=Counter)
    rcpt_attempts: Counter[str] = field(default_factory=Counter)
    messages: dict[str, list[bytes]] = field(default_factory=lambda: defaultdict(list))
    senders: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    connections: int = 0

    async def handle_EHLO(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        self.rcpt_attempts[address] += 1
        reply = _next(self.rcpt_replies, address)
        if reply is None:
            envelope.rcpt_tos.append(address)
            return "250 OK"
        if reply.startswith("421"):
            asyncio.get_running_loop().call_later(0.05, server.transport.close)
        return reply

    async def handle_DATA(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        recipients = list(envelope.rcpt_tos)
        for address in recipients:
            self.received[address] += 1
            if self.on_data is not None:
                self.on_data(address)
            if self.keep_messages:
                self.messages[address].append(bytes(envelope.original_content))
                self.senders[address].append(str(envelope.mail_from))
        if any(address in self.hang_after_data for address in recipients):
            await asyncio.sleep(self.hang_seconds)
            return "451 4.4.2 gave up waiting"
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        reply = next((r for a in recipients if (r := _next(self.data_replies, a))), None)
        if reply is not None:
            if reply.startswith("421"):
                asyncio.get_running_loop().call_later(0.05, server.transport.close)
            return reply
        for address in recipients:
            self.accepted[address] += 1
        return "250 2.0.0 OK queued"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == self.password.encode()
        return AuthResult(success=ok, handled=False)


def _next(script: dict[str, list[str]], address: str) -> str | None:
    queue = script.get(address)
    return queue.pop(0) if queue else None


class SmtpServer:
    """aiosmtpd in a thread on 127.0.0.1; a context manager."""

    def __init__(
        self,
        handler: ScriptedHandler | None = None,
        *,
        auth: bool = False,
        starttls_context: ssl.SSLContext | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.handler = handler or ScriptedHandler()
        self.host = "127.0.0.1"
        self.port = free_port()
        options: dict[str, Any] = {"hostname": self.host, "port": self.port}
        if auth:
            options |= {"authenticator": self.handler.authenticate, "auth_require_tls": False}
        if starttls_context is not None:
            options |= {"tls_context": starttls_context, "require_starttls": True}
        if tls_context is not None:
            options |= {"ssl_context": tls_context, "server_hostname": self.host}
        self.controller = Controller(self.handler, ready_timeout=10.0, **options)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.controller.stop()


CONFIG = (
    MINIMAL_CONFIG
    + """\
store:
  path: store.sqlite3
output:
  path: public
  base_url: https://news.example.org/
delivery:
  method: {method}
  from_address: news@example.org
  from_name: Test Desk
  unsubscribe_secret: "{secret}"
  unsubscribe_mailto: leave@example.org
  retry_delay: 0s
  retry_window: 30s
  max_attempts: 3
  max_consecutive_errors: {max_errors}
  smtp:
    host: 127.0.0.1
    port: {port}
    starttls: false
    timeout: 5
    data_timeout: {data_timeout}
    messages_per_connection: {per_connection}
{extra}"""
)


def write_config(
    folder: Path,
    port: int = 25,
    *,
    method: str = "smtp",
    max_errors: int = 5,
    data_timeout: float = 2,
    per_connection: int = 100,
    extra: str = "",
) -> Path:
    """A complete config in ``folder`` sending to 127.0.0.1:``port``; returns its path."""
    (folder / "content").mkdir(exist_ok=True)
    path = folder / "swfeed.yaml"
    path.write_text(
        CONFIG.format(
            method=method,
            secret=SECRET,
            port=port,
            max_errors=max_errors,
            data_timeout=data_timeout,
            per_connection=per_connection,
            extra=extra,
        ),
        encoding="utf-8",
    )
    return path


def make_issue(
    period: str = "2026-W11", subject: str = "Test Site weekly: 2 stories"
) -> DigestIssue:
    """A small frozen-issue value with both per-recipient placeholders in both parts."""
    html = (
        "<!doctype html><html lang=en><body><h1>This week</h1>"
        '<p>Women mediators in Colombia <a href="https://news.example.org/a">read</a></p>'
        f"<p>Sent to {RECIPIENT_ADDRESS_TOKEN}. "
        f'<a href="{UNSUBSCRIBE_URL_TOKEN}">Unsubscribe</a></p></body></html>'
    )
    text = (
        "This week\n\nWomen mediators in Colombia\nhttps://news.example.org/a\n\n"
        f"Sent to {RECIPIENT_ADDRESS_TOKEN}.\nUnsubscribe: {UNSUBSCRIBE_URL_TOKEN}\n"
    )
    return DigestIssue(
        period=period,
        cutoff=NOW,
        subject=subject,
        html=html,
        text=text,
        article_ids=(),
        created=NOW,
    )


def prepare(config_path: Path, recipients: list[str], issue: DigestIssue) -> Config:
    """Load the config, subscribe ``recipients`` and freeze ``issue`` in its store."""
    config = load_config(config_path)
    db = Database(config.store.path)
    try:
        store = SubscriberStore(db)
        for address in recipients:
            store.add(NewEntry(address, ""), NOW, [])
        IssueStore(db).create(issue)
    finally:
        db.close()
    return config


def addresses(count: int, domain: str = "example.com") -> list[str]:
    """``r000@example.com``, ``r001@example.com``, …"""
    return [f"r{n:03d}@{domain}" for n in range(count)]
