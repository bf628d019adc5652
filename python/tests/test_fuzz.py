"""Seeded fuzz of the dataset reader: mutated bytes give the package's error or a valid dataset,
never another exception. CSN_TORCH_FUZZ_CASES sets the number of cases (default 600)."""

from __future__ import annotations

import gzip
import json
import os
import random
import struct

import pytest

from csn_torch.dataset import decode, gunzip
from csn_torch.errors import CSNTorchError

CASES = int(os.environ.get("CSN_TORCH_FUZZ_CASES", "600"))


def _mutate(data: bytes, rng: random.Random) -> bytes:
    buffer = bytearray(data)
    header_end = 8 + struct.unpack("<Q", data[:8])[0] if len(data) >= 8 else len(data)
    for _ in range(rng.randint(1, 6)):
        kind = rng.randrange(7)
        # Most mutations land in the header, where the reader's decisions are.
        at = rng.randrange(min(len(buffer), header_end + 64)) if buffer else 0
        if kind == 0 and buffer:
            buffer[at] = rng.randrange(256)
        elif kind == 1 and buffer:
            buffer[at] ^= 1 << rng.randrange(8)
        elif kind == 2:
            del buffer[at:at + rng.randint(1, 16)]
        elif kind == 3:
            buffer[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        elif kind == 4 and buffer:
            digits = b"0123456789-[]{},:\"."
            buffer[at] = digits[rng.randrange(len(digits))]
        elif kind == 5:
            buffer = buffer[: rng.randrange(len(buffer) + 1)]
        elif kind == 6 and len(buffer) >= 8:
            buffer[0:8] = struct.pack("<Q", rng.choice([0, 1, 2, len(buffer), len(buffer) - 8, 1 << 62, rng.randrange(1 << 20)]))
    return bytes(buffer)


def _random_json(rng: random.Random, depth: int = 0) -> object:
    choices = [None, True, -1, 0, 2, 1 << 40, 1.5, "", "x", "U8", "I32", "F32", [], {}]
    if depth < 2:
        choices += [[_random_json(rng, depth + 1) for _ in range(rng.randint(1, 3))],
                    {"name": _random_json(rng, depth + 1), "values": _random_json(rng, depth + 1)}]
    return rng.choice(choices)


def _mutate_header(data: bytes, rng: random.Random) -> bytes:
    """Changes one field of the parsed header (a tensor entry or a metadata JSON text) and
    re-encodes it with a correct length, so the checks after the JSON parse are reached."""
    length = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + length])
    name = rng.choice(sorted(header))
    if name == "__metadata__":
        meta = header[name]
        key = rng.choice(sorted(meta))
        text = meta[key]
        if rng.random() < 0.5 and text:
            try:
                value = json.loads(text)
            except ValueError:
                value = text
            if isinstance(value, list) and value:
                value[rng.randrange(len(value))] = _random_json(rng)
            elif isinstance(value, dict) and value:
                value[rng.choice(sorted(value))] = _random_json(rng)
            else:
                value = _random_json(rng)
            meta[key] = json.dumps(value)
        elif rng.random() < 0.5:
            at = rng.randrange(len(text) + 1)
            meta[key] = text[:at] + rng.choice(["", "\u0000", "\x1b", "9", "]", "-", "\u202e"]) + text[at + 1:]
        else:
            del meta[key]
    else:
        entry = header[name]
        field = rng.choice(["dtype", "shape", "data_offsets", None])
        if field is None:
            del header[name]
        elif rng.random() < 0.5 and isinstance(entry[field], list) and entry[field]:
            i = rng.randrange(len(entry[field]))
            entry[field][i] = rng.choice([0, 1, -1, entry[field][i] + 1, entry[field][i] - 1, 1 << 62])
        else:
            entry[field] = _random_json(rng)
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data[8 + length:]


def _mutate_data(data: bytes, rng: random.Random) -> bytes:
    """Changes bytes after the header: labels, splits, triplets, ordinal values."""
    start = 8 + struct.unpack("<Q", data[:8])[0]
    buffer = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        at = rng.randrange(start, len(buffer))
        buffer[at] = rng.choice([0, 1, 2, 3, 0x7F, 0x80, 0xFF, rng.randrange(256)])
    return bytes(buffer)


def _read(data: bytes) -> None:
    try:
        decode(data, "fuzz")
    except CSNTorchError:
        pass


@pytest.mark.parametrize("seed", range(4))
def test_mutated_safetensors_never_escape(small_dataset_bytes: bytes, seed: int) -> None:
    rng = random.Random(1000 + seed)
    for _ in range(CASES // 4):
        _read(_mutate(small_dataset_bytes, rng))


@pytest.mark.parametrize("seed", range(4))
def test_mutated_headers_never_escape(small_dataset_bytes: bytes, seed: int) -> None:
    rng = random.Random(2000 + seed)
    for _ in range(CASES // 4):
        data = small_dataset_bytes
        for _ in range(rng.randint(1, 3)):
            data = _mutate_header(data, rng)
        _read(data)


@pytest.mark.parametrize("seed", range(4))
def test_mutated_data_never_escapes(small_dataset_bytes: bytes, seed: int) -> None:
    rng = random.Random(3000 + seed)
    for _ in range(CASES // 4):
        _read(_mutate_data(small_dataset_bytes, rng))


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
