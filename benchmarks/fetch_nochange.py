"""A no-change ``swfeed fetch`` against a full one, as whole commands.

Writes N article files (default 10,000; front matter and a Markdown body each) into a
temporary content folder, then times whole ``swfeed --config ... fetch`` processes, taking
turns:

- full fetch: into an empty store (read, hash, YAML, validate, Markdown, sanitize and store
  every file);
- no-change fetch: the same folder again, against a store that already has it all (start-up,
  config, one ``stat`` per file).

CPU time (user + system) of each process and its wall time; medians and min–max. Targets:
no-change at most 1/25 of the full fetch. With ``--compare-src DIR`` (the ``src`` folder of
another checkout, e.g. of the main branch) that code's full and no-change fetch take turns
too, each with a store of its own, so "before" and "after" come from one run.

    .venv/bin/python benchmarks/fetch_nochange.py [--files 10000] [--runs 5]
                                                  [--compare-src ../main/src]
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from build_feeds import write_config
from timing import SWFEED, Cost, Side, alternate, ratio, report, run_command, swfeed_env

BODY = (
    "A staff survey finds that awareness of the Women, Peace and Security agenda is high, "
    "but gender is not yet seen as part of core **peacekeeping mandates**.\n\n"
    "When gender is framed as separate from operations, women's contributions are more "
    "likely to be confined to [specific roles](/news/roles).\n\n"
    "- planning\n- command\n- decision-making\n\n"
    "The gap between policy and practice persists.\n"
)


def write_articles(folder: Path, count: int) -> None:
    """``count`` valid articles, 100 per sub-folder, each with front matter and a body."""
    start = datetime(2020, 1, 1, 9, 0)
    for number in range(count):
        sub = folder / f"batch-{number // 100:03d}"
        sub.mkdir(exist_ok=True)
        date = (start + timedelta(hours=number)).isoformat(sep=" ", timespec="minutes")
        text = (
            f"---\ntitle: Story number {number}\ndate: {date}\n"
            f"categories: [Peacekeeping, Rwanda]\nauthors: [Editor {number % 7}]\n---\n"
            f"{BODY}"
        )
        (sub / f"story-{number:05d}.md").write_text(text, encoding="utf-8")


def fetch_side(root: Path, name: str, src: Path | None, *, fresh: bool) -> Side:
    """One ``swfeed fetch`` per call; ``fresh``: into an empty store each time."""
    config = write_config(root, name)
    env = swfeed_env(src)

    def side() -> Cost:
        if fresh:
            for leftover in root.glob(f"{name}.sqlite3*"):
                leftover.unlink()
        return run_command([SWFEED, "--config", config, "fetch"], env=env)

    return side


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000, help="article files to write")
    parser.add_argument("--runs", type=int, default=5, help="runs of each side")
    parser.add_argument("--compare-src", type=Path, help="another checkout's src folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="swfeed-bench-") as tmp:
        root = Path(tmp)
        (root / "content").mkdir()
        write_articles(root / "content", args.files)
        sides = {
            "full fetch": fetch_side(root, "full", None, fresh=True),
            "no-change fetch": fetch_side(root, "same", None, fresh=False),
        }
        if args.compare_src:
            src = args.compare_src.resolve()
            sides["full fetch (compared)"] = fetch_side(root, "full-cmp", src, fresh=True)
            sides["no-change fetch (compared)"] = fetch_side(root, "same-cmp", src, fresh=False)
        samples = alternate(sides, args.runs)
    report(f"swfeed fetch of {args.files:,} files, whole commands", samples, "full fetch")
    share = ratio(samples["no-change fetch"], samples["full fetch"])
    print(f"  no-change / full (CPU): 1/{1 / share:.1f}   target: at most 1/25")
    if args.compare_src:
        speedup = ratio(samples["full fetch (compared)"], samples["full fetch"])
        print(f"  full fetch, compared code / this code (CPU): {speedup:.2f}x   target: >= 2x")


if __name__ == "__main__":
    main()
