"""The swfeed program's exit codes: 0 ok, 1 runtime error, 2 config error.

Apart from ``errors`` (whose classes carry them) so that the command line can name them
without loading the error classes: ``swfeed --help`` loads neither.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_RUNTIME = 1
EXIT_CONFIG = 2
