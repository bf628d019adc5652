"""Conditional triplets drawn as csn draws them (Sources/Datasets/TripletSampler.swift).

Per condition the split's images are kept sorted by value, so the images alike to an anchor form
one contiguous range: the anchor is drawn uniformly over the images that have both an alike and
an unlike image, the positive inside its range, the negative outside. With csn's generator the
draws are the same, triplet for triplet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .dataset import SPLIT_NAMES, ImageDataset
from .errors import CSNTorchError
from .rng import SeededGenerator


@dataclass
class _AlikeIndex:
    order: list[int]  # the split's images sorted by value
    anchors: list[int]  # possible anchors, in image order
    range_start: list[int]  # order[range_start[a]:range_end[a]] are the images alike to anchors[a]
    range_end: list[int]


def _categorical_index(labels: np.ndarray, value_count: int, members: np.ndarray) -> _AlikeIndex:
    values = labels[members].astype(np.int64)
    counts = np.bincount(values, minlength=value_count)
    starts = np.concatenate([[0], np.cumsum(counts)])
    # A stable sort by value keeps image order inside each value: csn's counting sort.
    order = members[np.argsort(values, kind="stable")]
    size = counts[values]
    keep = (size >= 2) & (size < len(members))
    return _AlikeIndex(
        order=order.tolist(), anchors=members[keep].tolist(),
        range_start=starts[values[keep]].tolist(), range_end=starts[values[keep] + 1].tolist(),
    )


def _ordinal_index(values: np.ndarray, threshold: np.float32, members: np.ndarray) -> _AlikeIndex:
    member_values = values[members]
    order = members[np.lexsort((members, member_values))]  # by (value, image)
    ordered = values[order]
    low = high = 0
    anchors, starts, ends = [], [], []
    with np.errstate(over="ignore"):
        for position in range(len(order)):
            value = ordered[position]
            while not abs(ordered[low] - value) <= threshold:
                low += 1
            while high < len(ordered) and abs(ordered[high] - value) <= threshold:
                high += 1
            if 2 <= high - low < len(order):
                anchors.append(int(order[position]))
                starts.append(low)
                ends.append(high)
    by_image = sorted(range(len(anchors)), key=lambda i: anchors[i])
    return _AlikeIndex(
        order=order.tolist(), anchors=[anchors[i] for i in by_image],
        range_start=[starts[i] for i in by_image], range_end=[ends[i] for i in by_image],
    )


class TripletSampler:
    """Draws triplets of one split; fails naming the condition if one cannot give triplets."""

    def __init__(self, dataset: ImageDataset, split: int, require_all: bool = True) -> None:
        self.split = split
        self.condition_count = len(dataset.conditions)
        members = dataset.indices_in(split)
        split_name = SPLIT_NAMES[split]
        if members.size == 0:
            raise CSNTorchError(f"the {split_name} split of the dataset is empty")
        self.index: list[_AlikeIndex | None] = []
        self.unavailable: dict[int, str] = {}
        for c, condition in enumerate(dataset.conditions):
            entry: _AlikeIndex | None = None
            if condition.rule == "categorical":
                entry = _categorical_index(condition.labels, len(condition.value_names), members)
            elif condition.rule == "ordinal":
                assert condition.values is not None and condition.threshold is not None
                entry = _ordinal_index(condition.values, condition.threshold, members)
            if entry is None or not entry.anchors:
                reason = (
                    f"condition '{condition.name}' has no attributes, only triplet lists, so triplets cannot be drawn for it"
                    if condition.rule == "listed"
                    else f"condition '{condition.name}' cannot give triplets in the {split_name} split: "
                    "no image there has both an alike and an unlike image"
                )
                if require_all:
                    raise CSNTorchError(reason)
                self.unavailable[c] = reason
                entry = None
            self.index.append(entry)
        if all(e is None for e in self.index):
            raise CSNTorchError(f"no condition can give triplets in the {split_name} split")

    def can_sample(self, condition: int) -> bool:
        return self.index[condition] is not None

    def sample(self, condition: int, generator: SeededGenerator) -> tuple[int, int, int, int]:
        """One triplet (condition, anchor, positive, negative), with csn's draws in csn's order."""
        entry = self.index[condition]
        if entry is None:
            raise CSNTorchError(self.unavailable.get(condition, "no such condition"))
        a = generator.index(len(entry.anchors))
        anchor = entry.anchors[a]
        start, end = entry.range_start[a], entry.range_end[a]
        positive = anchor
        while positive == anchor:
            positive = entry.order[start + generator.index(end - start)]
        outside = len(entry.order) - (end - start)
        r = generator.index(outside)
        negative = entry.order[r if r < start else r + (end - start)]
        return condition, anchor, positive, negative

    def sample_mixed(self, count: int, first_condition: int, generator: SeededGenerator) -> np.ndarray:
        """`count` triplets whose conditions cycle from `first_condition`: a batch mixes them evenly."""
        rows = [self.sample((first_condition + t) % self.condition_count, generator) for t in range(count)]
        return np.array(rows, dtype=np.int32).reshape(count, 4)

    def sample_fixed(self, per_condition: int, generator: SeededGenerator) -> np.ndarray:
        """A fixed list, condition by condition, of `per_condition` triplets each."""
        rows = [
            self.sample(c, generator)
            for c in range(self.condition_count)
            if self.can_sample(c)
            for _ in range(per_condition)
        ]
        return np.array(rows, dtype=np.int32).reshape(len(rows), 4)
