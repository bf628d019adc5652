"""csn checkpoints (Sources/CSN/Checkpoint.swift) written and read by PyTorch.

model.safetensors / best.safetensors hold, by csn's names: every parameter ("net0.conv0.weight"
[Cout, Cin, 3, 3], "net0.bn0.weight", ..., "net0.fc.weight" [D, F], "masks" [K, D] for learned
masks), the batch-norm running statistics ("net0.bn0.running_mean", "...running_var"), Adam's
moments flat in the parameter order ("optimizer.m", "optimizer.v"), "effective_masks" [K, D],
"step" (I64 [1]), the sampler's generator state "rng" (I64 [4]) and "best_validation" (F32 [1]);
metadata format "csn-checkpoint/1" and the model kind. That is what csn needs to open the run
(eval, explore, neighbours) and to resume it.

A ResNet-18 run, which csn cannot run, keeps the same layout under torchvision's names with
format "csn-torch-checkpoint/1", so csn refuses it plainly and the PyTorch trainer resumes it.
"""

from __future__ import annotations

import math
import os

import numpy as np
import torch

from . import runfolder, safetensors_io
from .config import MAX_STEPS, TrainingConfig
from .dataset import DEFAULT_MAX_BYTES, read_file
from .errors import CSNTorchError
from .model import CSNModel
from .rng import SeededGenerator

CSN_FORMAT = "csn-checkpoint/1"
TORCH_FORMAT = "csn-torch-checkpoint/1"


def checkpoint_format(model: CSNModel) -> str:
    return CSN_FORMAT if model.backbone == "convnet" else TORCH_FORMAT


def _flat_moments(model: CSNModel, optimizer: torch.optim.Optimizer | None) -> tuple[np.ndarray, np.ndarray]:
    first, second = [], []
    for _, parameter in model.store_order():
        state = optimizer.state.get(parameter, {}) if optimizer is not None else {}
        zeros = torch.zeros_like(parameter)
        first.append(state.get("exp_avg", zeros).detach().reshape(-1).float().cpu())
        second.append(state.get("exp_avg_sq", zeros).detach().reshape(-1).float().cpu())
    return torch.cat(first).numpy(), torch.cat(second).numpy()


def encode(model: CSNModel, optimizer: torch.optim.Optimizer | None, step: int, generator: SeededGenerator,
           best_validation: float) -> bytes:
    """The checkpoint's bytes."""
    tensors: dict[str, np.ndarray] = {}
    for name, parameter in model.store_order():
        tensors[name] = parameter.detach().float().cpu().numpy()
    for name, buffer in model.running_statistics().items():
        tensors[name] = buffer.detach().float().cpu().numpy()
    tensors["optimizer.m"], tensors["optimizer.v"] = _flat_moments(model, optimizer)
    tensors["effective_masks"] = model.effective_masks().detach().float().cpu().numpy()
    tensors["step"] = np.array([step], dtype=np.int64)
    tensors["rng"] = np.array(generator.signed_state(), dtype=np.int64)
    tensors["best_validation"] = np.array([best_validation], dtype=np.float32)
    metadata = {"format": checkpoint_format(model), "model": model.kind}
    if model.backbone != "convnet":
        metadata["backbone"] = model.backbone
    return safetensors_io.encode(tensors, metadata)


def save(directory: str, config: TrainingConfig, model: CSNModel, optimizer: torch.optim.Optimizer | None,
         step: int, generator: SeededGenerator, best_validation: float, is_best: bool = False,
         condition_names: list[str] | None = None) -> None:
    """config.json, model.safetensors and (when `is_best`) best.safetensors, each written atomically."""
    runfolder.atomic_write(os.path.join(directory, runfolder.CONFIG), config.to_json(condition_names).encode("utf-8"))
    data = encode(model, optimizer, step, generator, best_validation)
    runfolder.atomic_write(os.path.join(directory, runfolder.MODEL), data)
    if is_best:
        runfolder.atomic_write(os.path.join(directory, runfolder.BEST), data)


