"""A real IMAP server for tests: Debian's Dovecot on 127.0.0.1, IMAPS only, with a test CA.

Dovecot runs in the foreground (``dovecot -F``) with a config of its own in a folder of its
own; the mail user is ``dovecot`` when the tests run as root (Dovecot refuses root), else
the current user. Where Dovecot is not installed the tests skip, saying so, except in CI
(``CI=true``), where ``.ci/run`` installs it and a missing one is a failure.
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import ssl
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import pytest
import trustme

from tests.smtpfixture import free_port

USER = "bounces"
PASSWORD = "imap-test-password"

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = yes
auth_mechanisms = plain
default_internal_user = {internal}
default_internal_group = {internal_group}
default_login_user = {login}
first_valid_uid = {uid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
"""


def dovecot_or_skip() -> str:
    """The dovecot binary; skip (fail in CI) where it is not installed."""
    found = shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
    )
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("dovecot is not installed: .ci/run installs dovecot-imapd")
        pytest.skip("Dovecot is not installed here (apt-get install dovecot-imapd)")
    return found


class Dovecot:
    """Dovecot serving IMAPS on 127.0.0.1:``port`` to one user; a context manager."""

    def __init__(self) -> None:
        self.binary = dovecot_or_skip()
        self.root = Path(tempfile.mkdtemp(prefix="swfeed-dovecot-"))
        self.root.chmod(0o755)  # Dovecot's own users must reach its sockets
        self.port = free_port()
        self.ca_file = self.root / "ca.pem"
        self.process: subprocess.Popen[bytes] | None = None

    def _write_config(self) -> Path:
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        cert.private_key_pem.write_to_path(str(self.root / "key.pem"))
        cert.cert_chain_pems[0].write_to_path(str(self.root / "cert.pem"))
        ca.cert_pem.write_to_path(str(self.ca_file))
        (self.root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        if os.getuid() == 0:
            internal, login = "dovecot", "dovenull"
            mail_user = pwd.getpwnam("dovecot")
        else:
            mail_user = pwd.getpwuid(os.getuid())
            internal = login = mail_user.pw_name
        home = self.root / "home"
        home.mkdir()
        os.chown(home, mail_user.pw_uid, mail_user.pw_gid)
        text = CONFIG.format(
            root=self.root,
            internal=internal,
            internal_group=internal if os.getuid() == 0 else mail_user.pw_name,
            login=login,
            uid=mail_user.pw_uid,
            gid=mail_user.pw_gid,
            port=self.port,
        )
        path = self.root / "dovecot.conf"
        path.write_text(text)
        return path

    def __enter__(self) -> Dovecot:
        config = self._write_config()
        self.process = subprocess.Popen(
            [self.binary, "-F", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                self.client().logout()
                return
            except (OSError, imaplib.IMAP4.error):
                time.sleep(0.1)
        log = (
            (self.root / "dovecot.log").read_text(errors="replace")
            if (self.root / "dovecot.log").exists()
            else ""
        )
        self.__exit__(None, None, None)
        raise RuntimeError(f"Dovecot did not start: {log[-2000:]}")

    def client(self) -> imaplib.IMAP4_SSL:
        """A logged-in IMAPS connection."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        conn = imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=context, timeout=10)
        conn.login(USER, PASSWORD)
        return conn

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        conn = self.client()
        try:
            status, _ = conn.append(folder, None, None, raw)
            assert status == "OK"
        finally:
            conn.logout()

    def folder(self, name: str) -> list[tuple[bytes, bytes]]:
        """(flags, raw) of every mail in ``name`` (empty when the folder does not exist)."""
        conn = self.client()
        try:
            status, _ = conn.select(f'"{name}"', readonly=True)
            if status != "OK":
                return []
            _, data = conn.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[])")
            return [(item[0], item[1]) for item in data if isinstance(item, tuple)]
        finally:
            conn.logout()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        shutil.rmtree(self.root, ignore_errors=True)
