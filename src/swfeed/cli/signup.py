"""``swfeed subscribe-form``: the sign-up form for a page of the site (Wix's Embed element)."""

from __future__ import annotations

import argparse
import sys

from swfeed.cli import Subparsers, add_command, load
from swfeed.exitcodes import EXIT_OK

IFRAME_HEIGHT = 760


def register(subparsers: Subparsers) -> None:
    """Add ``subscribe-form``."""
    command = add_command(
        subparsers,
        "subscribe-form",
        "print the sign-up form's snippet for the site (an iframe of /subscribe?embed=1)",
        details="A pasted static form could not carry a fresh form token, so the site "
        "shows swfeed's own form in an iframe; `swfeed serve` allows the site's host to "
        "frame it (Content-Security-Policy frame-ancestors).",
        examples=["swfeed subscribe-form"],
    )
    command.set_defaults(handler=cmd_subscribe_form)


def cmd_subscribe_form(args: argparse.Namespace) -> int:
    import html

    from swfeed.delivery.settings import endpoint_url

    config = load(args)
    url = endpoint_url(config, "subscribe") + "?embed=1"
    title = f"Subscribe to the {config.site.title} weekly digest"
    print(
        f'<iframe src="{html.escape(url)}" title="{html.escape(title)}" width="100%" '
        f'height="{IFRAME_HEIGHT}" style="border:0;max-width:600px" loading="lazy"></iframe>'
    )
    print(
        f"\nOn Wix: Add > Embed Code > Embed a site, and give it the address\n  {url}\n"
        "(not Embed HTML: Wix puts that code on a host of its own, which may not frame "
        "the form).\nElsewhere, paste the iframe into the page.\n"
        f"The form is served by `swfeed serve` at {endpoint_url(config, 'subscribe')}; "
        f"it lets {config.site.url} frame it.",
        file=sys.stderr,
    )
    return EXIT_OK
