"""The checks that csn and the PyTorch trainer agree, end to end (`make interop`).

1. A small-ConvNet run written by PyTorch: `csn eval` and PyTorch's evaluation give the same
   per-condition test accuracy (within 0.1 points) on the embedded fonts data.
2. A run written by csn, opened with --init-from: PyTorch's test accuracy before any step equals
   `csn eval --last`'s (within 0.1 points).
3. torchrun --nproc_per_node 2 (gloo) trains; at the same triplet budget its test error is within
   1 point of one process's.
4. A ResNet-18 run writes embeddings.safetensors as docs/run-formats.md says, and it reads back.
5. Seeded mutations of a dataset file: csn's reader and this package's accept and refuse the same
   files, with the same sentence.

CSN names the csn binary (default .build/release/csn of this checkout); INTEROP_STEPS scales the
runs (default 1: 400, 300, 1000 and 300 steps). Prints a table; exits 1 when a check misses.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
PYTHON_DIR = os.path.join(REPO, "python")
FONTS = os.path.join(REPO, "Assets", "fonts32.safetensors.gz")


@dataclass
class Outcome:
    name: str
    figure: str
    limit: str
    passed: bool
    commands: list[str]


def _run(command: list[str], log: str, env: dict[str, str] | None = None) -> str:
    """Runs a command from python/, keeps its output in `log`, returns it; fails loudly."""
    shown = " ".join(command)
    print(f"$ {shown}", flush=True)
    started = time.monotonic()
    result = subprocess.run(command, cwd=PYTHON_DIR, capture_output=True, text=True, env={**os.environ, **(env or {})})
    with open(log, "a") as handle:
        handle.write(f"$ {shown}\n{result.stdout}{result.stderr}\n")
    print(f"  ({time.monotonic() - started:.0f} s, exit {result.returncode})", flush=True)
    if result.returncode != 0:
        raise RuntimeError(f"{shown} failed with exit {result.returncode}:\n{result.stderr[-2000:]}")
    return result.stdout


def accuracy_table(text: str, occurrence: int = 0) -> dict[str, float]:
    """Per-condition accuracies (percent) of the `occurrence`-th table csn or csn_torch printed."""
    lines = text.splitlines()
    headers = [i for i, line in enumerate(lines) if line.startswith("accuracy (%)")]
    if len(headers) <= occurrence:
        raise RuntimeError(f"no accuracy table in:\n{text[-1500:]}")
    at = headers[occurrence]
    names = lines[at].split()[2:]
    values = lines[at + 1].split()[1:]
    return {name: (math.nan if value == "-" else float(value)) for name, value in zip(names, values)}


def _largest_gap(a: dict[str, float], b: dict[str, float]) -> float:
    return max(abs(a[k] - b[k]) for k in a if k != "mean")


def _describe(table: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in table.items())


def check_eval(csn: str, python: str, work: str, steps: int, log: str) -> Outcome:
    run = os.path.join(work, "torch-small")
    train = [python, "-m", "csn_torch", "train", "--data", FONTS, "--steps", str(steps), "--validate-every",
             str(max(1, steps // 4)), "--out", run, "--quiet"]
    _run(train, log)
    gaps, lines = [], []
    for extra in ([], ["--last"]):
        ours = accuracy_table(_run([python, "-m", "csn_torch", "eval", run, *extra], log))
        theirs = accuracy_table(_run([csn, "eval", run, *extra], log))
        gaps.append(_largest_gap(ours, theirs))
        lines.append(f"{'last' if extra else 'best'}: torch {_describe(ours)}; csn {_describe(theirs)}")
    print("  " + "\n  ".join(lines))
    gap = max(gaps)
    return Outcome("1 csn eval = torch eval (PyTorch run)", f"largest gap {gap:.2f} points; " + lines[0], "<= 0.1",
                   gap <= 0.1, [" ".join(train), f"{csn} eval {run} [--last]", f"python -m csn_torch eval {run} [--last]"])


def check_init_from(csn: str, python: str, work: str, steps: int, log: str) -> Outcome:
    run, continued = os.path.join(work, "csn-run"), os.path.join(work, "torch-from-csn")
    train = [csn, "train", "--headless", "--data", FONTS, "--steps", str(steps), "--threads", "1",
             "--validate-every", str(max(1, steps // 3)), "--out", run]
    _run(train, log)
    theirs = accuracy_table(_run([csn, "eval", run, "--last"], log))
    init = [python, "-m", "csn_torch", "train", "--init-from", run, "--steps", str(steps + 1), "--out", continued, "--quiet"]
    ours = accuracy_table(_run(init, log))  # the first table: before any step
    gap = _largest_gap(ours, theirs)
    return Outcome("2 --init-from csn run, before any step", f"largest gap {gap:.2f} points; torch {_describe(ours)}; csn {_describe(theirs)}",
                   "<= 0.1", gap <= 0.1, [" ".join(train), f"{csn} eval {run} --last", " ".join(init)])


def check_ddp(python: str, work: str, steps: int, log: str) -> Outcome:
    one, two = os.path.join(work, "torch-1proc"), os.path.join(work, "torch-2proc")
    common = ["--data", FONTS, "--steps", str(steps), "--validate-every", str(steps), "--quiet"]
    single = [python, "-m", "csn_torch", "train", *common, "--out", one]
    torchrun = os.path.join(os.path.dirname(python), "torchrun")
    ranks = [torchrun, "--standalone", "--nproc_per_node", "2", "-m", "csn_torch", "train", *common, "--out", two]
    started = time.monotonic()
    _run(single, log)
    single_seconds = time.monotonic() - started
    started = time.monotonic()
    _run(ranks, log)
    ranks_seconds = time.monotonic() - started
    a = accuracy_table(_run([python, "-m", "csn_torch", "eval", one, "--last"], log))
    b = accuracy_table(_run([python, "-m", "csn_torch", "eval", two, "--last"], log))
    gap = abs(a["mean"] - b["mean"])
    return Outcome("3 torchrun 2 ranks (gloo) vs 1 process", f"mean test error {100 - a['mean']:.2f} vs {100 - b['mean']:.2f} "
                   f"(gap {gap:.2f}); per condition 1 proc {_describe(a)}; 2 ranks {_describe(b)}; "
                   f"wall {single_seconds:.0f} s vs {ranks_seconds:.0f} s",
                   "<= 1.0", gap <= 1.0, [" ".join(single), " ".join(ranks), f"python -m csn_torch eval RUN --last"])


def check_resnet_embeddings(csn: str, python: str, work: str, steps: int, log: str) -> Outcome:
    run = os.path.join(work, "torch-resnet18")
    train = [python, "-m", "csn_torch", "train", "--data", FONTS, "--backbone", "resnet18", "--steps", str(steps),
             "--validate-every", str(max(1, steps // 2)), "--out", run, "--quiet"]
    _run(train, log)
    path = os.path.join(run, "embeddings.safetensors")
    reader = (
        "import json, sys, numpy as np\n"
        "from safetensors import safe_open\n"
        "from safetensors.numpy import load_file\n"
        "t = load_file(sys.argv[1])\n"
        "with safe_open(sys.argv[1], 'np') as f: meta = f.metadata()\n"
        "print(json.dumps({'shapes': {k: list(v.shape) for k, v in t.items()}, 'dtypes': {k: str(v.dtype) for k, v in t.items()},\n"
        "  'meta': meta, 'splits': sorted(set(t['split'].tolist())), 'finite': bool(np.isfinite(t['embeddings']).all()),\n"
        "  'masks_min': float(t['masks'].min()) if 'masks' in t else None, 'index_sorted': bool((np.diff(t['image_index']) > 0).all())}))\n"
    )
    report = json.loads(_run([python, "-c", reader, path], log))
    shapes, meta = report["shapes"], report["meta"]
    n = shapes["embeddings"][0]
    conditions = json.loads(meta["conditions"])
    faults = []
    if meta.get("format") != "csn-embeddings/1":
        faults.append("format")
    if shapes["embeddings"] != [n, 64] or shapes.get("masks") != [len(conditions), 64]:
        faults.append(f"shapes {shapes}")
    if report["dtypes"] != {"embeddings": "float32", "masks": "float32", "image_index": "int32", "split": "uint8"}:
        faults.append(f"dtypes {report['dtypes']}")
    if shapes["image_index"] != [n] or shapes["split"] != [n] or report["splits"] != [1, 2] or not report["index_sorted"]:
        faults.append("image_index/split")
    if not report["finite"] or report["masks_min"] < 0:
        faults.append("values")
    if meta.get("backbone") != "resnet18" or meta.get("model") != "csn-learned" or not meta.get("step", "").isdigit():
        faults.append(f"metadata {meta}")
    if not os.path.isabs(meta.get("dataset", "")) or not os.path.exists(meta["dataset"]):
        faults.append("dataset path")
    refused = subprocess.run([csn, "eval", run], capture_output=True, text=True)
    csn_says = (refused.stderr or refused.stdout).strip().splitlines()[-1] if (refused.stderr or refused.stdout) else ""
    figure = (f"{n} rows x 64, masks {shapes.get('masks')}, conditions {conditions}, step {meta.get('step')}; "
              f"csn eval on the run: exit {refused.returncode} ({csn_says})")
    if faults:
        figure += "; faults: " + ", ".join(faults)
    return Outcome("4 ResNet-18 run writes embeddings.safetensors", figure, "run-formats.md", not faults,
                   [" ".join(train), f"python -c '<safetensors.numpy.load_file + safe_open metadata>' {path}"])


def check_refusals(csn: str, work: str, cases: int, log: str) -> Outcome:
    """Mutated dataset files read by csn (`csn data stats`) and by this package: both must accept
    or both refuse; the sentences are compared too (csn names the first bad tensor it meets in a
    dictionary of random order, so with several bad tensors the named one may differ)."""
    import gzip
    import random

    from .dataset import load, terminal_safe
    from .dataset import encode as encode_dataset
    from .errors import CSNTorchError
    from .mutations import MUTATORS
    from .testdata import synthetic_dataset

    base = encode_dataset(synthetic_dataset())
    rng = random.Random(42)
    path = os.path.join(work, "mutated.safetensors.gz")
    counts = {"both accept": 0, "same sentence": 0, "other tensor named": 0, "other sentence": 0, "disagree": 0}
    with open(log, "a") as handle:
        for case in range(cases):
            with open(path, "wb") as out:
                out.write(gzip.compress(MUTATORS[case % len(MUTATORS)](base, rng)))
            try:
                load(path)
                ours = None
            except CSNTorchError as error:
                ours = terminal_safe(str(error))
            result = subprocess.run([csn, "data", "stats", "--data", path], capture_output=True, text=True)
            theirs = None if result.returncode == 0 else ((result.stderr.strip().splitlines() or ["?"])[-1]).removeprefix("Error: ")
            if result.returncode not in (0, 1):
                theirs = f"(csn ended with status {result.returncode})"
            if (ours is None) != (theirs is None):
                kind = "disagree"
            elif ours is None:
                kind = "both accept"
            elif ours == theirs:
                kind = "same sentence"
            elif re.sub(r"tensor '[^']*'.*", "", ours) == re.sub(r"tensor '[^']*'.*", "", theirs) and "tensor '" in ours:
                kind = "other tensor named"
            else:
                kind = "other sentence"
            counts[kind] += 1
            if kind not in ("both accept", "same sentence"):
                handle.write(f"case {case} {kind}:\n  torch: {ours}\n  csn:   {theirs}\n")
    figure = f"{cases} mutated files: " + ", ".join(f"{k} {v}" for k, v in counts.items())
    return Outcome("5 same refusals as csn's reader", figure, "0 disagree, 0 other sentence",
                   counts["disagree"] == 0 and counts["other sentence"] == 0,
                   [f"{csn} data stats --data FILE  vs  csn_torch.dataset.load(FILE), FILE = a seeded mutation (csn_torch.mutations)"])


def main() -> int:
    csn = os.environ.get("CSN") or os.path.join(REPO, ".build", "release", "csn")
    csn = os.path.abspath(csn)
    if not os.access(csn, os.X_OK):
        print(f"error: no csn binary at {csn}; build it with `swift build -c release --product csn` or give CSN=PATH",
              file=sys.stderr)
        return 1
    scale = float(os.environ.get("INTEROP_STEPS", "1"))

    def steps(n: int) -> int:
        return max(2, int(n * scale))

    python = sys.executable
    work = os.environ.get("INTEROP_WORK") or tempfile.mkdtemp(prefix="csn-interop-")
    if os.path.isdir(work) and os.environ.get("INTEROP_WORK"):
        shutil.rmtree(work)
    os.makedirs(work, exist_ok=True)
    log = os.path.join(work, "interop.log")
    print(f"csn: {csn}\nwork folder: {work} (commands and their output in {log})", flush=True)
    outcomes = []
    for check in (lambda: check_eval(csn, python, work, steps(400), log),
                  lambda: check_init_from(csn, python, work, steps(300), log),
                  lambda: check_ddp(python, work, steps(1000), log),
                  lambda: check_resnet_embeddings(csn, python, work, steps(300), log),
                  lambda: check_refusals(csn, work, max(30, int(300 * min(scale, 1))), log)):
        try:
            outcomes.append(check())
        except (RuntimeError, KeyError, ValueError) as error:
            outcomes.append(Outcome(getattr(check, "__name__", "check"), f"did not run: {error}", "-", False, []))
    print("\n| check | measured | limit | result |\n| --- | --- | --- | --- |")
    for o in outcomes:
        print(f"| {o.name} | {o.figure} | {o.limit} | {'pass' if o.passed else 'FAIL'} |")
    print("\ncommands:")
    for o in outcomes:
        for command in o.commands:
            print(f"  [{o.name.split()[0]}] {command}")
    failed = [o for o in outcomes if not o.passed]
    print(f"\n{len(outcomes) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
