"""``swfeed doctor``: what receivers check about the sender, looked up the way they do.

Each check gives a ``Finding``: passed or not, what was found, and when it failed the DNS
record (or setting) to publish. The checks:

- SPF of the From domain and of the envelope (bounce) domain: one ``v=spf1`` record each,
  and, when mail goes through a relay, that it allows the relay's addresses;
- DKIM: the selector's TXT record holds the public half of the configured private key
  (RSA, and Ed25519 when set);
- DMARC: a record at ``_dmarc.`` of the From domain (or of its organizational domain, by
  the Public Suffix List), with ``p=none`` at least, and DKIM or SPF aligned with From
  under its ``adkim``/``aspf`` modes;
- MX of the bounce domain, so bounces and complaints can come back;
- STARTTLS offered by the relay (or TLS from the start).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Finding:
    """One check's result; ``publish`` is the record (or setting) that fixes a failure."""

    check: str
    ok: bool
    detail: str
    publish: str | None = None

    @property
    def text(self) -> str:
        """``PASS  check: detail`` and, for a failure, the record to publish."""
        head = f"{'PASS' if self.ok else 'FAIL'}  {self.check}: {self.detail}"
        if self.ok or not self.publish:
            return head
        return f"{head}\n      publish: {self.publish}"
