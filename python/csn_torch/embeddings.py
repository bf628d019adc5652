"""embeddings.safetensors (`csn-embeddings/1`, docs/run-formats.md): a run's val and test
embeddings with their masks and image indices, which csn opens without running the network.

Tensors: `embeddings` F32 [N, D] with `masks` F32 [K, D] (as applied, ReLU taken), or F32
[N, K, D] for task-specific networks (no masks); `image_index` I32 [N]; `split` U8 [N].
Metadata (strings): format, conditions (JSON list), dataset, model, backbone, step.
"""

from __future__ import annotations

import json
import os

import numpy as np
import torch

from . import runfolder, safetensors_io
from .dataset import ImageDataset
from .errors import CSNTorchError
from .evaluate import embed
from .model import CSNModel

FORMAT = "csn-embeddings/1"


def compute(model: CSNModel, dataset: ImageDataset, device: torch.device,
            splits: tuple[int, ...] = (1, 2)) -> dict[str, np.ndarray]:
    """The tensors of the file for the images of `splits`, in image order."""
    images = np.flatnonzero(np.isin(dataset.splits, splits)).astype(np.int64)
    if model.kind == "task-specific":
        per_condition = [embed(model, c, dataset, images, device).cpu().numpy() for c in range(model.conditions)]
        tensors = {"embeddings": np.stack(per_condition, axis=1).astype(np.float32)}
    else:
        tensors = {
            "embeddings": embed(model, 0, dataset, images, device).cpu().numpy().astype(np.float32),
            "masks": model.effective_masks().detach().cpu().numpy().astype(np.float32),
        }
    tensors["image_index"] = images.astype(np.int32)
    tensors["split"] = dataset.splits[images].astype(np.uint8)
    return tensors


def write(path: str, model: CSNModel, dataset: ImageDataset, device: torch.device, step: int,
          dataset_reference: str | None = None) -> int:
    """Writes the file atomically; `dataset_reference` is the path stored in its metadata
    (default: the dataset's absolute path). Returns the number of rows."""
    tensors = compute(model, dataset, device)
    metadata = {
        "format": FORMAT,
        "conditions": json.dumps(dataset.condition_names, ensure_ascii=False),
        "dataset": dataset_reference if dataset_reference is not None else os.path.abspath(dataset.path),
        "model": model.kind,
        # csn export names its own network csn-convnet; the same name for the same network.
        "backbone": "csn-convnet" if model.backbone == "convnet" else model.backbone,
        "step": str(step),
    }
    runfolder.atomic_write(path, safetensors_io.encode(tensors, metadata))
    return len(tensors["image_index"])


def read(path: str) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Reads and checks a file written by `write` (or any writer following run-formats.md)."""
    with open(path, "rb") as handle:
        archive = safetensors_io.decode(handle.read(), path)
    meta = archive.metadata
    if meta.get("format") != FORMAT:
        raise CSNTorchError.file(path, f"not a csn embeddings file (format '{meta.get('format', 'none')}', expected '{FORMAT}')")
    try:
        conditions = json.loads(meta.get("conditions", ""))
    except ValueError:
        conditions = None
    if not isinstance(conditions, list) or not conditions or not all(isinstance(c, str) for c in conditions):
        raise CSNTorchError.file(path, "the metadata's conditions are not a JSON list of names")
    k = len(conditions)
    vectors = archive.tensor("embeddings", "F32")
    if vectors.ndim == 3:
        if vectors.shape[1] != k:
            raise CSNTorchError.file(path, f"tensor 'embeddings' has shape {list(vectors.shape)}, expected [N, {k}, D]")
        if "masks" in archive.tensors:
            raise CSNTorchError.file(path, "[N, K, D] embeddings take no masks")
    elif vectors.ndim == 2:
        if "masks" in archive.tensors:
            archive.tensor("masks", "F32", [k, vectors.shape[1]])
    else:
        raise CSNTorchError.file(path, f"tensor 'embeddings' has shape {list(vectors.shape)}, expected [N, D] or [N, K, D]")
    n = vectors.shape[0]
    if "image_index" in archive.tensors:
        archive.tensor("image_index", "I32", [n])
    if "split" in archive.tensors:
        split = archive.tensor("split", "U8", [n])
        if (split > 2).any():
            raise CSNTorchError.file(path, "tensor 'split' holds a code other than 0, 1 or 2")
    return dict(archive.tensors), dict(meta)
