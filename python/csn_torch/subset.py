"""A small dataset cut from a csn dataset: some groups of each split, some images of each group,
with new fixed val/test triplets drawn as csn draws them (ImageDataset.sampleEvaluationTriplets).
For test fixtures and quick runs; `python -m csn_torch.subset --help`.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from .dataset import Condition, ImageDataset, load, save, validate
from .errors import CSNTorchError
from .rng import SeededGenerator
from .sampler import TripletSampler

EVALUATION_SEED_SALT = 0x5641_4C5F_5445_5354


def _spread(items: np.ndarray, count: int) -> np.ndarray:
    """`count` items spread evenly over `items` (all of them when there are fewer)."""
    if count >= len(items):
        return items
    return items[np.linspace(0, len(items) - 1, count).round().astype(int)]


def evaluation_triplets(d: ImageDataset, per_condition: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """csn's fixed val and test lists: one generator, the val split's draws first."""
    generator = SeededGenerator(seed ^ EVALUATION_SEED_SALT)
    val = TripletSampler(d, 1, require_all=False)
    test = TripletSampler(d, 2, require_all=False)
    return val.sample_fixed(per_condition, generator), test.sample_fixed(per_condition, generator)


def cut(d: ImageDataset, groups_per_split: tuple[int, int, int], images_per_group: int,
        per_condition: int, seed: int) -> ImageDataset:
    """Groups spread over each split, images spread over each group, new evaluation triplets."""
    chosen_groups = []
    for split, count in enumerate(groups_per_split):
        in_split = np.unique(d.groups[d.splits == split])
        chosen_groups.extend(_spread(in_split, count).tolist())
    keep = []
    for group in sorted(chosen_groups):
        members = np.flatnonzero(d.groups == group)
        keep.extend(_spread(members, images_per_group).tolist())
    images = np.array(sorted(keep), dtype=np.int64)
    old_groups = sorted(set(d.groups[images].tolist()))
    renumber = {g: i for i, g in enumerate(old_groups)}
    conditions = [
        Condition(c.name, c.value_names, np.ascontiguousarray(c.labels[images]), c.rule,
                  None if c.values is None else np.ascontiguousarray(c.values[images]), c.threshold)
        for c in d.conditions
    ]
    metadata = dict(d.metadata)
    if "fonts" in metadata:
        # csn reads a font list as "62 characters per font, font by font"; keep it only for whole fonts.
        whole = all((d.groups[images] == g).sum() == (d.groups == g).sum() == 62 for g in old_groups)
        if whole:
            fonts = json.loads(metadata["fonts"])
            metadata["fonts"] = json.dumps([fonts[g] for g in old_groups], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        else:
            del metadata["fonts"]
    metadata["provenance"] = json.dumps({
        "kind": "subset", "source": d.path, "seed": str(seed),
        "command": f"python -m csn_torch.subset --groups {','.join(map(str, groups_per_split))} "
                   f"--images-per-group {images_per_group} --triplets {per_condition} --seed {seed}",
    }, sort_keys=True, separators=(",", ":"))
    small = ImageDataset(
        path=d.path, image_size=d.image_size, channels=d.channels, images=np.ascontiguousarray(d.images[images]),
        image_names=[d.image_names[i] for i in images], conditions=conditions,
        groups=np.array([renumber[g] for g in d.groups[images].tolist()], dtype=np.int32),
        group_names=[d.group_names[g] for g in old_groups], splits=np.ascontiguousarray(d.splits[images]),
        train_triplets=np.zeros((0, 4), np.int32), val_triplets=np.zeros((0, 4), np.int32),
        test_triplets=np.zeros((0, 4), np.int32), metadata=metadata,
    )
    small.val_triplets, small.test_triplets = evaluation_triplets(small, per_condition, seed)
    validate(small, "(subset)")
    return small


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m csn_torch.subset", description=__doc__)
    parser.add_argument("--data", required=True, help="The dataset to cut from.")
    parser.add_argument("--groups", default="8,2,2", help="Groups (fonts) kept in train,val,test (default 8,2,2).")
    parser.add_argument("--images-per-group", type=int, default=16)
    parser.add_argument("--triplets", type=int, default=100, help="Fixed val/test triplets per condition.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", required=True)
    options = parser.parse_args(argv)
    try:
        counts = tuple(int(v) for v in options.groups.split(","))
        if len(counts) != 3 or min(counts) < 1:
            raise CSNTorchError(f"--groups needs three positive numbers (train,val,test), not '{options.groups}'")
        small = cut(load(options.data), counts, options.images_per_group, options.triplets, options.seed)  # type: ignore[arg-type]
        save(small, options.out)
    except (CSNTorchError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {options.out}: {small.count} images, {len(small.group_names)} groups, "
          f"{len(small.val_triplets)} val and {len(small.test_triplets)} test triplets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
