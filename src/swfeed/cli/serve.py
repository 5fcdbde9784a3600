"""``swfeed serve``: the output folder and the unsubscribe endpoint over HTTP."""

from __future__ import annotations

import argparse

from swfeed.cli import Subparsers, add_command, load
from swfeed.exitcodes import EXIT_OK


def register(subparsers: Subparsers) -> None:
    """Add ``serve``."""
    serve = add_command(
        subparsers,
        "serve",
        "serve the output folder and the unsubscribe endpoint over HTTP",
        details="Feeds get their media types, ETags and conditional GET; /unsubscribe "
        "takes one-click (RFC 8058) requests. Put it behind a TLS reverse proxy.",
        examples=["swfeed serve", "swfeed serve --host 0.0.0.0 --port 8080"],
    )
    serve.add_argument("--host", metavar="HOST", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", metavar="PORT", type=int, default=8080, help="port to listen on")
    serve.set_defaults(handler=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    from swfeed.web import serve

    config = load(args)
    serve(config, args.host, args.port)
    return EXIT_OK
