"""Tiny writers (and one reader) for the file formats csn reads: safetensors, csn datasets,
gzip, PNG and .npy, plus deliberately broken gzip streams. Standard library only."""

from __future__ import annotations

import gzip
import json
import struct
import zlib
from pathlib import Path

DTYPE_SIZE = {"U8": 1, "I32": 4, "I64": 8, "F32": 4, "F64": 8}
DTYPE_FMT = {"U8": "B", "I32": "i", "I64": "q", "F32": "f", "F64": "d"}


# ---------------------------------------------------------------- safetensors

class Archive:
    """Tensors as (dtype, shape, raw bytes) plus string metadata."""

    def __init__(self, tensors=None, metadata=None):
        self.tensors: dict[str, tuple[str, list[int], bytes]] = dict(tensors or {})
        self.metadata: dict[str, str] = dict(metadata or {})

    def copy(self) -> "Archive":
        return Archive({k: (d, list(s), b) for k, (d, s, b) in self.tensors.items()}, dict(self.metadata))

    def values(self, name):
        dtype, _, data = self.tensors[name]
        n = len(data) // DTYPE_SIZE[dtype]
        return list(struct.unpack("<%d%s" % (n, DTYPE_FMT[dtype]), data))

    def put(self, name, dtype, shape, values):
        self.tensors[name] = (dtype, list(shape), pack(dtype, values))

    def encode(self, header_override=None, pad=True) -> bytes:
        return st_encode(self.tensors, self.metadata, header_override, pad)


def pack(dtype: str, values) -> bytes:
    values = list(values)
    return struct.pack("<%d%s" % (len(values), DTYPE_FMT[dtype]), *values)


def st_header(tensors, metadata):
    header, offset = {}, 0
    for name in sorted(tensors):
        dtype, shape, data = tensors[name]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    if metadata:
        header["__metadata__"] = dict(metadata)
    return header


def st_encode(tensors, metadata, header_override=None, pad=True) -> bytes:
    """safetensors bytes; header_override(header_dict) may edit the header before it is written."""
    header = st_header(tensors, metadata)
    if header_override is not None:
        header = header_override(header) or header
    raw = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if pad:
        raw += b" " * ((8 - (8 + len(raw)) % 8) % 8)
    body = b"".join(tensors[name][2] for name in sorted(tensors))
    return struct.pack("<Q", len(raw)) + raw + body


def st_decode(data: bytes) -> Archive:
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    start = 8 + n
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, entry in header.items():
        a, b = entry["data_offsets"]
        tensors[name] = (entry["dtype"], entry["shape"], data[start + a:start + b])
    return Archive(tensors, meta)


def read_archive(path) -> Archive:
    data = Path(path).read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return st_decode(data)


# ---------------------------------------------------------------- csn datasets

