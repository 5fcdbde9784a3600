"""``python -m swfeed``."""

from swfeed.cli import main

raise SystemExit(main())
