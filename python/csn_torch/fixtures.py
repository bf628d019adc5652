"""Makes Tests/Fixtures/torch: small files written by this package and by the real
torch.utils.tensorboard.SummaryWriter, for csn's Swift tests (which must not need torch).

`python -m csn_torch.fixtures --out ../Tests/Fixtures/torch` (from python/, in the venv) runs the
commands listed in the README it writes there, with the values a test should expect.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys

import numpy as np

PYTHON_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
FONTS = "../Assets/fonts32.safetensors.gz"  # from python/
DATA = "tiny-fonts.safetensors.gz"

# Scalars for the TensorBoard files: exact in float32, so a reader can compare them with ==.
SIMPLE = {"loss": [(10, 0.5), (20, 0.25), (30, 0.125)], "val/character": [(20, 0.75), (30, 0.875)]}
NEW_STYLE = {"loss": [(10, 0.5), (20, 0.25), (30, 0.125)]}
DOUBLE = {"loss/precise": [(10, 0.1)]}  # a value float32 cannot hold: 0.1 as a double


def _run(command: list[str]) -> str:
    print("$ " + " ".join(command), flush=True)
    result = subprocess.run(command, cwd=PYTHON_DIR, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def _table(text: str) -> str:
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("accuracy (%)"))
    return "\n".join(lines[at - 1:at + 2])


def _relative_data_path(run: str, reference: str) -> None:
    """Points the run's config at the dataset beside it (csn looks beside the run folder first)."""
    path = os.path.join(run, "config.json")
    config = json.load(open(path))
    config["dataPath"] = reference
    with open(path, "w") as handle:
        handle.write(json.dumps(config, indent=2, sort_keys=True, separators=(",", " : ")) + "\n")


