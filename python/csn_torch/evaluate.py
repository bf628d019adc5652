"""Triplet accuracy as csn's Evaluator computes it (Sources/CSN/Evaluator.swift).

Per condition, the share of triplets with D_c(i, j) < D_c(i, l) (ties count as wrong), the
squared masked Euclidean distance in float32, batch norm in inference mode, each condition
judged by its own network.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .dataset import ImageDataset
from .model import CSNModel, images_to_tensor

EMBED_BATCH = 256  # csn embeds in chunks of 256 images; inference does not depend on it


@torch.no_grad()
def embed(model: CSNModel, network: int, dataset: ImageDataset, images: np.ndarray,
          device: torch.device, batch: int = EMBED_BATCH) -> torch.Tensor:
    """Embeddings [len(images), D] of `images` by network `network`, in eval mode."""
    net = model.network(network)
    was_training = net.training
    net.eval()
    out = []
    for start in range(0, len(images), batch):
        chunk = images[start:start + batch]
        out.append(net(images_to_tensor(dataset.images[chunk], device)))
    net.train(was_training)
    if not out:
        return torch.zeros(0, model.dimension, device=device)
    return torch.cat(out)


@torch.no_grad()
def accuracy_counts(model: CSNModel, dataset: ImageDataset, triplets: np.ndarray,
                    device: torch.device) -> tuple[list[int], list[int]]:
    """Per condition: triplets ordered right, triplets seen."""
    k = model.conditions
    masks = model.effective_masks().to(device)
    correct, seen = [0] * k, [0] * k
    conditions = triplets[:, 0].astype(np.int64)
    networks = np.array([model.network_index(int(c)) for c in range(k)], dtype=np.int64)
    for network in range(model.network_count):
        mine = triplets[networks[conditions] == network] if len(triplets) else triplets
        if len(mine) == 0:
            continue
        # Each distinct image once, as csn does.
        images, rows = np.unique(mine[:, 1:4].reshape(-1), return_inverse=True)
        rows = torch.from_numpy(rows.reshape(-1, 3)).to(device)
        vectors = embed(model, network, dataset, images.astype(np.int64), device)
        c = torch.from_numpy(mine[:, 0].astype(np.int64)).to(device)
        m = masks[c]
        a, p, n = vectors[rows[:, 0]], vectors[rows[:, 1]], vectors[rows[:, 2]]
        positive = ((a - p) * m).pow(2).sum(1)
        negative = ((a - n) * m).pow(2).sum(1)
        right = (positive < negative).long()
        correct_t = torch.zeros(k, dtype=torch.long, device=device).index_add_(0, c, right)
        seen_t = torch.zeros(k, dtype=torch.long, device=device).index_add_(0, c, torch.ones_like(right))
        for i in range(k):
            correct[i] += int(correct_t[i])
            seen[i] += int(seen_t[i])
    return correct, seen


def accuracy(model: CSNModel, dataset: ImageDataset, triplets: np.ndarray, device: torch.device) -> list[float]:
    """Accuracy per condition (NaN for a condition without triplets)."""
    correct, seen = accuracy_counts(model, dataset, triplets, device)
    return [c / s if s else math.nan for c, s in zip(correct, seen)]


def mean(accuracies: list[float]) -> float:
    present = [a for a in accuracies if not math.isnan(a)]
    return sum(present) / len(present) if present else math.nan


def subset(triplets: np.ndarray, per_condition: int, conditions: int) -> np.ndarray:
    """The first `per_condition` triplets of each condition, in list order (csn's validation subset)."""
    taken = [0] * conditions
    keep = []
    for t, c in enumerate(triplets[:, 0].tolist()):
        if taken[c] < per_condition:
            taken[c] += 1
            keep.append(t)
    return triplets[keep].reshape(len(keep), 4)


def table(conditions: list[str], rows: list[tuple[str, list[float]]], error: bool = False) -> str:
    """The accuracy table csn prints (AccuracyTable.render), two decimals per condition and the mean."""
    label_width = max([12] + [len(label) for label, _ in rows])
    columns = conditions + ["mean"]
    width = max(9, max(len(c) for c in columns) + 1)
    lines = [f"{'error' if error else 'accuracy'} (%)".ljust(label_width) + "".join(c.rjust(width) for c in columns)]
    for label, values in rows:
        cells = []
        for value in values + [mean(values)]:
            text = "     -" if math.isnan(value) else f"{100 * (1 - value if error else value):6.2f}"
            cells.append(text.rjust(width))
        lines.append(label.ljust(label_width) + "".join(cells))
    return "\n".join(lines)
