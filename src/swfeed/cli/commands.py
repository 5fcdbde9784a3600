"""The list of command groups, in the order ``swfeed --help`` shows them."""

from __future__ import annotations

from collections.abc import Callable

from swfeed.cli import (
    Subparsers,
    bounces,
    daemon,
    digest,
    doctor,
    feeds,
    mailinglist,
    serve,
    signup,
)

Register = Callable[[Subparsers], None]

REGISTRY: list[Register] = [
    feeds.register,
    digest.register,
    mailinglist.register,
    bounces.register,
    doctor.register,
    signup.register,
    serve.register,
    daemon.register,
]
