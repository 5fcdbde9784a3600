"""Timing shared by the benchmark scripts.

Every comparison is measured in one run with its sides taking turns (A B A B ...), so a
load spike on the (shared) machine hits every side alike; each side is repeated, and its
samples are summarised as the median and the min–max. Ratios are of medians.

A side is a function that does one run and returns what it cost as a ``Cost``: CPU seconds
(user + system) and wall seconds. ``in_process`` times a callable in this process;
``run_command`` times a whole child process (its own CPU time, from ``wait4``), which is
how the command-line targets are stated.
"""

from __future__ import annotations

import atexit
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import swfeed

PYTHON = Path(sys.executable)
SWFEED = PYTHON.parent / "swfeed"
"""The console script of this environment, as an admin runs it. (Run a benchmark with
``PYTHONPATH=<another checkout>/src`` to measure that code, e.g. the main branch's.)"""


@dataclass(frozen=True, slots=True)
class Cost:
    """What one run cost, in seconds."""

    cpu: float
    wall: float


@dataclass
class Samples:
    """The costs of one side's runs."""

    name: str
    costs: list[Cost] = field(default_factory=list)

    def values(self, kind: str) -> list[float]:
        return [getattr(cost, kind) for cost in self.costs]

    def median(self, kind: str = "cpu") -> float:
        return statistics.median(self.values(kind))

    def spread(self, kind: str = "cpu", unit: str = "ms") -> str:
        """``median (min–max)`` in ``unit`` (ms or s)."""
        scale = 1000.0 if unit == "ms" else 1.0
        values = self.values(kind)
        digits = 1 if unit == "ms" else 2
        return (
            f"{self.median(kind) * scale:.{digits}f} {unit} "
            f"({min(values) * scale:.{digits}f}–{max(values) * scale:.{digits}f})"
        )


Side = Callable[[], Cost]


def in_process(action: Callable[[], object]) -> Side:
    """A side that calls ``action`` in this process and times it."""

    def side() -> Cost:
        cpu, wall = time.process_time(), time.perf_counter()
        action()
        return Cost(time.process_time() - cpu, time.perf_counter() - wall)

    return side


def run_command(
    argv: Sequence[str | Path],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    check: bool = True,
) -> Cost:
    """Run a whole process (output discarded) and return its own CPU and wall time."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [str(part) for part in argv],
        env=None if env is None else dict(env),
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert child.stderr is not None
    errors = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    child.stderr.close()
    if check and child.returncode != 0:
        raise RuntimeError(f"{argv} exited {child.returncode}: {errors.decode(errors='replace')}")
    return Cost(usage.ru_utime + usage.ru_stime, wall)


def alternate(sides: Mapping[str, Side], runs: int, warmup: int = 1) -> dict[str, Samples]:
    """Run every side ``runs`` times, taking turns; ``warmup`` rounds are not kept."""
    samples = {name: Samples(name) for name in sides}
    for _ in range(warmup):
        for side in sides.values():
            side()
    for _ in range(runs):
        for name, side in sides.items():
            samples[name].costs.append(side())
    return samples


def ratio(numerator: Samples, denominator: Samples, kind: str = "cpu") -> float:
    """The ratio of two sides' medians."""
    return numerator.median(kind) / denominator.median(kind)


def report(
    title: str,
    samples: Mapping[str, Samples],
    baseline: str,
    *,
    kinds: Sequence[str] = ("cpu", "wall"),
    unit: str = "ms",
) -> None:
    """Print each side's median (min–max) and its ratio to ``baseline``, per kind."""
    runs = len(next(iter(samples.values())).costs)
    print(f"{title} (medians of {runs} alternating runs, min–max in brackets)")
    width = max(len(name) for name in samples)
    base = samples[baseline]
    for name, side in samples.items():
        parts = []
        for kind in kinds:
            parts.append(f"{kind} {side.spread(kind, unit):>26}  {ratio(side, base, kind):6.3f}x")
        print(f"  {name:<{width}}  " + "   ".join(parts))


CACHE_HOME = tempfile.mkdtemp(prefix="swfeed-bench-cache-")
"""The children's XDG_CACHE_HOME: the validated-config cache of a benchmark run (filled by
its warm-up round, as an admin's is by the first command), never the user's own."""
atexit.register(shutil.rmtree, CACHE_HOME, ignore_errors=True)


def swfeed_env(src: Path | None = None) -> dict[str, str]:
    """The environment for a swfeed child: bytecode used as an install has it, the config
    cache is the run's own, and with ``src`` (another checkout's ``src`` folder, e.g. the
    main branch) that code instead of this one, so two versions can be measured in one run."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["XDG_CACHE_HOME"] = CACHE_HOME
    if src is not None:
        env["PYTHONPATH"] = str(src)
    compile_bytecode(src / "swfeed" if src else Path(swfeed.__file__).parent)
    return env


def compile_bytecode(package: Path) -> None:
    """Write the package's bytecode (as pip does at install), so no run compiles sources."""
    compileall.compile_dir(package, quiet=1)