def dataset_archive(n=12, size=8, conditions=None, seed=0) -> Archive:
    """A small valid csn dataset built directly (for when no imported one is at hand).
    Images alternate splits train/val/test; conditions are [(name, values, rule, threshold)]."""
    conditions = conditions or [("shape", ["a", "b", "c"], "categorical", None)]
    a = Archive()
    a.put("images", "U8", [n, size, size], [(i * 7 + j) % 256 for i in range(n) for j in range(size * size)])
    header = []
    for name, values, rule, threshold in conditions:
        labels = [i % len(values) for i in range(n)]
        a.put("condition." + name, "I32", [n], labels)
        entry = {"name": name, "values": values, "rule": rule}
        if rule == "ordinal":
            entry["threshold"] = threshold
            a.put("ordinal." + name, "F32", [n], [float(x) for x in labels])
        header.append(entry)
    a.put("group", "I32", [n], [0] * n)
    splits = [(i // 3) % 3 for i in range(n)]
    a.put("split", "U8", [n], splits)
    for split, tname in ((1, "triplets.val"), (2, "triplets.test")):
        rows = []
        members = [i for i in range(n) if splits[i] == split]
        k = len(conditions[0][1])
        for anchor in members:
            pos = [m for m in members if m != anchor and labels_of(m, k) == labels_of(anchor, k)]
            neg = [m for m in members if labels_of(m, k) != labels_of(anchor, k)]
            if pos and neg:
                rows.append([0, anchor, pos[0], neg[0]])
        a.put(tname, "I32", [len(rows), 4], [x for r in rows for x in r])
    a.metadata = {
        "format": "csn-dataset/1", "image_size": str(size), "channels": "1",
        "conditions": json.dumps(header), "groups": json.dumps(["g"]),
        "image_names": json.dumps(["img%d.png" % i for i in range(n)]), "provenance": json.dumps({"by": "hostile"}),
    }
    return a


def labels_of(i, k):
    return i % k


def conditions_of(a: Archive) -> list[dict]:
    return json.loads(a.metadata["conditions"])


# ---------------------------------------------------------------- gzip

def gz(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6, mtime=0)


def lying_gzip() -> bytes:
    """A 20-byte gzip member of an empty deflate stream whose ISIZE trailer claims 0xFFFFFFF0 bytes."""
    head = b"\x1f\x8b\x08\x00" + b"\x00\x00\x00\x00" + b"\x00\xff"
    body = b"\x03\x00"  # empty final fixed-Huffman block
    return head + body + struct.pack("<II", 0, 0xFFFFFFF0)


def gzip_bomb(path, total=1 << 30, chunk=1 << 20, prefix=b"") -> None:
    """Writes a gzip file that inflates to `prefix` + `total` zero bytes, streaming so that Python
    never holds more than one chunk."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    crc, size = 0, 0
    zeros = bytes(chunk)
    with open(path, "wb") as f:
        f.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff")
        if prefix:
            f.write(comp.compress(prefix))
            crc, size = zlib.crc32(prefix, crc), size + len(prefix)
        left = total
        while left > 0:
            piece = zeros if left >= chunk else bytes(left)
            f.write(comp.compress(piece))
            crc, size, left = zlib.crc32(piece, crc), size + len(piece), left - len(piece)
        f.write(comp.flush())
        f.write(struct.pack("<II", crc & 0xFFFFFFFF, size & 0xFFFFFFFF))


# ---------------------------------------------------------------- PNG

def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width: int, height: int, pixels=None, claim=None) -> bytes:
    """An 8-bit greyscale PNG. pixels: bytes of width*height (default a gradient). claim=(w, h)
    writes those dimensions into IHDR while keeping the real pixel data."""
    if pixels is None:
        pixels = bytes((x * 255 // max(width - 1, 1)) for _ in range(height) for x in range(width))
    raw = b"".join(b"\x00" + pixels[y * width:(y + 1) * width] for y in range(height))
    w, h = claim or (width, height)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(raw)) + _chunk(b"IEND", b"")


def shape_image(size: int, shape: int, tone: int, jitter: int = 0) -> bytes:
    """A size x size grey image: a disc, square or bar, dark or light on the other shade."""
    fg, bg = (40, 220) if tone == 0 else (220, 40)
    c = size / 2 + (jitter % 3) - 1
    r = size * 0.3
    out = bytearray()
    for y in range(size):
        for x in range(size):
            dx, dy = x - c, y - c
            inside = (dx * dx + dy * dy <= r * r) if shape == 0 else \
                (abs(dx) <= r and abs(dy) <= r) if shape == 1 else (abs(dx) <= r and abs(dy) <= r / 3)
            out.append(fg if inside else bg)
    return bytes(out)


# ---------------------------------------------------------------- .npy

def npy(header: str | bytes, data: bytes, version=(1, 0), header_len=None) -> bytes:
    """An .npy file with a literal header dict text; header_len overrides the length field (to lie)."""
    h = header.encode("latin-1") if isinstance(header, str) else header
    wide = version[0] >= 2
    total = (12 if wide else 10) + len(h) + 1
    h = h + b" " * ((64 - total % 64) % 64) + b"\n"
    n = len(h) if header_len is None else header_len
    length = struct.pack("<I", n & 0xFFFFFFFF) if wide else struct.pack("<H", n & 0xFFFF)
    return b"\x93NUMPY" + bytes(version) + length + h + data


def npy_f32(rows, fortran=False, dtype="<f4") -> bytes:
    fmt = {"<f4": "<%df", "<f8": "<%dd", ">f4": ">%df"}[dtype]
    r, c = len(rows), len(rows[0]) if rows else 0
    flat = [rows[i][j] for j in range(c) for i in range(r)] if fortran else [x for row in rows for x in row]
    head = "{'descr': '%s', 'fortran_order': %s, 'shape': (%d, %d), }" % (dtype, fortran, r, c)
    return npy(head, struct.pack(fmt % len(flat), *flat))
