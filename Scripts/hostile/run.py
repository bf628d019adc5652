#!/usr/bin/env python3
"""Hostile-input harness for csn: malformed files, hostile options, faults and terminals.

    python3 Scripts/hostile/run.py [--bin PATH] [--seed N] [--category NAME ...] [--jobs N]
                                   [--timeout S] [--quick] [--list]

Prints a markdown table per category and every non-clean case; exits 1 if any case crashed,
hung or damaged something."""

from __future__ import annotations

import argparse
import importlib
import math
import random
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True   # keep Scripts/hostile free of __pycache__

import fixtures  # noqa: E402
import report  # noqa: E402
from common import Context, run_case  # noqa: E402

REPO = HERE.parent.parent
CATEGORIES = ("dataset", "checkpoint", "import", "vectors", "cli", "faults", "terminal", "runs")


def default_binary() -> str:
    release = REPO / ".build" / "release" / "csn"
    return str(release if release.exists() else REPO / ".build" / "debug" / "csn")


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bin", default=None, help="csn binary (default: .build/release/csn if present, else debug)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--category", action="append", choices=CATEGORIES, help="only this category (repeatable)")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--timeout", type=float, default=20.0, help="seconds per process")
    p.add_argument("--quick", action="store_true", help="run about 1/6 of the cases")
    p.add_argument("--list", action="store_true", help="list the cases without running them")
    p.add_argument("--verbose", action="store_true", help="print every case's outcome to stderr as it ends")
    p.add_argument("--keep", action="store_true", help="keep the scratch folders (for debugging)")
    return p.parse_args(argv)


def collect(names, seed, base, quick):
    cases = []
    for name in names:
        module = importlib.import_module("cat_" + name)
        rng = random.Random("%d-%s" % (seed, name))
        got = module.cases(rng, base)
        if quick:
            keep = max(1, math.ceil(len(got) / 6))
            picked = sorted(random.Random("%d-quick-%s" % (seed, name)).sample(range(len(got)), keep))
            got = [got[i] for i in picked]
        cases.extend(got)
    return cases


def main(argv=None) -> int:
    args = parse(argv)
    binary = str(Path(args.bin).resolve()) if args.bin else default_binary()
    if not Path(binary).is_file():
        print("no csn binary at %s (build it, or pass --bin)" % binary, file=sys.stderr)
        return 2
    names = args.category or list(CATEGORIES)
    root = Path(tempfile.mkdtemp(prefix="csn-hostile-"))
    start = time.monotonic()
    try:
        # Run a private copy, so that a rebuild during the run neither breaks exec ("text file
        # busy") nor mixes two versions; reports still name the binary as given.
        shown = binary
        binary = str(root / "csn")
        shutil.copy2(shown, binary)
        try:
            base = fixtures.build(binary, root)
        except fixtures.FixtureError as exc:
            print("could not build the fixtures: %s" % exc, file=sys.stderr)
            return 2
        base.timeout = args.timeout
        cases = collect(names, args.seed, base, args.quick)
        if args.list:
            for c in cases:
                print("%-10s %-50s %s" % (c.category, c.name, c.command("csn")))
            print("%d cases" % len(cases))
            return 0
        ctx = Context(binary=binary, timeout=args.timeout, root=root, keep=args.keep)
        print("running %d cases with %s (%d jobs)" % (len(cases), shown, args.jobs), file=sys.stderr)
        done = 0
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            futures = [pool.submit(run_case, c, ctx) for c in cases]
            for fut in as_completed(futures):
                c = fut.result()
                done += 1
                if args.verbose:
                    print("[%d/%d] %s: %s / %s (%s) %s" % (done, len(cases), c.kind, c.category, c.name, report.status(c),
                                                          report.one_line(c.result.stderr, 160)), file=sys.stderr)
                elif c.kind not in report.CLEAN:
                    print("[%d/%d] %s: %s / %s" % (done, len(cases), c.kind, c.category, c.name), file=sys.stderr)
                elif done % 100 == 0:
                    print("[%d/%d] %.0f s" % (done, len(cases), time.monotonic() - start), file=sys.stderr)
        print("# csn hostile-input run (seed %d%s)\n" % (args.seed, ", quick" if args.quick else ""))
        print("Binary: `%s` (run from a private copy)\n" % shown)
        paths = [(str(base.dir), "FIX"), (str(root / "cases"), "SCRATCH")]
        print(report.render(cases, shown, time.monotonic() - start, paths))
        return 1 if report.failed(cases) else 0
    finally:
        if args.keep:
            print("scratch kept in %s" % root, file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
