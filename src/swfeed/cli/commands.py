"""The list of command groups, in the order ``swfeed --help`` shows them."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from swfeed.cli import daemon, delivery, digest, site

Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]

REGISTRY: list[Register] = [site.register, digest.register, daemon.register, delivery.register]
