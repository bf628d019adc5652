"""Shared helpers: small synthetic csn datasets made in memory (no file from outside needed)."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from csn_torch.dataset import ImageDataset, encode  # noqa: E402
from csn_torch.testdata import synthetic_dataset  # noqa: E402,F401 (re-exported for the tests)

REPO = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
FONTS = os.path.join(REPO, "Assets", "fonts32.safetensors.gz")


@pytest.fixture
def small_dataset() -> ImageDataset:
    return synthetic_dataset()


@pytest.fixture
def small_dataset_bytes(small_dataset: ImageDataset) -> bytes:
    return encode(small_dataset)
