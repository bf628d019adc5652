"""The dataset reader: round trips, and the refusals csn gives for damaged or inconsistent files."""

from __future__ import annotations

import gzip
import json
import struct

import numpy as np
import pytest

from conftest import synthetic_dataset
from csn_torch import safetensors_io
from csn_torch.dataset import decode, encode, gunzip, load, save
from csn_torch.errors import CSNTorchError


def test_round_trip_keeps_every_part(tmp_path) -> None:
    d = synthetic_dataset()
    path = str(tmp_path / "d.safetensors.gz")
    save(d, path)
    back = load(path)
    assert back.condition_names == ["shape", "style", "height"]
    assert back.conditions[2].rule == "ordinal" and back.conditions[2].threshold == np.float32(1.5)
    assert np.array_equal(back.images, d.images)
    assert np.array_equal(back.val_triplets, d.val_triplets)
    assert np.array_equal(back.test_triplets, d.test_triplets)


def _with_header(data: bytes, change) -> bytes:
    length = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + length])
    change(header)
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data[8 + length:]


def _meta(key: str, value: str):
    def change(header: dict) -> None:
        header["__metadata__"][key] = value
    return change


@pytest.mark.parametrize("change, message", [
    (_meta("format", "other/1"), "not a csn dataset (format 'other/1', expected 'csn-dataset/1')"),
    (_meta("image_size", "x"), "the header lacks image_size or channels"),
    (_meta("channels", "2"), "image_size 8 with 2 channel(s) is not supported"),
    (_meta("conditions", "{}"), "the header's conditions are not a JSON list"),
    (_meta("groups", "[1]"), "the header's group or image names are not JSON lists of strings"),
    (_meta("conditions", '[{"name":"shape","values":["a"],"rule":"odd"}]'), "condition 'shape' has an unknown rule 'odd'"),
    (_meta("conditions", '[{"name":"height","values":["a"],"rule":"ordinal"}]'), "ordinal condition 'height' lacks a threshold"),
    (_meta("conditions", '[{"name":"missing","values":["a"]}]'), "missing tensor 'condition.missing'"),
    (_meta("conditions", '[{"name":"shape","values":["a"]}]'), "image 1 has value 1 for condition 'shape', which has 1 values"),
    (_meta("conditions", "[]"), "the dataset has no conditions"),
    (_meta("fonts", "[1]"), "the header's font list is malformed"),
    (lambda h: h["split"].update(dtype="I32"), "tensor 'split' has 96 bytes but shape [96] of I32 needs 384"),
    (lambda h: h["images"].update(shape=[96, 8, 9]), "tensor 'images' has 6144 bytes but shape [96, 8, 9] of U8 needs 6912"),
    (lambda h: h["triplets.val"].update(data_offsets=[0, 1 << 40]), "ends at byte 1099511627776"),
    (lambda h: h["group"].update(dtype="F16"), "tensor 'group' has unsupported dtype F16"),
    (lambda h: h["group"].update(shape=[-1]), "tensor 'group' has a negative shape or offsets"),
    (lambda h: h["group"].update(shape=[1 << 40, 1 << 40]), "whose size overflows"),
    (lambda h: h.update(__metadata__={"format": 1}), "__metadata__ must map strings to strings"),
])
def test_header_damage_is_refused_with_csn_words(small_dataset_bytes: bytes, change, message: str) -> None:
    with pytest.raises(CSNTorchError) as caught:
        decode(_with_header(small_dataset_bytes, change), "d.safetensors")
    assert str(caught.value).startswith("d.safetensors: ")
    assert message in str(caught.value)


def test_inconsistent_parts_are_refused() -> None:
    d = synthetic_dataset()
    d.splits = d.splits.copy()
    d.splits[d.val_triplets[0, 1]] = 2  # the first val triplet's anchor moves to test
    with pytest.raises(CSNTorchError, match="val triplet 0 uses an image from another split"):
        decode(encode(d), "x")
    d = synthetic_dataset()
    d.test_triplets = d.test_triplets.copy()
    d.test_triplets[3, 2] = d.test_triplets[3, 3]  # positive = negative
    with pytest.raises(CSNTorchError, match="test triplet 3 does not match its condition's labels"):
        decode(encode(d), "x")
    d = synthetic_dataset()
    d.image_names = list(d.image_names)
    d.image_names[5] = "bad\x1b[2Jname"
    with pytest.raises(CSNTorchError, match=r"image name 5 \('bad\\x1B\[2Jname'\) holds a control character"):
        decode(encode(d), "x")
    d = synthetic_dataset()
    d.splits = np.where(d.splits == 1, 0, d.splits).astype(np.uint8)
    d.val_triplets = np.zeros((0, 4), np.int32)
    with pytest.raises(CSNTorchError, match="the val split is empty"):
        decode(encode(d), "x")


def test_gzip_members_padding_and_trailing_data(small_dataset_bytes: bytes) -> None:
    whole = gzip.compress(small_dataset_bytes)
    half = len(small_dataset_bytes) // 2
    members = gzip.compress(small_dataset_bytes[:half]) + gzip.compress(small_dataset_bytes[half:])
    assert gunzip(members, "x") == small_dataset_bytes
    assert gunzip(whole + b"\0" * 16, "x") == small_dataset_bytes
    with pytest.raises(CSNTorchError, match="holds 5 bytes of other data after the gzip stream"):
        gunzip(whole + b"extra", "x")
    with pytest.raises(CSNTorchError, match="truncated gzip data"):
        gunzip(whole[: len(whole) // 2], "x")
    with pytest.raises(CSNTorchError, match="not a gzip file"):
        gunzip(b"plain text, not gzip at all", "x")
    with pytest.raises(CSNTorchError, match="decompresses to more than 1024 bytes, the memory limit"):
        gunzip(whole, "x", max_bytes=1024)


def test_files_that_are_not_files(tmp_path) -> None:
    with pytest.raises(CSNTorchError, match="no such file"):
        load(str(tmp_path / "absent.safetensors.gz"))
    with pytest.raises(CSNTorchError, match="is a folder, not a file"):
        load(str(tmp_path))
    with pytest.raises(CSNTorchError, match="too short for a safetensors file"):
        decode(b"1234", "x")
    with pytest.raises(CSNTorchError, match="does not fit in a file"):
        decode(struct.pack("<Q", 1 << 40) + b"{}", "x")
    with pytest.raises(CSNTorchError, match="the safetensors header is not a JSON object"):
        decode(struct.pack("<Q", 4) + b"[1] ", "x")


def test_safetensors_layout_is_csns() -> None:
    data = safetensors_io.encode({"b": np.zeros(3, np.float32), "a": np.arange(2, dtype=np.int64)}, {"k": "v"})
    length = struct.unpack("<Q", data[:8])[0]
    assert (8 + length) % 8 == 0
    header = json.loads(data[8:8 + length])
    assert header["a"] == {"data_offsets": [0, 16], "dtype": "I64", "shape": [2]}
    assert header["b"]["data_offsets"] == [16, 28]
    back = safetensors_io.decode(data, "x")
    assert back.tensor("a", "I64", [2]).tolist() == [0, 1]
    with pytest.raises(CSNTorchError, match="tensor 'a' is I64, expected F32"):
        back.tensor("a", "F32")