def _write_events(folder: str, name: str, scalars: dict[str, list[tuple[int, float]]], **options: bool) -> str:
    """One events file from SummaryWriter, renamed from its timestamped name to a stable one
    (`events.out.tfevents.NAME`), so that rebuilding the fixtures keeps the file names."""
    from torch.utils.tensorboard import SummaryWriter

    scratch = folder + ".writing"
    shutil.rmtree(scratch, ignore_errors=True)
    writer = SummaryWriter(log_dir=scratch)
    for tag, points in scalars.items():
        for step, value in points:
            writer.add_scalar(tag, value, step, **options)
    writer.close()
    os.makedirs(folder, exist_ok=True)
    target = os.path.join(folder, f"events.out.tfevents.{name}")
    os.replace(glob.glob(os.path.join(scratch, "events.out.tfevents.*"))[0], target)
    shutil.rmtree(scratch)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m csn_torch.fixtures", description=__doc__)
    parser.add_argument("--out", default="../Tests/Fixtures/torch")
    out = os.path.relpath(os.path.abspath(os.path.join(PYTHON_DIR, parser.parse_args(argv).out)), PYTHON_DIR)
    os.makedirs(os.path.join(PYTHON_DIR, out), exist_ok=True)
    python = sys.executable
    here = lambda *parts: os.path.join(out, *parts)  # noqa: E731 (paths from python/)
    commands: list[str] = []

    def run(command: list[str]) -> str:
        commands.append(" ".join(["python" if c == python else c for c in command]))
        return _run(command)

    # 1. A tiny dataset cut from the embedded fonts data.
    run([python, "-m", "csn_torch.subset", "--data", FONTS, "--groups", "8,5,5", "--images-per-group", "16",
         "--triplets", "200", "--seed", "1", "--out", here(DATA)])
    # 2. A small-ConvNet csn-learned run on it, its config pointed at the dataset beside it.
    for name in ("run", "task-specific-run"):
        shutil.rmtree(os.path.join(PYTHON_DIR, here(name)), ignore_errors=True)
    train = ["--data", here(DATA), "--widths", "8,16,16", "--dim", "16", "--batch", "16", "--steps", "60",
             "--validate-every", "20", "--seed", "1", "--threads", "1", "--quiet"]
    run([python, "-m", "csn_torch", "train", *train, "--out", here("run")])
    os.remove(os.path.join(PYTHON_DIR, here("run", "best.safetensors")))
    _relative_data_path(os.path.join(PYTHON_DIR, here("run")), f"../{DATA}")
    commands.append(f"rm {here('run', 'best.safetensors')}; config.json's dataPath set to ../{DATA}")
    run([python, "-m", "csn_torch", "embed", here("run"), "--dataset-reference", f"../{DATA}"])
    test_table = _table(run([python, "-m", "csn_torch", "eval", here("run")]))
    val_table = _table(run([python, "-m", "csn_torch", "eval", here("run"), "--split", "val"]))
    # 3. A task-specific run for the [N, K, D] form; only its embeddings file is kept.
    run([python, "-m", "csn_torch", "train", *train, "--model", "task-specific", "--out", here("task-specific-run")])
    run([python, "-m", "csn_torch", "embed", here("task-specific-run"), "--last", "--out",
         here("task-specific-embeddings.safetensors"), "--dataset-reference", DATA])
    shutil.rmtree(os.path.join(PYTHON_DIR, here("task-specific-run")))
    commands.append(f"rm -r {here('task-specific-run')}")
    # 4. TensorBoard event files from the real SummaryWriter.
    shutil.rmtree(os.path.join(PYTHON_DIR, here("tensorboard")), ignore_errors=True)
    simple = _write_events(os.path.join(PYTHON_DIR, here("tensorboard", "simple")), "simple", SIMPLE)
    new_style = _write_events(os.path.join(PYTHON_DIR, here("tensorboard", "new-style")), "new-style", NEW_STYLE, new_style=True)
    double = _write_events(os.path.join(PYTHON_DIR, here("tensorboard", "new-style")), "double", DOUBLE,
                           new_style=True, double_precision=True)

    from safetensors.numpy import load_file

    vectors = load_file(os.path.join(PYTHON_DIR, here("run", "embeddings.safetensors")))
    task = load_file(os.path.join(PYTHON_DIR, here("task-specific-embeddings.safetensors")))
    model = load_file(os.path.join(PYTHON_DIR, here("run", "model.safetensors")))
    metrics = [json.loads(line) for line in open(os.path.join(PYTHON_DIR, here("run", "metrics.jsonl")))]
    readme = _readme(commands, test_table, val_table, vectors, task, model, metrics,
                     [os.path.relpath(p, os.path.join(PYTHON_DIR, out)) for p in (simple, new_style, double)])
    with open(os.path.join(PYTHON_DIR, here("README.md")), "w") as handle:
        handle.write(readme)
    for path in sorted(glob.glob(os.path.join(PYTHON_DIR, out, "**", "*"), recursive=True)):
        if os.path.isfile(path):
            print(f"{os.path.getsize(path):>8}  {os.path.relpath(path, PYTHON_DIR)}")
    return 0


