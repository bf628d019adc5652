"""TensorBoard event files written by hand: protobuf wire format, CRC-32C and TFRecord framing,
so that the `runs` category can write valid files and damage them exactly. Standard library only.

Field numbers are TensorBoard's (event.proto, summary.proto, tensor.proto, tensor_shape.proto):
Event{wall_time=1 double, step=2 int64, file_version=3, summary=5}, Summary{value=1},
Summary.Value{tag=1, simple_value=2 float, image=4, histo=5, tensor=8, metadata=9},
TensorProto{dtype=1, tensor_shape=2, tensor_content=4, float_val=5, double_val=6, int_val=7,
int64_val=10, half_val=13}, TensorShapeProto{dim=2}, Dim{size=1}."""

from __future__ import annotations

import struct

DT_FLOAT, DT_DOUBLE, DT_INT32, DT_INT64, DT_BFLOAT16, DT_HALF = 1, 2, 3, 9, 14, 19

# ---------------------------------------------------------------- CRC-32C

_POLY = 0x82F63B78
_TABLE = []
for _b in range(256):
    _c = _b
    for _ in range(8):
        _c = (_c >> 1) ^ _POLY if _c & 1 else _c >> 1
    _TABLE.append(_c)


def _update(reg: int, data: bytes) -> int:
    table = _TABLE
    for byte in data:
        reg = table[(reg ^ byte) & 0xFF] ^ (reg >> 8)
    return reg


def _apply(matrix, vec: int) -> int:
    out, i = 0, 0
    while vec:
        if vec & 1:
            out ^= matrix[i]
        vec >>= 1
        i += 1
    return out


_ZERO_BYTE = [_update(1 << i, b"\x00") for i in range(32)]   # the register operator of one zero byte


def _zeros(reg: int, count: int) -> int:
    """The register after `count` zero bytes, in O(log count) (the operator is linear over GF(2))."""
    op = _ZERO_BYTE
    while count:
        if count & 1:
            reg = _apply(op, reg)
        count >>= 1
        if count:
            op = [_apply(op, col) for col in op]
    return reg


def crc32c(data: bytes, trailing_zeros: int = 0) -> int:
    """CRC-32C of data followed by `trailing_zeros` zero bytes."""
    reg = _update(0xFFFFFFFF, data)
    if trailing_zeros:
        reg = _zeros(reg, trailing_zeros)
    return reg ^ 0xFFFFFFFF


def mask(crc: int) -> int:
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def masked_crc(data: bytes, trailing_zeros: int = 0) -> int:
    return mask(crc32c(data, trailing_zeros))


# ---------------------------------------------------------------- protobuf wire format

def varint(n: int) -> bytes:
    n &= (1 << 64) - 1           # negative int64 values take ten bytes, as protobuf writes them
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def key(field: int, wire: int) -> bytes:
    return varint((field << 3) | wire)


def ld(field: int, payload: bytes) -> bytes:
    """A length-delimited field."""
    return key(field, 2) + varint(len(payload)) + payload


def f64(field: int, value: float) -> bytes:
    return key(field, 1) + struct.pack("<d", value)


def f32(field: int, value: float) -> bytes:
    return key(field, 5) + struct.pack("<f", value)


def vint(field: int, value: int) -> bytes:
    return key(field, 0) + varint(value)


def tensor(dtype: int, dims=(), content: bytes = None, float_val=None, double_val=None, int_val=None,
           int64_val=None, half_val=None) -> bytes:
    body = vint(1, dtype) if dtype else b""
    body += ld(2, b"".join(ld(2, vint(1, d)) for d in dims))
    if content is not None:
        body += ld(4, content)
    if float_val is not None:
        body += ld(5, b"".join(struct.pack("<f", v) for v in float_val))
    if double_val is not None:
        body += ld(6, b"".join(struct.pack("<d", v) for v in double_val))
    if int_val is not None:
        body += ld(7, b"".join(varint(v) for v in int_val))
    if int64_val is not None:
        body += ld(10, b"".join(varint(v) for v in int64_val))
    if half_val is not None:
        body += ld(13, b"".join(varint(v) for v in half_val))
    return body


def value(tag, simple=None, tensor_bytes=None, extra=b"") -> bytes:
    """A Summary.Value; tag is str or raw bytes."""
    raw = tag if isinstance(tag, bytes) else tag.encode("utf-8")
    body = ld(1, raw)
    if simple is not None:
        body += f32(2, simple)
    if tensor_bytes is not None:
        body += ld(8, tensor_bytes)
    return body + extra


def event(step: int, values=(), wall_time: float = 1.7e9, extra=b"") -> bytes:
    """An Event with a Summary of the given Summary.Value encodings."""
    body = f64(1, wall_time) + vint(2, step) if step != 0 else f64(1, wall_time)
    body += ld(5, b"".join(ld(1, v) for v in values))
    return body + extra


def version_event(wall_time: float = 1.7e9) -> bytes:
    return f64(1, wall_time) + ld(3, b"brain.Event:2")


# ---------------------------------------------------------------- TFRecord framing

def frame(data: bytes, length=None, length_crc=None, data_crc=None) -> bytes:
    """One record; length / length_crc / data_crc override the honest values (to lie)."""
    n = len(data) if length is None else length
    head = struct.pack("<Q", n & ((1 << 64) - 1))
    lc = masked_crc(head) if length_crc is None else length_crc
    dc = masked_crc(data) if data_crc is None else data_crc
    return head + struct.pack("<I", lc & 0xFFFFFFFF) + data + struct.pack("<I", dc & 0xFFFFFFFF)


def frame_zero_padded(prefix: bytes, zeros: int) -> bytes:
    """A record whose data is `prefix` then `zeros` zero bytes, its CRC computed without touching
    every byte (for records of tens of MiB)."""
    n = len(prefix) + zeros
    head = struct.pack("<Q", n)
    return (head + struct.pack("<I", masked_crc(head)) + prefix + bytes(zeros)
            + struct.pack("<I", masked_crc(prefix, zeros)))


def header_only(length: int) -> bytes:
    """The 12-byte header of a record of `length` bytes with a valid length checksum."""
    head = struct.pack("<Q", length & ((1 << 64) - 1))
    return head + struct.pack("<I", masked_crc(head))
