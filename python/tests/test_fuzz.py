"""Seeded fuzz of the dataset reader: mutated bytes give the package's error or a valid dataset,
never another exception. CSN_TORCH_FUZZ_CASES sets the number of cases (default 600)."""

from __future__ import annotations

import gzip
import os
import random

import pytest

from csn_torch.dataset import decode, gunzip
from csn_torch.errors import CSNTorchError
from csn_torch.mutations import mutate_bytes, mutate_data, mutate_header

CASES = int(os.environ.get("CSN_TORCH_FUZZ_CASES", "600"))


def _read(data: bytes) -> None:
    try:
        decode(data, "fuzz")
    except CSNTorchError:
        pass


@pytest.mark.parametrize("seed", range(4))
def test_mutated_safetensors_never_escape(small_dataset_bytes: bytes, seed: int) -> None:
    rng = random.Random(1000 + seed)
    for _ in range(CASES // 4):
        _read(mutate_bytes(small_dataset_bytes, rng))


@pytest.mark.parametrize("seed", range(4))
def test_mutated_headers_never_escape(small_dataset_bytes: bytes, seed: int) -> None:
    rng = random.Random(2000 + seed)
    for _ in range(CASES // 4):
        data = small_dataset_bytes
        for _ in range(rng.randint(1, 3)):
            data = mutate_header(data, rng)
        _read(data)


@pytest.mark.parametrize("seed", range(4))
def test_mutated_data_never_escapes(small_dataset_bytes: bytes, seed: int) -> None:
    rng = random.Random(3000 + seed)
    for _ in range(CASES // 4):
        _read(mutate_data(small_dataset_bytes, rng))


def test_mutated_gzip_never_escapes(small_dataset_bytes: bytes) -> None:
    rng = random.Random(77)
    compressed = gzip.compress(small_dataset_bytes)
    for _ in range(CASES // 4):
        buffer = bytearray(compressed)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(buffer))
            buffer[at] = rng.randrange(256)
        if rng.random() < 0.3:
            buffer = buffer[: rng.randrange(len(buffer))]
        try:
            _read(gunzip(bytes(buffer), "fuzz", max_bytes=1 << 22))
        except CSNTorchError:
            pass
