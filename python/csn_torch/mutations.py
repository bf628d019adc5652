"""Seeded mutations of a file's bytes, for fuzzing the dataset reader (tests/test_fuzz.py) and
for comparing its refusals with csn's (interop_check.py): raw byte damage, one changed field of
the safetensors header (re-encoded with a correct length), and damaged data bytes."""

from __future__ import annotations

import json
import random
import struct


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
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


def random_json(rng: random.Random, depth: int = 0) -> object:
    choices = [None, True, -1, 0, 2, 1 << 40, 1.5, "", "x", "U8", "I32", "F32", [], {}]
    if depth < 2:
        choices += [[random_json(rng, depth + 1) for _ in range(rng.randint(1, 3))],
                    {"name": random_json(rng, depth + 1), "values": random_json(rng, depth + 1)}]
    return rng.choice(choices)


def mutate_header(data: bytes, rng: random.Random) -> bytes:
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
                value[rng.randrange(len(value))] = random_json(rng)
            elif isinstance(value, dict) and value:
                value[rng.choice(sorted(value))] = random_json(rng)
            else:
                value = random_json(rng)
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
            entry[field] = random_json(rng)
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data[8 + length:]


def mutate_data(data: bytes, rng: random.Random) -> bytes:
    """Changes bytes after the header: labels, splits, triplets, ordinal values."""
    start = 8 + struct.unpack("<Q", data[:8])[0]
    buffer = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        at = rng.randrange(start, len(buffer))
        buffer[at] = rng.choice([0, 1, 2, 3, 0x7F, 0x80, 0xFF, rng.randrange(256)])
    return bytes(buffer)


MUTATORS = (mutate_bytes, mutate_header, mutate_data)
