"""swfeed: RSS, Atom and JSON feeds and a weekly digest email for a news site."""

__version__ = "0.1.0"
