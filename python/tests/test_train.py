"""Short runs on a tiny dataset: the run folder csn reads, resuming exactly, TensorBoard scalars,
atomic files under a kill, and the embeddings file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from safetensors.numpy import load_file

from conftest import synthetic_dataset
from csn_torch import embeddings
from csn_torch.cli import main
from csn_torch.dataset import save
from csn_torch.errors import CSNTorchError

PYTHON_DIR = os.path.normpath(os.path.join(os.path.dirname(__file__), ".."))


@pytest.fixture
def data(tmp_path) -> str:
    path = str(tmp_path / "tiny.safetensors.gz")
    save(synthetic_dataset(groups=12, per_group=8, size=8), path)
    return path


def _train(data: str, out: str, *extra: str) -> None:
    assert main(["train", "--data", data, "--out", out, "--widths", "4,8", "--dim", "8", "--batch", "12",
                 "--validate-every", "3", "--quiet", *extra]) == 0


def test_run_folder_has_csns_files(tmp_path, data: str) -> None:
    out = str(tmp_path / "run")
    _train(data, out, "--steps", "6", "--tensorboard")
    names = set(os.listdir(out))
    assert {"config.json", "model.safetensors", "best.safetensors", "metrics.jsonl", "embeddings.safetensors"} <= names
    assert any(n.startswith("events.out.tfevents.") for n in names)
    config = json.load(open(os.path.join(out, "config.json")))
    assert config["widths"] == [4, 8] and config["dataPath"] == os.path.abspath(data)
    rows = [json.loads(line) for line in open(os.path.join(out, "metrics.jsonl"))]
    validation = [r for r in rows if "validation" in r]
    assert [r["step"] for r in validation] == [3, 6] and len(validation[0]["validation"]) == 3
    tensors = load_file(os.path.join(out, "embeddings.safetensors"))
    assert tensors["embeddings"].shape == (32, 8) and tensors["masks"].shape == (3, 8)
    assert set(tensors["split"].tolist()) == {1, 2}


def test_resume_continues_exactly(tmp_path, data: str) -> None:
    straight, halves = str(tmp_path / "straight"), str(tmp_path / "halves")
    _train(data, straight, "--steps", "6", "--schedule", "constant", "--model", "task-specific")
    _train(data, halves, "--steps", "3", "--schedule", "constant", "--model", "task-specific")
    assert main(["train", "--resume", halves, "--steps", "6", "--quiet"]) == 0
    a = load_file(os.path.join(straight, "model.safetensors"))
    b = load_file(os.path.join(halves, "model.safetensors"))
    assert sorted(a) == sorted(b)
    for name in a:
        assert np.array_equal(a[name], b[name]), name
    assert load_file(os.path.join(halves, "embeddings.safetensors"))["embeddings"].shape == (32, 3, 8)


def test_refusals(tmp_path, data: str, capsys) -> None:
    out = str(tmp_path / "run")
    _train(data, out, "--steps", "2")
    assert main(["train", "--data", data, "--out", out, "--steps", "2"]) == 1
    assert "already holds a checkpoint; use --resume" in capsys.readouterr().err
    assert main(["train", "--resume", out, "--steps", "2"]) == 1
    assert "already finished its 2 steps" in capsys.readouterr().err
    assert main(["train", "--init-from", out, "--widths", "4,9", "--steps", "4", "--out", str(tmp_path / "x")]) == 1
    assert "tensor 'net0.conv1.weight' has shape [8, 4, 3, 3], expected [9, 4, 3, 3]" in capsys.readouterr().err
    bad = tmp_path / "bad.safetensors.gz"
    bad.write_bytes(b"\x1f\x8b" + b"\0" * 30)
    assert main(["train", "--data", str(bad), "--out", str(tmp_path / "y")]) == 1
    assert capsys.readouterr().err.startswith(f"error: {bad}: ")


def test_a_killed_writer_leaves_whole_files(tmp_path, data: str) -> None:
    out = str(tmp_path / "run")
    command = [sys.executable, "-m", "csn_torch", "train", "--data", data, "--out", out, "--widths", "4,8", "--dim", "8",
               "--batch", "12", "--steps", "100000", "--checkpoint-every", "1", "--validate-every", "1", "--quiet"]
    process = subprocess.Popen(command, cwd=PYTHON_DIR)
    try:
        deadline = time.monotonic() + 60
        while not os.path.exists(os.path.join(out, "best.safetensors")) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.5)
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()
    for name in ("model.safetensors", "best.safetensors"):
        load_file(os.path.join(out, name))  # whole files, never half
    json.load(open(os.path.join(out, "config.json")))
    # The next writer removes the dead one's temporaries and resumes from the last whole checkpoint.
    assert main(["train", "--resume", out, "--steps", str(int(load_file(os.path.join(out, "model.safetensors"))["step"][0]) + 1), "--quiet"]) == 0
    assert not [n for n in os.listdir(out) if ".tmp-" in n]


def test_embeddings_reader_checks_the_layout(tmp_path) -> None:
    from csn_torch import safetensors_io

    path = str(tmp_path / "e.safetensors")
    good = {"embeddings": np.zeros((3, 4), np.float32), "masks": np.ones((2, 4), np.float32)}
    meta = {"format": embeddings.FORMAT, "conditions": '["a","b"]'}
    open(path, "wb").write(safetensors_io.encode(good, meta))
    assert embeddings.read(path)[0]["embeddings"].shape == (3, 4)
    open(path, "wb").write(safetensors_io.encode({**good, "masks": np.ones((3, 4), np.float32)}, meta))
    with pytest.raises(CSNTorchError, match=r"tensor 'masks' has shape \[3, 4\], expected \[2, 4\]"):
        embeddings.read(path)
