"""Small synthetic csn datasets made in memory, for the unit tests and the interop checks."""

from __future__ import annotations

import numpy as np

from .dataset import Condition, ImageDataset
from .subset import evaluation_triplets


def synthetic_dataset(groups: int = 12, per_group: int = 8, size: int = 8, seed: int = 0,
                      triplets: int = 20) -> ImageDataset:
    """Random images; a categorical 'shape' (per image), a categorical 'style' (per group) and an
    ordinal 'height' (per group, alike within 1.5); groups split 8/2/2 (of 12)."""
    rng = np.random.default_rng(seed)
    n = groups * per_group
    group = np.repeat(np.arange(groups), per_group).astype(np.int32)
    split = np.where(group < groups * 2 // 3, 0, np.where(group < groups * 5 // 6, 1, 2)).astype(np.uint8)
    shape = np.tile(np.arange(per_group) % 4, groups).astype(np.int32)
    style = (group % 3).astype(np.int32)
    height_of_group = np.array([0, 1, 2, 3.5, 5, 6, 0.5, 4, 2.5, 6.5, 1, 3][:groups] * (groups // 12 + 1), np.float32)[:groups]
    height = height_of_group[group].astype(np.float32)
    distinct = sorted(set(height.tolist()))
    height_labels = np.array([distinct.index(v) for v in height.tolist()], np.int32)
    d = ImageDataset(
        path="(synthetic)", image_size=size, channels=1,
        images=rng.integers(0, 256, size=(n, 1, size, size), dtype=np.uint8),
        image_names=[f"g{g}/{i}" for g in range(groups) for i in range(per_group)],
        conditions=[
            Condition("shape", ["a", "b", "c", "d"], shape, "categorical"),
            Condition("style", ["x", "y", "z"], style, "categorical"),
            Condition("height", [str(v) for v in distinct], height_labels, "ordinal", height, np.float32(1.5)),
        ],
        groups=group, group_names=[f"g{g}" for g in range(groups)], splits=split,
        train_triplets=np.zeros((0, 4), np.int32), val_triplets=np.zeros((0, 4), np.int32),
        test_triplets=np.zeros((0, 4), np.int32), metadata={"provenance": "{}"},
    )
    d.val_triplets, d.test_triplets = evaluation_triplets(d, triplets, seed + 1)
    return d
