"""The list of command groups, in the order ``swfeed --help`` shows them."""

from __future__ import annotations

from collections.abc import Callable

from swfeed.cli import Subparsers, daemon, digest, feeds, mailinglist, serve

Register = Callable[[Subparsers], None]

REGISTRY: list[Register] = [
    feeds.register,
    digest.register,
    mailinglist.register,
    serve.register,
    daemon.register,
]
