"""What ``swfeed digest send`` prints: a progress bar, the run's summary, a dry run's plan."""

from __future__ import annotations

import time
from typing import TextIO

from swfeed.delivery.send import Plan, Progress, SendSummary
from swfeed.digest.due import Action
from swfeed.pipeline import DigestRun
from swfeed.store.bounces import Rates
from swfeed.store.deliveries import State


def print_run(run: DigestRun, out: TextIO) -> None:
    """What a send did: the decision when it sent nothing, else the summary."""
    due = run.due
    if due.decision.action is Action.SKIP:
        print(f"issue {due.period}: recorded as skipped: {due.decision.reason}", file=out)
        print("  its stories go into the next issue", file=out)
    elif due.decision.action is Action.NOTHING:
        print(f"issue {due.period}: nothing to send: {due.decision.reason}", file=out)
    elif run.summary is None:
        print("no issue to send: nothing new since the last one", file=out)
    else:
        print_summary(run.summary, out)


class ProgressBar:
    """A one-line progress bar on a terminal, redrawn at most ten times a second."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self._drawn = 0.0

    def __call__(self, progress: Progress) -> None:
        now = time.monotonic()
        if now - self._drawn < 0.1 and progress.done < progress.total:
            return
        self._drawn = now
        self.stream.write("\r" + render_bar(progress, self.width))
        self.stream.flush()

    def finish(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()


def render_bar(progress: Progress, width: int) -> str:
    """``[#####-----]  50/100  sent 48 deferred 1 failed 1 unknown 0``."""
    total = max(progress.total, 1)
    filled = min(width, width * progress.done // total)
    run = progress.run
    return (
        f"[{'#' * filled}{'-' * (width - filled)}] {progress.done}/{progress.total}  "
        f"sent {run[State.SENT]} deferred {run[State.DEFERRED]} "
        f"failed {run[State.FAILED]} unknown {run[State.UNKNOWN]}"
    )


def print_summary(summary: SendSummary, out: TextIO) -> None:
    """The end-of-run report: this run's outcomes, the issue's totals, what needs a human."""
    run, totals = summary.run, summary.totals
    print(
        f"issue {summary.period}: this run sent {run[State.SENT]}, deferred "
        f"{run[State.DEFERRED]}, failed {run[State.FAILED]}, unknown {run[State.UNKNOWN]}",
        file=out,
    )
    states = ", ".join(f"{state.value} {totals[state]}" for state in State if totals[state])
    print(f"  all {summary.total} recipients: {states or 'none'}", file=out)
    if summary.retried:
        print(
            f"  {summary.retried} recipient(s) with an unknown outcome were attempted again "
            "(--retry-unknown)",
            file=out,
        )
    for address in summary.recovered:
        print(f"  unknown (in flight when a sender stopped): {address}", file=out)
    if totals[State.UNKNOWN]:
        print(
            "  unknown outcomes are not retried; `swfeed digest send --period "
            f"{summary.period} --retry-unknown` sends them again (they may get two copies)",
            file=out,
        )
    if summary.rates is not None:
        print(f"  {rates_text(summary.rates)}", file=out)
    if summary.slowed:
        print(f"  the relay asked to slow down (421) {summary.slowed} time(s): waited", file=out)
    if summary.on_hold:
        print(f"  {summary.paused}", file=out)
        print(
            "  look at the bounces (`swfeed status`, `swfeed bounces`), then carry on with "
            f"`swfeed digest send --period {summary.period} --resume`",
            file=out,
        )
    elif summary.paused:
        print(f"  {summary.paused}; run the command again to carry on", file=out)
    elif summary.stopped:
        print("  stopped on request; run the command again to carry on", file=out)
    elif totals[State.DEFERRED]:
        print("  deferred messages are retried by the next run", file=out)


def print_plan(found: Plan, out: TextIO) -> None:
    """The dry run's report."""
    print(f"issue {found.period}: {found.subject!r} ({found.size:,} bytes before the", file=out)
    print(f"  per-recipient parts), via {found.method}", file=out)
    if found.frozen:
        done = ", ".join(f"{s.value} {n}" for s, n in found.totals.items() if n)
        print(f"  sending already started: {done}", file=out)
    print(f"  would send to {len(found.recipients)} recipient(s):", file=out)
    for address, name in found.recipients:
        print(f"    {address}" + (f"  ({name})" if name else ""), file=out)


def rates_text(rates: Rates) -> str:
    """``hard bounces 3 of 300 (1.0%), complaints 1 (0.3%), policy rejections 0, soft 2``."""
    return (
        f"hard bounces {rates.hard} of {rates.handed_over} ({rates.hard_rate:.1%}), "
        f"complaints {rates.complaints} ({rates.complaint_rate:.2%}), "
        f"policy rejections {rates.policy}, soft bounces {rates.soft}"
    )