def load_config(directory: str) -> TrainingConfig:
    from .config import parse

    path = os.path.join(directory, runfolder.CONFIG)
    return parse(read_file(path, 1 << 20), path)


def open_archive(path: str, model: CSNModel, max_bytes: int = DEFAULT_MAX_BYTES) -> safetensors_io.Archive:
    archive = safetensors_io.decode(read_file(path, max_bytes), path)
    found = archive.metadata.get("format")
    if found != checkpoint_format(model):
        if found == TORCH_FORMAT:
            raise CSNTorchError.file(path, f"holds {archive.metadata.get('backbone', 'another backbone')} weights, "
                                           "not csn's small ConvNet")
        if found == CSN_FORMAT:
            raise CSNTorchError.file(path, f"holds csn's small ConvNet, not a {model.backbone} backbone")
        raise CSNTorchError.file(path, "not a csn checkpoint")
    if archive.metadata.get("model") != model.kind:
        raise CSNTorchError.file(
            path, f"holds a {archive.metadata.get('model', '?')} model, but the config says {model.kind}")
    return archive


def _require_finite(values: np.ndarray, name: str, path: str) -> None:
    bad = np.flatnonzero(~np.isfinite(values.reshape(-1)))
    if bad.size:
        raise CSNTorchError.file(path, f"tensor '{name}' holds {values.reshape(-1)[bad[0]]} at index {bad[0]}")


def restore_weights(model: CSNModel, archive: safetensors_io.Archive) -> int:
    """Parameters and batch-norm statistics into `model`; returns the step they were saved at.
    A tensor of another shape (other widths or dimension) is an error naming it."""
    path = archive.source
    with torch.no_grad():
        targets = list(model.store_order()) + list(model.running_statistics().items())
        for name, target in targets:
            values = archive.tensor(name, "F32", list(target.shape))
            _require_finite(values, name, path)
            target.copy_(torch.from_numpy(values.copy()))
    step = int(archive.tensor("step", "I64", [1])[0])
    if not 0 <= step <= MAX_STEPS:
        raise CSNTorchError.file(path, f"tensor 'step' holds {step}, expected 0 to {MAX_STEPS}")
    return step


def restore_training_state(model: CSNModel, optimizer: torch.optim.Optimizer, archive: safetensors_io.Archive,
                           step: int) -> tuple[SeededGenerator, float]:
    """Adam's moments (at `step`), the sampler's generator and the best validation accuracy."""
    path = archive.source
    count = sum(p.numel() for p in model.parameters())
    first = archive.tensor("optimizer.m", "F32", [count])
    second = archive.tensor("optimizer.v", "F32", [count])
    _require_finite(first, "optimizer.m", path)
    _require_finite(second, "optimizer.v", path)
    negative = np.flatnonzero(second < 0)
    if negative.size:
        raise CSNTorchError.file(
            path, f"tensor 'optimizer.v' holds the negative second moment {second[negative[0]]} at index {negative[0]}")
    words = archive.tensor("rng", "I64", [4]).tolist()
    if not any(words):
        raise CSNTorchError.file(path, "tensor 'rng' is all zeros, which is not a generator state")
    best = float(archive.tensor("best_validation", "F32", [1])[0])
    if not (math.isnan(best) or best == -math.inf or 0 <= best <= 1):
        raise CSNTorchError.file(path, f"tensor 'best_validation' holds {best}, expected an accuracy between 0 and 1")
    if step > 0:
        offset = 0
        for _, parameter in model.store_order():
            n = parameter.numel()
            shape = tuple(parameter.shape)
            optimizer.state[parameter] = {
                "step": torch.tensor(float(step)),
                "exp_avg": torch.from_numpy(first[offset:offset + n].copy()).reshape(shape).to(parameter.device),
                "exp_avg_sq": torch.from_numpy(second[offset:offset + n].copy()).reshape(shape).to(parameter.device),
            }
            offset += n
    return SeededGenerator.from_signed_state(words), (-math.inf if math.isnan(best) else best)
