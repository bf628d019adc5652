"""Safetensors bytes read and written the way csn does (Sources/Basics/SafeTensors.swift).

csn's own reader checks every size before it trusts it and names the file in each error; this
module gives the same checks and messages, so that a file csn refuses is refused here for the
same reason. Writing lays tensors out in name order with sorted header keys, padded to 8 bytes.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass

import numpy as np

from .errors import CSNTorchError

# csn's dtypes and their little-endian numpy equivalents.
DTYPES: dict[str, np.dtype] = {
    "U8": np.dtype("u1"),
    "I32": np.dtype("<i4"),
    "I64": np.dtype("<i8"),
    "F32": np.dtype("<f4"),
}
_NAMES = {np.dtype(v).newbyteorder("<"): k for k, v in DTYPES.items()}
_MAX_HEADER = 100_000_000
_INT64_MAX = (1 << 63) - 1


@dataclass
class Archive:
    """Named arrays and string metadata of one safetensors file."""

    tensors: dict[str, np.ndarray]
    dtypes: dict[str, str]
    metadata: dict[str, str]
    source: str

    def tensor(self, name: str, dtype: str, shape: list[int] | None = None) -> np.ndarray:
        """The tensor `name`, checked for dtype and (when given) shape, as csn checks it."""
        if name not in self.tensors:
            raise CSNTorchError.file(self.source, f"missing tensor '{name}'")
        if self.dtypes[name] != dtype:
            raise CSNTorchError.file(self.source, f"tensor '{name}' is {self.dtypes[name]}, expected {dtype}")
        array = self.tensors[name]
        if shape is not None and list(array.shape) != list(shape):
            raise CSNTorchError.file(self.source, f"tensor '{name}' has shape {list(array.shape)}, expected {list(shape)}")
        return array


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _reject_constant(name: str) -> float:
    # JSON has no NaN or Infinity; csn's parser refuses them, so this one does too.
    raise ValueError(name)


def parse_json(data: bytes) -> object:
    """Strict JSON (UTF-8, no NaN/Infinity); raises ValueError on anything else."""
    return json.loads(data.decode("utf-8"), parse_constant=_reject_constant)


def decode(data: bytes, source: str) -> Archive:
    """Parses and checks safetensors bytes; every error names `source`."""
    if len(data) < 8:
        raise CSNTorchError.file(source, f"too short for a safetensors file ({len(data)} bytes)")
    header_length = struct.unpack("<Q", data[:8])[0]
    if not (1 < header_length <= _MAX_HEADER and header_length <= len(data) - 8):
        raise CSNTorchError.file(
            source,
            f"safetensors header length {header_length} does not fit in a file of {len(data)} bytes "
            "(truncated or not safetensors)",
        )
    data_start = 8 + header_length
    try:
        header = parse_json(data[8:data_start])
    except (ValueError, RecursionError):
        header = None
    if not isinstance(header, dict):
        raise CSNTorchError.file(source, "the safetensors header is not a JSON object")
    data_length = len(data) - data_start
    tensors: dict[str, np.ndarray] = {}
    dtypes: dict[str, str] = {}
    metadata: dict[str, str] = {}
    for name, entry in header.items():
        if name == "__metadata__":
            if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
                raise CSNTorchError.file(source, "__metadata__ must map strings to strings")
            metadata = dict(entry)
            continue
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("dtype"), str)
            and isinstance(entry.get("shape"), list)
            and all(_is_int(s) for s in entry["shape"])
            and isinstance(entry.get("data_offsets"), list)
            and len(entry["data_offsets"]) == 2
            and all(_is_int(o) for o in entry["data_offsets"])
        ):
            raise CSNTorchError.file(source, f"tensor '{name}' has a malformed header entry")
        dtype_name, shape, (begin, end) = entry["dtype"], entry["shape"], entry["data_offsets"]
        if dtype_name not in DTYPES:
            raise CSNTorchError.file(source, f"tensor '{name}' has unsupported dtype {dtype_name}")
        if any(s < 0 for s in shape) or begin < 0 or begin > end:
            raise CSNTorchError.file(source, f"tensor '{name}' has a negative shape or offsets")
        if end > data_length:
            raise CSNTorchError.file(
                source, f"tensor '{name}' ends at byte {end} but the data has {data_length} bytes (truncated file)"
            )
        itemsize = DTYPES[dtype_name].itemsize
        expected = itemsize
        for s in shape:
            expected *= s
        if len(shape) > 8 or expected > _INT64_MAX:
            raise CSNTorchError.file(source, f"tensor '{name}' has shape {shape}, whose size overflows")
        if end - begin != expected:
            raise CSNTorchError.file(
                source, f"tensor '{name}' has {end - begin} bytes but shape {shape} of {dtype_name} needs {expected}"
            )
        count = expected // itemsize
        array = np.frombuffer(data, dtype=DTYPES[dtype_name], count=count, offset=data_start + begin)
        tensors[name] = array.reshape(shape)
        dtypes[name] = dtype_name
    return Archive(tensors=tensors, dtypes=dtypes, metadata=metadata, source=source)


def encode(tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> bytes:
    """The file's bytes, laid out as csn writes them: tensors in name order, header keys sorted."""
    header: dict[str, object] = {}
    blobs: list[bytes] = []
    offset = 0
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name])
        dtype = array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" else array.dtype
        if dtype not in _NAMES:
            raise TypeError(f"tensor '{name}' has dtype {array.dtype}, which csn files do not hold")
        blob = array.astype(dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _NAMES[dtype], "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    if metadata:
        header["__metadata__"] = dict(metadata)
    text = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    # Pad with spaces so that the data starts 8-byte aligned, as the reference writer does.
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)