def _readme(commands, test_table, val_table, vectors, task, model, metrics, event_files) -> str:
    n, d = vectors["embeddings"].shape
    validation = [m for m in metrics if "validation" in m]
    first = ", ".join(f"{v:.6f}" for v in vectors["embeddings"][0][:4])
    lines = [
        "# Fixtures written by the PyTorch trainer (python/csn_torch)",
        "",
        "Small files for csn's Swift tests, which must not need torch. Made from `python/`, in the",
        "virtual environment of `make venv`, by `python -m csn_torch.fixtures --out ../Tests/Fixtures/torch`,",
        "which runs these commands (paths from `python/`):",
        "",
        "```",
        *commands,
        "```",
        "",
        "and writes the TensorBoard files with `torch.utils.tensorboard.SummaryWriter` (see below).",
        "Runs are seeded; torch's CPU kernels may differ in the last bits between versions, so a",
        "rebuild can change the numbers below slightly: update them with the files.",
        "",
        "## `tiny-fonts.safetensors.gz`",
        "",
        "A `csn-dataset/1` file cut from `Assets/fonts32.safetensors.gz`: 18 fonts (train 8, val 5,",
        "test 5), 16 characters each (288 images of 32x32, grey), the conditions character, font, weight",
        "and slant, and new fixed lists of 200 val and 200 test triplets per condition drawn as csn draws",
        "them (seed 1). Its header has no font list (csn reads one as 62 characters per font).",
        "",
        "## `run/`: a csn-learned small-ConvNet run written by PyTorch",
        "",
        "`config.json` (widths 8,16,16, dimension 16, batch 16, 60 steps, seed 1; `dataPath`",
        f"`../{DATA}`, relative, found beside the run folder), `model.safetensors` (step 60, csn's tensor",
        "names and layout), `metrics.jsonl` and `embeddings.safetensors`. `best.safetensors` was",
        "removed, so `csn eval` and `csn eval --last` read the same weights.",
        "",
        "Expected: `csn eval Tests/Fixtures/torch/run` prints what PyTorch's evaluation printed:",
        "",
        "```",
        test_table,
        "```",
        "",
        "and with `--split val`:",
        "",
        "```",
        val_table,
        "```",
        "",
        f"`metrics.jsonl`: {len(metrics)} rows; validation rows at steps {[m['step'] for m in validation]}, each with",
        f"{len(validation[0]['validation'])} accuracies (character, font, weight, slant); training rows at steps",
        f"{[m['step'] for m in metrics if 'loss' in m]} with `loss`, `triplet`, `embedding`, `mask`, `learning_rate`",
        "(0 at the last step: the half-cosine schedule ends at zero).",
        "",
        "`model.safetensors`: " + ", ".join(f"`{k}` {list(v.shape)}" for k, v in sorted(model.items())
                                             if k in ("net0.conv0.weight", "net0.fc.weight", "masks", "optimizer.m", "step")) + ".",
        "",
        "## Embeddings files (`csn-embeddings/1`, docs/run-formats.md)",
        "",
        f"- `run/embeddings.safetensors`: `embeddings` F32 [{n}, {d}] and `masks` F32 {list(vectors['masks'].shape)}",
        "  (ReLU taken; equal to `effective_masks` of `run/model.safetensors`), `image_index` I32",
        f"  [{n}] (the val and test images of the dataset, increasing), `split` U8 [{n}]",
        f"  ({int((vectors['split'] == 1).sum())} val, {int((vectors['split'] == 2).sum())} test); metadata `conditions`",
        '  `["character","font","weight","slant"]`, `dataset` `../tiny-fonts.safetensors.gz` (relative to',
        "  the file's folder), `model` `csn-learned`, `backbone` `csn-convnet`, `step` `60`. Row 0 (image",
        f"  {int(vectors['image_index'][0])}) begins {first}. Each row equals csn's own forward pass of",
        "  `run/model.safetensors` on that image (batch norm in inference mode) to float rounding.",
        f"- `task-specific-embeddings.safetensors`: `embeddings` F32 {list(task['embeddings'].shape)} (one",
        "  embedding per image and condition, no `masks`), the same `image_index` and `split`; metadata",
        "  `model` `task-specific`, `dataset` `tiny-fonts.safetensors.gz`, `step` `60`.",
        "",
        "## TensorBoard event files (`tensorboard/`)",
        "",
        "Written by `torch.utils.tensorboard.SummaryWriter(log_dir=...)` and `add_scalar(tag, value, step)`,",
        "then renamed from the writer's `events.out.tfevents.TIME.HOST.PID.N` to stable names; each file",
        "starts with the `brain.Event:2` file-version event. `csn watch --once tensorboard` shows two runs.",
        "",
        f"- `{event_files[0]}`: `simple_value` scalars:",
        *[f"  `{tag}` " + ", ".join(f"step {s} = {v}" for s, v in points) for tag, points in SIMPLE.items()],
        f"- `{event_files[1]}`: `add_scalar(..., new_style=True)`: a rank-0 `tensor` (dtype DT_FLOAT,",
        "  the value in `float_val`, no shape) with plugin `scalars`:",
        *[f"  `{tag}` " + ", ".join(f"step {s} = {v}" for s, v in points) for tag, points in NEW_STYLE.items()],
    ]
    if len(event_files) > 2:
        lines += [
            f"- `{event_files[2]}` (same folder): `add_scalar(..., new_style=True, double_precision=True)`: dtype",
            "  DT_DOUBLE, the value in `double_val`:",
            *[f"  `{tag}` " + ", ".join(f"step {s} = {v}" for s, v in points) for tag, points in DOUBLE.items()],
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
