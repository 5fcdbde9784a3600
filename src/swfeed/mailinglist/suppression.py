"""The suppression list's keyed hashes: an erased address is kept only as one of these.

The hash is an HMAC of the (case-folded) address under the link secret, so the list
cannot be read back into addresses, nor tested against a guessed address without the
secret. It is written under the current secret and looked up under every secret in use
(``delivery.previous_secrets``), so a rotation keeps erased addresses out.
"""

from __future__ import annotations

from collections.abc import Sequence

from swfeed.mailinglist.tokens import keyed_hash

PURPOSE = "suppression-v1"


class Suppression:
    """Keyed hashes of addresses under the current and earlier secrets."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        self.keys = tuple(keys)

    def hash(self, address: str) -> str:
        """The hash to store for ``address`` (under the current secret)."""
        if not self.keys:
            raise ValueError("no secret to hash with")
        return keyed_hash(self.keys[0], PURPOSE, address)

    def hashes(self, address: str) -> list[str]:
        """The hashes ``address`` may be stored under (one per secret in use)."""
        return [keyed_hash(key, PURPOSE, address) for key in self.keys]
