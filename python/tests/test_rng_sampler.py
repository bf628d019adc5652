"""csn's generator and sampler: same draws as csn, and every triplet obeys its condition."""

from __future__ import annotations

import os

import numpy as np
import pytest

from conftest import FONTS, synthetic_dataset
from csn_torch.dataset import load
from csn_torch.errors import CSNTorchError
from csn_torch.rng import SeededGenerator
from csn_torch.sampler import TripletSampler
from csn_torch.subset import evaluation_triplets


def test_splitmix_seeding_and_xoshiro_known_values() -> None:
    # SplitMix64 from 0 gives this first word (the reference implementation's published output).
    assert SeededGenerator(0).state[0] == 0xE220A8397B1DCDAF
    g = SeededGenerator(1)
    first = [g.next() for _ in range(3)]
    assert len(set(first)) == 3 and all(0 <= v < 1 << 64 for v in first)


def test_index_is_uniform_and_in_range() -> None:
    g = SeededGenerator(5)
    draws = [g.index(7) for _ in range(7000)]
    counts = np.bincount(draws, minlength=7)
    assert counts.min() > 850 and counts.max() < 1150


def test_state_round_trips_through_signed_words() -> None:
    g = SeededGenerator(123)
    for _ in range(10):
        g.next()
    copy = SeededGenerator.from_signed_state(g.signed_state())
    assert [copy.next() for _ in range(5)] == [g.next() for _ in range(5)]


@pytest.mark.skipif(not os.path.exists(FONTS), reason="the embedded fonts data is not in this checkout")
def test_fixed_lists_of_the_fonts_data_are_redrawn_exactly() -> None:
    # csn drew the file's val/test lists with seed 1; the same rule and generator give them back.
    d = load(FONTS)
    val, test = evaluation_triplets(d, 10000, 1)
    assert np.array_equal(val, d.val_triplets) and np.array_equal(test, d.test_triplets)


def test_triplets_obey_categorical_and_ordinal_rules() -> None:
    d = synthetic_dataset()
    sampler = TripletSampler(d, 0)
    g = SeededGenerator(3)
    batch = sampler.sample_mixed(300, 1, g)
    assert batch[:, 0].tolist()[:4] == [1, 2, 0, 1]  # conditions cycle from the first one
    for c, a, p, n in batch.tolist():
        condition = d.conditions[c]
        assert a != p
        assert condition.alike(np.array([a]), np.array([p]))[0]
        assert not condition.alike(np.array([a]), np.array([n]))[0]
        assert d.splits[a] == d.splits[p] == d.splits[n] == 0


def test_anchors_are_drawn_uniformly_over_images() -> None:
    d = synthetic_dataset()
    sampler = TripletSampler(d, 0)
    g = SeededGenerator(9)
    anchors = [sampler.sample(0, g)[1] for _ in range(6400)]
    counts = np.bincount(anchors, minlength=d.count)[d.indices_in(0)]
    assert counts.min() > 50 and counts.max() < 150  # 64 train images, 100 each on average


def test_a_condition_without_triplets_is_named() -> None:
    d = synthetic_dataset()
    d.conditions[1].labels[:] = 0  # every image alike: no negative exists
    with pytest.raises(CSNTorchError, match="condition 'style' cannot give triplets in the train split"):
        TripletSampler(d, 0)
    assert 1 in TripletSampler(d, 0, require_all=False).unavailable
