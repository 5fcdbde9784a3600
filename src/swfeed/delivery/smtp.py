"""Sending through an SMTP relay, one transaction per message, with every reply classified.

- 2xx after DATA: sent.
- 4xx, or a connection that drops before the message's final dot: deferred (retried later).
  The final dot goes out on its own, after the ledger recorded that the data is complete
  (``before_end``), so a crash before it is known never to have delivered the message.
- 5xx: failed for good; an enhanced status ``5.1.x`` (bad mailbox) also marks a bounce.
- No reply after the final dot (timeout or dropped connection): unknown. The relay may have
  taken the message, so it is never retried automatically.
- 535/530 (login refused or required), a refused sender, or a relay that cannot be reached:
  ``DeliveryError``, which stops the run before anything else is attempted.

Connections are reused for ``messages_per_connection`` messages; replies wait ``timeout``
seconds, except the reply after DATA, which waits ``data_timeout`` (RFC 5321 suggests 10 min).
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import socket
import ssl
from collections.abc import Callable

from swfeed.config import SmtpConfig
from swfeed.delivery.transport import Attempt, Envelope, nothing
from swfeed.errors import DeliveryError
from swfeed.store.deliveries import State

_BOUNCE = re.compile(r"^\s*5\.1\.\d{1,3}\b")
_AUTH_CODES = (530, 534, 535, 538)


class _Dropped(Exception):
    """The connection broke before the relay could have accepted the message."""


def classify(code: int, reply: bytes | str) -> Attempt:
    """Map an SMTP reply to an attempt's outcome."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    summary = f"{code} {' '.join(text.split())}"[:500]
    if 200 <= code < 300:
        return Attempt(State.SENT, summary)
    if 500 <= code < 600:
        return Attempt(State.FAILED, summary, bounced=bool(_BOUNCE.match(text)))
    return Attempt(State.DEFERRED, summary, slow_down=code == 421)


def tls_context(config: SmtpConfig) -> ssl.SSLContext:
    """Certificate-checking TLS, trusting the system CAs plus ``ca_file`` when set."""
    context = ssl.create_default_context()
    if config.ca_file is not None:
        context.load_verify_locations(cafile=str(config.ca_file))
    return context


class SmtpTransport:
    """One relay, reached over a reused connection; messages come dot-stuffed, ending in CRLF."""

    dot_stuffed = True

    def __init__(self, config: SmtpConfig, local_hostname: str | None = None) -> None:
        self.config = config
        self.local_hostname = local_hostname
        self.min_interval = 60.0 / config.rate_per_minute if config.rate_per_minute else 0.0
        self._conn: smtplib.SMTP | None = None
        self._used = 0

    def send(
        self,
        envelope: Envelope,
        message: bytes,
        before_data: Callable[[], bool],
        before_end: Callable[[], None] = nothing,
    ) -> Attempt | None:
        conn = self._connection()
        try:
            attempt = self._transaction(conn, envelope, message, (before_data, before_end))
        except _Dropped as exc:
            self._drop()
            return Attempt(State.DEFERRED, f"connection lost before the end of data: {exc}")
        if attempt is None:
            return None
        self._used += 1
        if attempt.reply.startswith("421") or self._used >= self.config.messages_per_connection:
            self.close()
        return attempt

    def close(self) -> None:
        """QUIT (politely, ignoring errors) and forget the connection."""
        if self._conn is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._conn.quit()
        self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None
        self._used = 0

    def _transaction(
        self,
        conn: smtplib.SMTP,
        envelope: Envelope,
        message: bytes,
        steps: tuple[Callable[[], bool], Callable[[], None]],
    ) -> Attempt | None:
        before_data, before_end = steps
        code, reply = _command(conn.mail, envelope.sender)
        if code in _AUTH_CODES or 500 <= code < 600:
            raise DeliveryError(
                f"the relay refused the sender {envelope.sender}: {code} {reply!r}",
                hint="Check delivery.from_address and that the relay lets this account send.",
            )
        if code != 250:
            return self._refused(conn, code, reply)
        code, reply = _command(conn.rcpt, envelope.recipient)
        if code not in (250, 251):
            return self._refused(conn, code, reply)
        if not before_data():
            self._reset(conn)
            return None
        code, reply = _command(conn.docmd, "DATA")
        if code != 354:
            return self._refused(conn, code, reply)
        return self._data(conn, message, before_end)

    def _data(self, conn: smtplib.SMTP, message: bytes, before_end: Callable[[], None]) -> Attempt:
        """Send the message, record the step, then the final dot; wait for the reply."""
        try:
            conn.send(message)
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            raise _Dropped(str(exc)) from None
        before_end()
        if conn.sock is not None:
            conn.sock.settimeout(self.config.data_timeout)
        try:
            conn.send(b".\r\n")
            code, reply = conn.getreply()
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            self._drop()
            return Attempt(State.UNKNOWN, f"no reply after the end of data: {exc}")
        if conn.sock is not None:
            conn.sock.settimeout(self.config.timeout)
        return classify(code, reply)

    def _refused(self, conn: smtplib.SMTP, code: int, reply: bytes) -> Attempt:
        attempt = classify(code, reply)
        if code == 421:
            self._drop()
        else:
            self._reset(conn)
        return attempt

    def _reset(self, conn: smtplib.SMTP) -> None:
        """Abandon the transaction (RSET); a connection that fails at that is dropped."""
        try:
            conn.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    def _connection(self) -> smtplib.SMTP:
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        where = f"{config.host}:{config.port}"
        try:
            conn = self._open()
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                f"the relay {where} refused the login: {exc.smtp_code} {exc.smtp_error!r}",
                hint="Check delivery.smtp.username and the password's environment variable.",
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(
                f"the relay {where} does not offer what the config asks for: {exc}",
                hint="Check delivery.smtp.starttls / tls, and username (AUTH).",
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(
                f"cannot reach the relay {where}: {exc}",
                hint="Check delivery.smtp.host and port and that the relay is up; "
                "nothing was lost, the next run carries on.",
            ) from None
        return conn

    def _open(self) -> smtplib.SMTP:
        config = self.config
        conn: smtplib.SMTP
        if config.tls:
            conn = smtplib.SMTP_SSL(
                config.host,
                config.port,
                local_hostname=self.local_hostname,
                timeout=config.timeout,
                context=tls_context(config),
            )
        else:
            conn = smtplib.SMTP(
                config.host, config.port, local_hostname=self.local_hostname, timeout=config.timeout
            )
        try:
            no_delay(conn)
            conn.ehlo()
            if config.starttls:
                conn.starttls(context=tls_context(config))
                conn.ehlo()
            if config.username:
                password = config.password.get_secret_value() if config.password else ""
                conn.login(config.username, password)
        except BaseException:
            conn.close()
            raise
        return conn


def no_delay(conn: smtplib.SMTP) -> None:
    """Send each write at once (TCP_NODELAY). A message goes out as its data and then, once
    the ledger knows, the final dot: with Nagle's algorithm that second small write waits
    for the relay's delayed ACK, about 40 ms a message."""
    if conn.sock is not None:
        with contextlib.suppress(OSError):
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _command(method: Callable[[str], tuple[int, bytes]], argument: str) -> tuple[int, bytes]:
    """One SMTP command and its reply; a broken connection becomes ``_Dropped``."""
    try:
        return method(argument)
    except (OSError, smtplib.SMTPServerDisconnected) as exc:
        raise _Dropped(str(exc)) from None
